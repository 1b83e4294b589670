// M == 1 or N == 1: every weight is used once, so the goal is streaming memory at full bandwidth, not
// blocking for cache. Both reduce to one of two kernels:
//   dot  — the weights are stored with the reduction dimension contiguous (y[r] = W[r,:]·x);
//   axpy — the weights are stored with the output dimension contiguous (y[:] = Σ_k x[k]·W[k,:]).
// Threads split the outputs, so each reads a disjoint part of the weights.
#include <algorithm>
#include <atomic>

#include "gemm.h"
#include "thread_pool.h"
#include "workspace.h"

namespace pixelllm {
namespace {

// Below this many weights (256 KiB, L2-resident) a second thread gains nothing (measured: 1×256×256 about
// even, 1×512×512 ~2× faster on two threads).
constexpr index_t kParallelMinElements = index_t(1) << 16;

}  // namespace

bool sgemv(const KernelSet& ks, const Gemm& g, int threads) {
  // Describe the product as y (len R, stride incy) = alpha·Wop·x + beta·y over the reduction length K.
  const float* W;
  index_t ldw, R, incy;
  bool dot;
  const float* xsrc;
  index_t incx;
  if (g.M == 1) {
    R = g.N;
    incy = 1;
    xsrc = g.A;
    incx = g.transA ? g.lda : 1;  // op(A) is 1×K; transposed storage is K×1
    W = g.B;
    ldw = g.ldb;
    dot = g.transB;  // B stored N×K: each output is a dot product of a contiguous row
  } else {
    R = g.M;
    incy = g.ldc;
    xsrc = g.B;
    incx = g.transB ? 1 : g.ldb;  // op(B) is K×1; untransposed storage is K×1 with stride ldb
    W = g.A;
    ldw = g.lda;
    dot = !g.transA;  // A stored M×K: each output is a dot product of a contiguous row
  }
  const index_t K = g.K;

  const float* x = xsrc;
  if (incx != 1) {
    float* buf = thread_workspace().x.get(static_cast<std::size_t>(K));
    if (buf == nullptr) return false;
    for (index_t k = 0; k < K; ++k) buf[k] = xsrc[k * incx];
    x = buf;
  }

  int tasks = 1;
  if (threads > 1 && R * K >= kParallelMinElements) tasks = static_cast<int>(std::min<index_t>(threads, R));
  // axpy splits columns on cache-line (16-float) boundaries so two threads never write the same line.
  const index_t unit = dot ? 1 : 16;
  const index_t chunk = (((R + tasks - 1) / tasks) + unit - 1) / unit * unit;
  tasks = static_cast<int>((R + chunk - 1) / chunk);

  std::atomic<bool> ok{true};
  auto part = [&](int t) {
    const index_t r0 = t * chunk, r1 = std::min(R, r0 + chunk);
    if (r0 >= r1) return;
    if (dot) {
      ks.gemv_dot(r1 - r0, K, W + r0 * ldw, ldw, x, g.alpha, g.beta, g.C + r0 * incy, incy);
    } else {
      float* work = thread_workspace().work.get(static_cast<std::size_t>(r1 - r0));
      if (work == nullptr) {
        ok = false;
        return;
      }
      ks.gemv_axpy(K, r1 - r0, W + r0, ldw, x, g.alpha, g.beta, g.C + r0 * incy, incy, work);
    }
  };
  if (tasks <= 1)
    part(0);
  else
    ThreadPool::instance().run(tasks, part);
  return ok;
}

}  // namespace pixelllm
