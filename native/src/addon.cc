// N-API bindings: sgemm, sgemmStridedBatched, setThreads, getThreads, kernel (the element-wise, attention, strided
// copy, convolution patch and optimiser kernels register themselves from elementwise.cc, attention.cc,
// strided_copy.cc, conv_taps.cc and training.cc). Float32Arrays are used in place (zero-copy); every offset, leading dimension and length is checked
// before any memory is touched.
#include "attention.h"
#include "conv_taps.h"
#include "elementwise.h"
#include "gemm.h"
#include "js_args.h"
#include "kernel_select.h"
#include "strided_copy.h"
#include "thread_pool.h"
#include "training.h"

namespace pixelllm {
namespace {

// Reads the arguments shared by both GEMM entries. `strided` selects the layout with a stride after each
// leading dimension.
struct GemmCall {
  Gemm g{};
  index_t strideA = 0, strideB = 0, strideC = 0, batch = 1;
};

bool read_gemm(ArgReader& r, bool strided, GemmCall* call) {
  Gemm& g = call->g;
  size_t i = 0;
  g.transA = r.boolean(i++, "transA");
  g.transB = r.boolean(i++, "transB");
  g.M = r.integer(i++, "M");
  g.N = r.integer(i++, "N");
  g.K = r.integer(i++, "K");
  g.alpha = static_cast<float>(r.number(i++, "alpha"));
  const F32Array A = r.f32(i++, "A");
  const index_t offA = r.integer(i++, "offA");
  g.lda = r.integer(i++, "lda", 1);
  if (strided) call->strideA = r.integer(i++, "strideA");
  const F32Array B = r.f32(i++, "B");
  const index_t offB = r.integer(i++, "offB");
  g.ldb = r.integer(i++, "ldb", 1);
  if (strided) call->strideB = r.integer(i++, "strideB");
  g.beta = static_cast<float>(r.number(i++, "beta"));
  const F32Array C = r.f32(i++, "C");
  const index_t offC = r.integer(i++, "offC");
  g.ldc = r.integer(i++, "ldc", 1);
  if (strided) {
    call->strideC = r.integer(i++, "strideC");
    call->batch = r.integer(i++, "batch");
  }
  if (!r.ok()) return false;

  // Stored shapes: op(A) is M×K, op(B) is K×N. A and B are not read when K == 0 (or M/N == 0).
  const bool reads = g.M > 0 && g.N > 0 && g.K > 0;
  r.matrix(A, "A", offA, "offA", g.transA ? g.K : g.M, g.transA ? g.M : g.K, g.lda, "lda", reads ? call->batch : 0,
           call->strideA, "strideA");
  r.matrix(B, "B", offB, "offB", g.transB ? g.N : g.K, g.transB ? g.K : g.N, g.ldb, "ldb", reads ? call->batch : 0,
           call->strideB, "strideB");
  r.matrix(C, "C", offC, "offC", g.M, g.N, g.ldc, "ldc", call->batch, call->strideC, "strideC");
  if (!r.ok()) return false;
  g.A = A.data + offA;
  g.B = B.data + offB;
  g.C = C.data + offC;
  return true;
}

napi_value Sgemm(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "sgemm", 16);
  GemmCall call;
  if (!r.ok() || !read_gemm(r, false, &call)) return nullptr;
  if (!sgemm(active_kernels(), call.g, ThreadPool::instance().threads()))
    napi_throw_error(env, nullptr, "sgemm: out of memory for packing buffers");
  return undefined(env);
}

napi_value SgemmStridedBatched(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "sgemmStridedBatched", 20);
  GemmCall call;
  if (!r.ok() || !read_gemm(r, true, &call)) return nullptr;
  if (!sgemm_strided_batched(active_kernels(), call.g, call.strideA, call.strideB, call.strideC, call.batch,
                             ThreadPool::instance().threads()))
    napi_throw_error(env, nullptr, "sgemmStridedBatched: out of memory for packing buffers");
  return undefined(env);
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "setThreads", 1);
  const index_t n = r.integer(0, "n", 1);
  if (!r.ok()) return nullptr;
  ThreadPool::instance().set_threads(n > 1024 ? 1024 : static_cast<int>(n));
  return undefined(env);
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_int32(env, ThreadPool::instance().threads(), &v);
  return v;
}

napi_value Kernel(napi_env env, napi_callback_info) {
  napi_value v;
  napi_create_string_utf8(env, active_kernels().name, NAPI_AUTO_LENGTH, &v);
  return v;
}

}  // namespace
}  // namespace pixelllm

NAPI_MODULE_INIT() {
  using namespace pixelllm;
  const napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sgemmStridedBatched", nullptr, SgemmStridedBatched, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"kernel", nullptr, Kernel, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  register_elementwise(env, exports);
  register_attention(env, exports);
  register_strided_copy(env, exports);
  register_conv_taps(env, exports);
  register_training(env, exports);
  return exports;
}
