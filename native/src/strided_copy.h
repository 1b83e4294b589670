// A strided float32 view copied into contiguous storage (a permute's or a slice's copy).
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>

namespace pixelllm {

// Adds copyStridedF32 to `exports`.
void register_strided_copy(napi_env env, napi_value exports);

}  // namespace pixelllm
