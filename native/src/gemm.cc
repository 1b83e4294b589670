// Dispatch: trivial cases, the one-row path, and how a GEMM is split across threads.
#include "gemm.h"

#include <algorithm>
#include <atomic>

#include "gemm_blocked.h"
#include "thread_pool.h"

namespace pixelllm {
namespace {

// Products under ~0.8 MFLOP (about 4 µs on one core) run on the calling thread: handing part of one to a worker
// costs a few µs (measured: 80³ runs 1.3× and 96³ 1.4× faster on two threads; 64³ runs slower).
constexpr double kParallelMinFlops = 0.8e6;
// In a batch, products under ~8 MFLOP are each run on one thread and the batch is spread over threads.
constexpr double kBatchSerialMaxFlops = 8.0e6;

inline index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// C = beta·C (the product term vanishes: K == 0 or alpha == 0). beta == 0 writes zeros, even over NaN.
void scale_c(const Gemm& g) {
  for (index_t i = 0; i < g.M; ++i) {
    float* c = g.C + i * g.ldc;
    if (g.beta == 0.0f)
      std::fill(c, c + g.N, 0.0f);
    else if (g.beta != 1.0f)
      for (index_t j = 0; j < g.N; ++j) c[j] *= g.beta;
  }
}

bool gemm_on(const KernelSet& ks, const Gemm& g) {
  return gemm_blocked(ks, g.transA, g.transB, g.M, g.N, g.K, g.alpha, g.A, g.lda, g.B, g.ldb, g.beta, g.C, g.ldc);
}

// Fraction of the threads' time that is useful when `tiles` micro-tiles are dealt out in equal chunks.
double balance(index_t tiles, int threads) {
  return static_cast<double>(tiles) / (threads * ceil_div(tiles, threads));
}

// Threads take disjoint column blocks (or row blocks) of C and run the whole loop nest independently. Each
// thread then packs all of the other operand, so split the dimension whose partner operand is smaller:
// columns when M <= N (A is re-packed per thread), rows otherwise; unless the other split balances the
// micro-tiles clearly better (small products: 96 columns are 3 tiles of 32, 96 rows 8 tiles of 12).
bool gemm_parallel(const KernelSet& ks, const Gemm& g, int threads) {
  const index_t tilesN = ceil_div(g.N, ks.nr), tilesM = ceil_div(g.M, ks.mr);
  const double balN = balance(tilesN, threads), balM = balance(tilesM, threads);
  bool splitN = g.M <= g.N;
  if (balN > balM + 0.05) splitN = true;
  if (balM > balN + 0.05) splitN = false;
  const index_t tiles = splitN ? tilesN : tilesM;
  const index_t unit = splitN ? ks.nr : ks.mr;
  const index_t extent = splitN ? g.N : g.M;
  const index_t chunk = ceil_div(tiles, std::min<index_t>(threads, tiles)) * unit;
  const int tasks = static_cast<int>(ceil_div(extent, chunk));
  if (tasks <= 1) return gemm_on(ks, g);

  std::atomic<bool> ok{true};
  ThreadPool::instance().run(tasks, [&](int t) {
    const index_t lo = t * chunk, hi = std::min(extent, lo + chunk);
    Gemm s = g;
    if (splitN) {
      s.N = hi - lo;
      s.B = g.transB ? g.B + lo * g.ldb : g.B + lo;
      s.C = g.C + lo;
    } else {
      s.M = hi - lo;
      s.A = g.transA ? g.A + lo : g.A + lo * g.lda;
      s.C = g.C + lo * g.ldc;
    }
    if (!gemm_on(ks, s)) ok = false;
  });
  return ok;
}

// True when the batch's C blocks cannot share an element, so they may be written concurrently: either each
// block lies wholly before the next, or the blocks interleave within rows (e.g. heads side by side).
bool c_blocks_disjoint(const Gemm& g, index_t strideC, index_t batch) {
  if (batch <= 1) return true;
  const index_t span = (g.M - 1) * g.ldc + g.N;
  if (strideC >= span) return true;
  return g.M > 0 && strideC >= g.N && (batch - 1) * strideC + g.N <= g.ldc;
}

}  // namespace

bool sgemm(const KernelSet& ks, const Gemm& g, int threads) {
  if (g.M <= 0 || g.N <= 0) return true;
  if (g.K <= 0 || g.alpha == 0.0f) {
    scale_c(g);
    return true;
  }
  if (g.M == 1 || g.N == 1) return sgemv(ks, g, threads);
  const double flops = 2.0 * g.M * g.N * g.K;
  if (threads <= 1 || flops < kParallelMinFlops) return gemm_on(ks, g);
  return gemm_parallel(ks, g, threads);
}

bool sgemm_strided_batched(const KernelSet& ks, const Gemm& g, index_t strideA, index_t strideB, index_t strideC,
                           index_t batch, int threads) {
  if (batch <= 0) return true;
  auto item = [&](index_t i) {
    Gemm s = g;
    s.A = g.A + i * strideA;
    s.B = g.B + i * strideB;
    s.C = g.C + i * strideC;
    return s;
  };
  const double flops = 2.0 * g.M * g.N * g.K;
  const bool across_batch = threads > 1 && batch > 1 && flops < kBatchSerialMaxFlops &&
                            flops * batch >= kParallelMinFlops && c_blocks_disjoint(g, strideC, batch);
  if (!across_batch) {
    for (index_t i = 0; i < batch; ++i)
      if (!sgemm(ks, item(i), threads)) return false;
    return true;
  }
  const index_t tasks = std::min<index_t>(threads, batch);
  const index_t per = ceil_div(batch, tasks);
  std::atomic<bool> ok{true};
  ThreadPool::instance().run(static_cast<int>(ceil_div(batch, per)), [&](int t) {
    const index_t lo = t * per, hi = std::min(batch, lo + per);
    for (index_t i = lo; i < hi; ++i)
      if (!sgemm(ks, item(i), 1)) ok = false;
  });
  return ok;
}

}  // namespace pixelllm
