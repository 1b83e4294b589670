#include "js_args.h"

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>

namespace pixelllm {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

constexpr index_t kIndexMax = PTRDIFF_MAX;

// a*b + c for non-negative operands; false if the result would overflow.
bool mul_add(index_t a, index_t b, index_t c, index_t* out) {
  if (a != 0 && b > kIndexMax / a) return false;
  const index_t p = a * b;
  if (c > kIndexMax - p) return false;
  *out = p + c;
  return true;
}

}  // namespace

ArgReader::ArgReader(napi_env env, napi_callback_info info, const char* fn, size_t expected) : env_(env), fn_(fn) {
  argc_ = sizeof(argv_) / sizeof(argv_[0]);
  if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) {
    type_error("could not read arguments");
    return;
  }
  if (argc_ < expected) type_error("expected %zu arguments, got %zu", expected, argc_);
}

void ArgReader::type_error(const char* fmt, ...) {
  if (!ok_) return;
  ok_ = false;
  char msg[400];
  int n = std::snprintf(msg, sizeof msg, "%s: ", fn_);
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg + n, sizeof msg - n, fmt, ap);
  va_end(ap);
  napi_throw_type_error(env_, nullptr, msg);
}

void ArgReader::range_error(const char* fmt, ...) {
  if (!ok_) return;
  ok_ = false;
  char msg[400];
  int n = std::snprintf(msg, sizeof msg, "%s: ", fn_);
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg + n, sizeof msg - n, fmt, ap);
  va_end(ap);
  napi_throw_range_error(env_, nullptr, msg);
}

bool ArgReader::boolean(size_t i, const char* name) {
  if (!ok_) return false;
  bool v = false;
  if (napi_get_value_bool(env_, argv_[i], &v) != napi_ok) type_error("argument '%s' must be a boolean", name);
  return v;
}

double ArgReader::number(size_t i, const char* name) {
  if (!ok_) return 0;
  double v = 0;
  if (napi_get_value_double(env_, argv_[i], &v) != napi_ok) type_error("argument '%s' must be a number", name);
  return v;
}

index_t ArgReader::integer(size_t i, const char* name, index_t min) {
  const double v = number(i, name);
  if (!ok_) return 0;
  if (!(v >= 0) || v > kMaxSafeInteger || std::floor(v) != v) {
    range_error("argument '%s' must be a non-negative integer, got %g", name, v);
    return 0;
  }
  const index_t r = static_cast<index_t>(v);
  if (r < min) range_error("argument '%s' must be >= %td, got %td", name, min, r);
  return r;
}

F32Array ArgReader::f32(size_t i, const char* name) {
  F32Array out;
  if (!ok_) return out;
  bool is_typed = false;
  napi_is_typedarray(env_, argv_[i], &is_typed);
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  if (!is_typed ||
      napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float32_array) {
    type_error("argument '%s' must be a Float32Array", name);
    return out;
  }
  // `data` already includes the view's byteOffset: no copy, writes land in the caller's buffer.
  out.data = static_cast<float*>(data);
  out.length = static_cast<index_t>(length);
  return out;
}

I32Array ArgReader::i32(size_t i, const char* name) {
  I32Array out;
  if (!ok_) return out;
  bool is_typed = false;
  napi_is_typedarray(env_, argv_[i], &is_typed);
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  if (!is_typed ||
      napi_get_typedarray_info(env_, argv_[i], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int32_array) {
    type_error("argument '%s' must be an Int32Array", name);
    return out;
  }
  out.data = static_cast<const int32_t*>(data);
  out.length = static_cast<index_t>(length);
  return out;
}

void ArgReader::matrix(const F32Array& arr, const char* arr_name, index_t off, const char* off_name, index_t rows,
                       index_t cols, index_t ld, const char* ld_name, index_t batch, index_t stride,
                       const char* stride_name) {
  if (!ok_) return;
  const index_t min_ld = cols > 1 ? cols : 1;
  if (ld < min_ld) {
    range_error("argument '%s' (%td) must be >= %td, the row length of the stored %s (%td×%td)", ld_name, ld, min_ld,
                arr_name, rows, cols);
    return;
  }
  if (off > arr.length) {
    range_error("argument '%s' (%td) is past the end of %s (length %td)", off_name, off, arr_name, arr.length);
    return;
  }
  if (rows == 0 || cols == 0 || batch == 0) return;  // nothing is read or written
  // Last element touched, plus one: off + (batch-1)·stride + (rows-1)·ld + cols.
  index_t end = 0;
  if (!mul_add(rows - 1, ld, cols, &end) || !mul_add(batch - 1, stride, end, &end) || !mul_add(1, off, end, &end) ||
      end > arr.length) {
    if (batch > 1)
      range_error("%s (length %td) is too short for %td matrices of %td×%td with %s %td, %s %td at %s %td", arr_name,
                  arr.length, batch, rows, cols, ld_name, ld, stride_name, stride, off_name, off);
    else
      range_error("%s (length %td) is too short for a %td×%td matrix with %s %td at %s %td", arr_name, arr.length,
                  rows, cols, ld_name, ld, off_name, off);
  }
}

namespace {

// A typed array of `want` type, or null (data stays nullptr); false if `v` is neither. An empty array gets a
// non-null data pointer (it is never dereferenced), so that it stays distinct from null.
bool typed_or_null(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  napi_valuetype t = napi_undefined;
  if (napi_typeof(env, v, &t) == napi_ok && t == napi_null) return true;
  bool is_typed = false;
  napi_typedarray_type type = napi_int8_array;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, length, data, nullptr, nullptr) != napi_ok || type != want)
    return false;
  static double empty;
  if (*data == nullptr) *data = &empty;
  return true;
}

}  // namespace

F32Array ArgReader::f32_or_null(size_t i, const char* name) {
  F32Array out;
  if (!ok_) return out;
  void* data = nullptr;
  size_t length = 0;
  if (!typed_or_null(env_, argv_[i], napi_float32_array, &data, &length)) {
    type_error("argument '%s' must be a Float32Array or null", name);
    return out;
  }
  out.data = static_cast<float*>(data);
  out.length = static_cast<index_t>(length);
  return out;
}

F64Array ArgReader::f64_or_null(size_t i, const char* name) {
  F64Array out;
  if (!ok_) return out;
  void* data = nullptr;
  size_t length = 0;
  if (!typed_or_null(env_, argv_[i], napi_float64_array, &data, &length)) {
    type_error("argument '%s' must be a Float64Array or null", name);
    return out;
  }
  out.data = static_cast<double*>(data);
  out.length = static_cast<index_t>(length);
  return out;
}

napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

}  // namespace pixelllm
