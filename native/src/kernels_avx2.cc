// AVX2 + FMA kernels. Compiled with -mavx2 -mfma (see binding.gyp) and only called after kernel_select.cc has
// checked the CPU at run time; without those flags it compiles to a stub.
#include "kernel_set.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <initializer_list>

#include "pack.h"

namespace pixelllm {
namespace {

// 6×16 tile: 12 ymm accumulators + 2 for B + 1 broadcast = 15 of the 16 ymm registers.
constexpr int kMR = 6;
constexpr int kNR = 16;

void micro(index_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c, index_t ldc,
           float alpha, float beta, int m, int n) {
  __m256 acc[kMR][2];
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();

  for (int i = 0; i < m; ++i) _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);

#pragma GCC unroll 4
  for (index_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMR;
    b += kNR;
  }

  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
  if (m == kMR && n == kNR) {
#pragma GCC unroll 16
    for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 2
      for (int v = 0; v < 2; ++v) {
        float* p = c + i * ldc + 8 * v;
        __m256 r = _mm256_mul_ps(va, acc[i][v]);
        if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_loadu_ps(p), r);
        _mm256_storeu_ps(p, r);
      }
    return;
  }
  // Edge tile: spill to a local buffer and copy only the m×n block (AVX2 has no cheap masked stores for
  // arbitrary widths).
  alignas(32) float tile[kMR][kNR];
  // Fully unrolled like every loop over acc: an indexed access would force acc out of registers.
#pragma GCC unroll 16
  for (int i = 0; i < kMR; ++i) {
    _mm256_store_ps(tile[i], acc[i][0]);
    _mm256_store_ps(tile[i] + 8, acc[i][1]);
  }
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float* p = c + i * ldc + j;
      *p = beta == 0.0f ? alpha * tile[i][j] : alpha * tile[i][j] + beta * *p;
    }
}

void pack_a(bool trans, const float* A, index_t lda, index_t mc, index_t kc, float* dst) {
  pack_a_generic<kMR>(trans, A, lda, mc, kc, dst);
}

void pack_b(bool trans, const float* B, index_t ldb, index_t kc, index_t nc, float* dst) {
  pack_b_generic<kNR>(trans, B, ldb, kc, nc, dst);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// GEMV software-prefetch distance (floats ahead of the current position in each weight row).
constexpr index_t kPrefetchFloats = 256;

inline float finish(float s, float alpha, float beta, const float* y) {
  return beta == 0.0f ? alpha * s : alpha * s + beta * *y;
}

// Four rows at a time share each load of x; two accumulators per row hide the FMA latency.
void gemv_dot(index_t R, index_t K, const float* W, index_t ldw, const float* x, float alpha, float beta, float* y,
              index_t incy) {
  index_t r = 0;
  const index_t K16 = K & ~index_t(15);
  for (; r + 4 <= R; r += 4) {
    const float* w[4] = {W + r * ldw, W + (r + 1) * ldw, W + (r + 2) * ldw, W + (r + 3) * ldw};
    __m256 acc[4][2];
    for (int q = 0; q < 4; ++q) acc[q][0] = acc[q][1] = _mm256_setzero_ps();
    for (index_t k = 0; k < K16; k += 16) {
      // Software prefetch 1 KiB ahead in each of the four row streams (never faults past the end).
      for (int q = 0; q < 4; ++q) _mm_prefetch(reinterpret_cast<const char*>(w[q] + k + kPrefetchFloats), _MM_HINT_T0);
      const __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
      for (int q = 0; q < 4; ++q) {
        acc[q][0] = _mm256_fmadd_ps(_mm256_loadu_ps(w[q] + k), x0, acc[q][0]);
        acc[q][1] = _mm256_fmadd_ps(_mm256_loadu_ps(w[q] + k + 8), x1, acc[q][1]);
      }
    }
    for (int q = 0; q < 4; ++q) {
      float s = hsum(_mm256_add_ps(acc[q][0], acc[q][1]));
      for (index_t k = K16; k < K; ++k) s += w[q][k] * x[k];
      float* p = y + (r + q) * incy;
      *p = finish(s, alpha, beta, p);
    }
  }
  for (; r < R; ++r) {
    const float* w0 = W + r * ldw;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0;
    for (index_t k = 0; k < K16; k += 16) {
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k), _mm256_loadu_ps(x + k), a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w0 + k + 8), _mm256_loadu_ps(x + k + 8), a1);
    }
    float s = hsum(_mm256_add_ps(a0, a1));
    for (index_t k = K16; k < K; ++k) s += w0[k] * x[k];
    float* p = y + r * incy;
    *p = finish(s, alpha, beta, p);
  }
}

// Streams whole rows of W and accumulates into `work` (L1/L2 resident), four rows per pass.
void gemv_axpy(index_t K, index_t N, const float* W, index_t ldw, const float* x, float alpha, float beta,
               float* y, index_t incy, float* work) {
  const index_t N8 = N & ~index_t(7);
  for (index_t j = 0; j < N; ++j) work[j] = 0.0f;
  index_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const float* w0 = W + k * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    const __m256 x0 = _mm256_set1_ps(x[k]), x1 = _mm256_set1_ps(x[k + 1]);
    const __m256 x2 = _mm256_set1_ps(x[k + 2]), x3 = _mm256_set1_ps(x[k + 3]);
    for (index_t j = 0; j < N8; j += 8) {
      if ((j & 15) == 0)  // one line per row every 16 floats
        for (const float* w : {w0, w1, w2, w3})
          _mm_prefetch(reinterpret_cast<const char*>(w + j + kPrefetchFloats), _MM_HINT_T0);
      __m256 s = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + j), _mm256_load_ps(work + j));
      s = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w1 + j), s);
      s = _mm256_fmadd_ps(x2, _mm256_loadu_ps(w2 + j), s);
      s = _mm256_fmadd_ps(x3, _mm256_loadu_ps(w3 + j), s);
      _mm256_store_ps(work + j, s);
    }
    for (index_t j = N8; j < N; ++j) work[j] += x[k] * w0[j] + x[k + 1] * w1[j] + x[k + 2] * w2[j] + x[k + 3] * w3[j];
  }
  for (; k < K; ++k) {
    const float* w0 = W + k * ldw;
    const __m256 x0 = _mm256_set1_ps(x[k]);
    for (index_t j = 0; j < N8; j += 8)
      _mm256_store_ps(work + j, _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + j), _mm256_load_ps(work + j)));
    for (index_t j = N8; j < N; ++j) work[j] += x[k] * w0[j];
  }
  for (index_t j = 0; j < N; ++j) y[j * incy] = finish(work[j], alpha, beta, y + j * incy);
}

// The B micro-panel (kc×16 = 16 KiB at kc=256) sits in a 32-48 KiB L1; the 72×256 A block in L2.
const KernelSet kAvx2 = {"avx2", kMR, kNR, 72 * 2, 256, 4096, micro, pack_a, pack_b, gemv_dot, gemv_axpy};

}  // namespace

const KernelSet* kernels_avx2() { return &kAvx2; }

}  // namespace pixelllm

#else  // AVX2/FMA not enabled for this translation unit (non-x86 build)

namespace pixelllm {
const KernelSet* kernels_avx2() { return nullptr; }
}  // namespace pixelllm

#endif
