// N-API bindings of the float32 element-wise, softmax and normalisation kernels (contract:
// src/tensor/backend/elementwise_native.ts). Every opcode, offset and length is checked before memory is touched;
// calls of at least kParallelMin elements are split over the thread pool, smaller ones (common) run inline.
#include "elementwise.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "cpu_features.h"
#include "js_args.h"
#include "thread_pool.h"

namespace pixelllm {
namespace {

// Below this many elements a second thread costs more than it saves (waking it is a few microseconds).
constexpr index_t kParallelMin = 32768;

// PIXELLLM_KERNEL=scalar forces the portable kernels (as it does for GEMM), for tests.
const EltKernels& kernels() {
  static const EltKernels* k = [] {
    const char* want = std::getenv("PIXELLLM_KERNEL");
    const bool scalar = want != nullptr && std::strcmp(want, "scalar") == 0;
    return !scalar && cpu_has_avx2() && elt_kernels_avx2() != nullptr ? elt_kernels_avx2() : elt_kernels_scalar();
  }();
  return *k;
}

int tasks_for(index_t work, index_t max_tasks) {
  if (work < kParallelMin) return 1;
  index_t t = ThreadPool::instance().threads();
  if (t > work / (kParallelMin / 2)) t = work / (kParallelMin / 2);
  if (t > max_tasks) t = max_tasks;
  return t < 1 ? 1 : static_cast<int>(t);
}

// Runs fn(begin, end) over [0, n) in `tasks` pieces whose boundaries fall on multiples of `align`.
template <class F>
void split(index_t n, int tasks, index_t align, F&& fn) {
  if (tasks <= 1) return fn(index_t{0}, n);
  const index_t chunk = ((n + tasks - 1) / tasks + align - 1) / align * align;
  ThreadPool::instance().run(tasks, [&](int t) {
    const index_t begin = t * chunk;
    const index_t end = begin + chunk < n ? begin + chunk : n;
    if (begin < end) fn(begin, end);
  });
}

// Checks that `count` values from `off` lie inside an array of `length`.
void span(ArgReader& r, index_t length, const char* name, index_t off, const char* off_name, index_t count) {
  if (!r.ok()) return;
  if (off > length) {
    r.range_error("argument '%s' (%td) is past the end of %s (length %td)", off_name, off, name, length);
  } else if (count > length - off) {
    if (off_name[0] != '\0')
      r.range_error("%s (length %td) is too short for %td values at %s %td", name, length, count, off_name, off);
    else
      r.range_error("%s (length %td) is too short for %td values", name, length, count);
  }
}

// rows·cols, or a RangeError if it overflows.
index_t elements(ArgReader& r, index_t rows, index_t cols) {
  if (!r.ok()) return 0;
  if (rows != 0 && cols > PTRDIFF_MAX / rows) {
    r.range_error("rows × cols (%td × %td) is too large", rows, cols);
    return 0;
  }
  return rows * cols;
}

index_t opcode(ArgReader& r, size_t i, const char* name, int count) {
  const index_t op = r.integer(i, name);
  if (r.ok() && op >= count) r.range_error("argument '%s' (%td) must be below %d", name, op, count);
  return op;
}

napi_value UnaryF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "unaryF32", 6);
  const index_t op = opcode(r, 0, "op", kUnaryOpCount);
  const F32Array x = r.f32(1, "x");
  const index_t offX = r.integer(2, "offX");
  const F32Array y = r.f32(3, "y");
  const index_t offY = r.integer(4, "offY");
  const index_t n = r.integer(5, "n");
  span(r, x.length, "x", offX, "offX", n);
  span(r, y.length, "y", offY, "offY", n);
  if (!r.ok()) return nullptr;
  const EltKernels& k = kernels();
  const float* xs = x.data + offX;
  float* ys = y.data + offY;
  split(n, tasks_for(n, n), 16, [&](index_t b, index_t e) { k.unary(static_cast<int>(op), xs + b, ys + b, e - b); });
  return undefined(env);
}

napi_value BinaryF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "binaryF32", 11);
  const index_t op = opcode(r, 0, "op", kBinaryOpCount);
  const F32Array a = r.f32(1, "a");
  const index_t offA = r.integer(2, "offA");
  const F32Array b = r.f32(3, "b");
  const index_t offB = r.integer(4, "offB");
  const F32Array y = r.f32(5, "y");
  const index_t offY = r.integer(6, "offY");
  const index_t rows = r.integer(7, "rows");
  const index_t cols = r.integer(8, "cols");
  const index_t mode = opcode(r, 9, "bMode", kBModeCount);
  const bool swap = r.boolean(10, "swap");
  const index_t n = elements(r, rows, cols);
  const index_t nb = n == 0 ? 0 : mode == kSame ? n : mode == kRow ? cols : mode == kColumn ? rows : 1;
  span(r, a.length, "a", offA, "offA", n);
  span(r, b.length, "b", offB, "offB", nb);
  span(r, y.length, "y", offY, "offY", n);
  if (!r.ok()) return nullptr;
  if (n == 0) return undefined(env);
  const EltKernels& k = kernels();
  const float *as = a.data + offA, *bs = b.data + offB;
  float* ys = y.data + offY;
  split(n, tasks_for(n, n), 16, [&](index_t lo, index_t hi) {
    k.binary(static_cast<int>(op), as, bs, ys, cols, static_cast<int>(mode), swap, lo, hi);
  });
  return undefined(env);
}

napi_value SoftmaxForward(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "softmaxForward", 5);
  const F32Array x = r.f32(0, "x");
  const F32Array y = r.f32(1, "y");
  const index_t rows = r.integer(2, "rows");
  const index_t cols = r.integer(3, "cols");
  const bool log = r.boolean(4, "log");
  const index_t n = elements(r, rows, cols);
  span(r, x.length, "x", 0, "", n);
  span(r, y.length, "y", 0, "", n);
  if (!r.ok()) return nullptr;
  if (rows == 0 || cols == 0) return undefined(env);  // nothing to compute, and no 0/0 in the task split
  const EltKernels& k = kernels();
  split(rows, tasks_for(n, rows), 1, [&](index_t r0, index_t r1) {
    k.softmax_forward(x.data + r0 * cols, y.data + r0 * cols, r1 - r0, cols, log);
  });
  return undefined(env);
}

napi_value SoftmaxBackward(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "softmaxBackward", 6);
  const F32Array y = r.f32(0, "y");
  const F32Array g = r.f32(1, "g");
  const F32Array dx = r.f32(2, "dx");
  const index_t rows = r.integer(3, "rows");
  const index_t cols = r.integer(4, "cols");
  const bool log = r.boolean(5, "log");
  const index_t n = elements(r, rows, cols);
  span(r, y.length, "y", 0, "", n);
  span(r, g.length, "g", 0, "", n);
  span(r, dx.length, "dx", 0, "", n);
  if (!r.ok()) return nullptr;
  if (rows == 0 || cols == 0) return undefined(env);  // nothing to compute, and no 0/0 in the task split
  const EltKernels& k = kernels();
  split(rows, tasks_for(n, rows), 1, [&](index_t r0, index_t r1) {
    const index_t o = r0 * cols;
    k.softmax_backward(y.data + o, g.data + o, dx.data + o, r1 - r0, cols, log);
  });
  return undefined(env);
}

napi_value NormForward(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "normForward", 10);
  const F32Array x = r.f32(0, "x");
  const F32Array w = r.f32_or_null(1, "w");
  const F32Array b = r.f32_or_null(2, "b");
  const F32Array y = r.f32(3, "y");
  const F32Array mean = r.f32(4, "mean");
  const F32Array rstd = r.f32(5, "rstd");
  const index_t rows = r.integer(6, "rows");
  const index_t cols = r.integer(7, "cols");
  const double eps = r.number(8, "eps");
  const bool rms = r.boolean(9, "rms");
  const index_t n = elements(r, rows, cols);
  span(r, x.length, "x", 0, "", n);
  if (w.data) span(r, w.length, "w", 0, "", rows > 0 ? cols : 0);
  if (b.data) span(r, b.length, "b", 0, "", rows > 0 ? cols : 0);
  span(r, y.length, "y", 0, "", n);
  span(r, mean.length, "mean", 0, "", rows);
  span(r, rstd.length, "rstd", 0, "", rows);
  if (!r.ok()) return nullptr;
  if (rows == 0 || cols == 0) return undefined(env);  // nothing to compute, and no 0/0 in the task split
  const EltKernels& k = kernels();
  split(rows, tasks_for(n, rows), 1, [&](index_t r0, index_t r1) {
    const index_t o = r0 * cols;
    k.norm_forward(x.data + o, w.data, b.data, y.data + o, mean.data + r0, rstd.data + r0, r1 - r0, cols, eps, rms);
  });
  return undefined(env);
}

napi_value NormBackward(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "normBackward", 11);
  const F32Array x = r.f32(0, "x");
  const F32Array w = r.f32_or_null(1, "w");
  const F32Array mean = r.f32(2, "mean");
  const F32Array rstd = r.f32(3, "rstd");
  const F32Array g = r.f32(4, "g");
  const F32Array dx = r.f32(5, "dx");
  const F64Array dw = r.f64_or_null(6, "dw");
  const F64Array db = r.f64_or_null(7, "db");
  const index_t rows = r.integer(8, "rows");
  const index_t cols = r.integer(9, "cols");
  const bool rms = r.boolean(10, "rms");
  const index_t n = elements(r, rows, cols);
  const index_t nw = rows > 0 ? cols : 0;
  span(r, x.length, "x", 0, "", n);
  if (w.data) span(r, w.length, "w", 0, "", nw);
  span(r, mean.length, "mean", 0, "", rows);
  span(r, rstd.length, "rstd", 0, "", rows);
  span(r, g.length, "g", 0, "", n);
  span(r, dx.length, "dx", 0, "", n);
  if (dw.data) span(r, dw.length, "dw", 0, "", nw);
  if (db.data) span(r, db.length, "db", 0, "", nw);
  if (!r.ok()) return nullptr;
  if (rows == 0 || cols == 0) return undefined(env);  // nothing to compute, and no 0/0 in the task split
  const EltKernels& k = kernels();
  const int tasks = tasks_for(n, rows);
  // Task 0 adds into dw/db directly; the others into zeroed float64 partials, added in afterwards. Each task
  // also gets 2·cols floats of scratch for the kernel's blockwise sums.
  const int sums = (dw.data ? 1 : 0) + (db.data ? 1 : 0);
  const index_t partial_len = (tasks - 1) * sums * cols;
  const index_t scratch_len = sums > 0 ? tasks * 2 * cols : 0;
  std::unique_ptr<double[]> partial;
  std::unique_ptr<float[]> scratch;
  if (partial_len > 0) partial.reset(new (std::nothrow) double[partial_len]());
  if (scratch_len > 0) scratch.reset(new (std::nothrow) float[scratch_len]);
  if ((partial_len > 0 && !partial) || (scratch_len > 0 && !scratch)) {
    napi_throw_error(env, nullptr, "normBackward: out of memory for the per-thread dw/db sums");
    return nullptr;
  }
  const index_t per_task = (rows + tasks - 1) / tasks;
  split(rows, tasks, 1, [&](index_t r0, index_t r1) {
    const index_t t = r0 / per_task;
    double* pdw = dw.data;
    double* pdb = db.data;
    if (t > 0) {
      double* p = partial.get() + (t - 1) * sums * cols;
      if (pdw) pdw = p, p += cols;
      if (pdb) pdb = p;
    }
    const index_t o = r0 * cols;
    float* ps = scratch ? scratch.get() + t * 2 * cols : nullptr;
    k.norm_backward(x.data + o, w.data, mean.data + r0, rstd.data + r0, g.data + o, dx.data + o, pdw, pdb, ps,
                    r1 - r0, cols, rms);
  });
  for (int t = 1; t < tasks; ++t) {
    const double* p = partial.get() + (t - 1) * sums * cols;
    if (dw.data) {
      for (index_t j = 0; j < cols; ++j) dw.data[j] += p[j];
      p += cols;
    }
    if (db.data)
      for (index_t j = 0; j < cols; ++j) db.data[j] += p[j];
  }
  return undefined(env);
}

napi_value ElementwiseKernel(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_string_utf8(env, kernels().name, NAPI_AUTO_LENGTH, &v);
  return v;
}

}  // namespace

const EltKernels& active_elt_kernels() { return kernels(); }

void register_elementwise(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"unaryF32", nullptr, UnaryF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binaryF32", nullptr, BinaryF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"softmaxForward", nullptr, SoftmaxForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"softmaxBackward", nullptr, SoftmaxBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"normForward", nullptr, NormForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"normBackward", nullptr, NormBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"elementwiseKernel", nullptr, ElementwiseKernel, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace pixelllm
