// Reading and checking JS arguments for the N-API bindings. Every problem becomes a JS TypeError/RangeError
// that names the offending argument; after the first error the reader stops and the binding returns.
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>

#include <cstdint>

#include "kernel_set.h"

namespace pixelllm {

struct F32Array {
  float* data = nullptr;
  index_t length = 0;
};

struct F64Array {
  double* data = nullptr;
  index_t length = 0;
};

struct I32Array {
  const int32_t* data = nullptr;
  index_t length = 0;
};

// JS undefined, what a binding that writes into its arguments returns.
napi_value undefined(napi_env env);

class ArgReader {
 public:
  ArgReader(napi_env env, napi_callback_info info, const char* fn, size_t expected);

  bool ok() const { return ok_; }
  bool boolean(size_t i, const char* name);
  double number(size_t i, const char* name);
  // A non-negative integer (below 2^53) that is at least `min`.
  index_t integer(size_t i, const char* name, index_t min = 0);
  F32Array f32(size_t i, const char* name);
  I32Array i32(size_t i, const char* name);
  // A Float32Array or null (returned with data == nullptr).
  F32Array f32_or_null(size_t i, const char* name);
  // A Float64Array or null (returned with data == nullptr).
  F64Array f64_or_null(size_t i, const char* name);

  // Checks that a row-major matrix of rows×cols with leading dimension `ld`, starting at `off` and repeated
  // `batch` times every `stride` elements, lies inside `arr`; also that ld >= max(1, cols).
  void matrix(const F32Array& arr, const char* arr_name, index_t off, const char* off_name, index_t rows,
              index_t cols, index_t ld, const char* ld_name, index_t batch = 1, index_t stride = 0,
              const char* stride_name = "stride");

  void range_error(const char* fmt, ...);
  void type_error(const char* fmt, ...);

 private:
  napi_env env_;
  const char* fn_;
  napi_value argv_[24];
  size_t argc_ = 0;
  bool ok_ = true;
};

}  // namespace pixelllm
