// The optimiser's float32 kernels: an AdamW update and the sum of squares behind gradient clipping, which compute
// in double in the order of their TypeScript fallbacks (src/nn/optim.ts), so the two backends agree bit for bit;
// and a plain sum in double (a reduction over every element, src/tensor/ops/reduce.ts).
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>

namespace pixelllm {

// Adds adamwF32, sumSquaresF32 and sumF32 to `exports`.
void register_training(napi_env env, napi_value exports);

}  // namespace pixelllm
