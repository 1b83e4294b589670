// The optimiser's float32 kernels: an AdamW update and the sum of squares behind gradient clipping. Both compute
// in double in the order of their TypeScript fallbacks (src/nn/optim.ts), so the two backends agree bit for bit.
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>

namespace pixelllm {

// Adds adamwF32 and sumSquaresF32 to `exports`.
void register_training(napi_env env, napi_value exports);

}  // namespace pixelllm
