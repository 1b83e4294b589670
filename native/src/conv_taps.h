// The patch moves behind 2-D convolution (im2col and its adjoint col2im), the loop of moveTaps in src/tensor/ops/conv.ts.
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>

namespace pixelllm {

// Adds moveTapsF32 to `exports`.
void register_conv_taps(napi_env env, napi_value exports);

}  // namespace pixelllm
