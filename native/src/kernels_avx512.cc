// AVX-512F kernels. This file is compiled with AVX-512 flags (see binding.gyp) and is only called after
// kernel_select.cc has checked the CPU at run time; without those flags it compiles to a stub.
#include "kernel_set.h"

#if defined(__AVX512F__) && defined(__FMA__)
#include <immintrin.h>

#include <initializer_list>

#include "pack.h"

namespace pixelllm {
namespace {

// 12×32 tile: 24 zmm accumulators + 2 for B + 1 broadcast. On cores with two 512-bit FMA pipes (Zen 5,
// Intel server parts) 24 independent chains cover the 4-cycle FMA latency; it runs at ~98% of peak from L1.
// (14×32, 8×48 and 6×64 measured slower with GCC 12: spills or worse scheduling.)
constexpr int kMR = 12;
constexpr int kNV = 2;  // zmm vectors per tile row
constexpr int kNR = 16 * kNV;

inline __mmask16 tail_mask(index_t n) { return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1u); }

void micro(index_t kc, const float* __restrict a, const float* __restrict b, float* __restrict c, index_t ldc,
           float alpha, float beta, int m, int n) {
  __m512 acc[kMR][kNV];
#pragma GCC unroll 64
  for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < kNV; ++v) acc[i][v] = _mm512_setzero_ps();

  // Touch the C tile (both ends of each row) early so its lines arrive while the k loop runs.
  for (int i = 0; i < m; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + n - 1), _MM_HINT_T0);
  }

#pragma GCC unroll 4
  for (index_t k = 0; k < kc; ++k) {
    __m512 bv[kNV];
#pragma GCC unroll 8
    for (int v = 0; v < kNV; ++v) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 64
    for (int i = 0; i < kMR; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 8
      for (int v = 0; v < kNV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += kMR;
    b += kNR;
  }

  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
  if (m == kMR && n == kNR) {
#pragma GCC unroll 64
    for (int i = 0; i < kMR; ++i)
#pragma GCC unroll 8
      for (int v = 0; v < kNV; ++v) {
        float* p = c + i * ldc + 16 * v;
        __m512 r = _mm512_mul_ps(va, acc[i][v]);
        if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_loadu_ps(p), r);
        _mm512_storeu_ps(p, r);
      }
    return;
  }
  // Edge tile: masked loads/stores keep every access inside the m×n block.
  __mmask16 mask[kNV];
  for (int v = 0; v < kNV; ++v) mask[v] = n > 16 * v ? tail_mask(n - 16 * v) : __mmask16(0);
#pragma GCC unroll 64
  for (int i = 0; i < kMR; ++i) {
    if (i >= m) break;
#pragma GCC unroll 8
    for (int v = 0; v < kNV; ++v) {
      float* p = c + i * ldc + 16 * v;
      __m512 r = _mm512_mul_ps(va, acc[i][v]);
      if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask[v], p), r);
      _mm512_mask_storeu_ps(p, mask[v], r);
    }
  }
}

// In-register transpose of 16 rows of 16 floats (unpack, shuffle, two 128-bit lane shuffles): afterwards
// r[k] holds column k.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  // Each 128-bit lane now holds a transposed 4×4 block; the two cross-lane steps move the blocks into place.
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], _MM_SHUFFLE(2, 0, 2, 0));
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], _MM_SHUFFLE(3, 1, 3, 1));
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], _MM_SHUFFLE(2, 0, 2, 0));
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], _MM_SHUFFLE(3, 1, 3, 1));
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], _MM_SHUFFLE(2, 0, 2, 0));
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], _MM_SHUFFLE(3, 1, 3, 1));
    r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], _MM_SHUFFLE(2, 0, 2, 0));
    r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], _MM_SHUFFLE(3, 1, 3, 1));
  }
}

// Row-major A must be transposed into k-major panels; doing it 16 k at a time with shuffles costs a fraction
// of the scalar gather (which was ~5% of a 1024³ GEMM).
void pack_a(bool trans, const float* A, index_t lda, index_t mc, index_t kc, float* dst) {
  static_assert(kMR <= 16, "pack_a transposes at most 16 rows at once");
  const __mmask16 rows = tail_mask(kMR);
  if (trans) {
    // A plain copy of kMR floats per k, in strips of kStrip k across all panels (see pack.h). Explicit
    // masked zmm moves measured ~20% faster than the generic memcpy version.
    const index_t full = mc / kMR;
    for (index_t k0 = 0; k0 < kc; k0 += kStrip) {
      const index_t ks = std::min(kStrip, kc - k0);
      for (index_t p = 0; p < full; ++p) {
        const float* src = A + k0 * lda + p * kMR;
        float* d = dst + p * kMR * kc + k0 * kMR;
        for (index_t k = 0; k < ks; ++k)
          _mm512_mask_storeu_ps(d + k * kMR, rows, _mm512_maskz_loadu_ps(rows, src + k * lda));
      }
    }
    if (full * kMR < mc) pack_a_generic<kMR>(true, A + full * kMR, lda, mc - full * kMR, kc, dst + full * kMR * kc);
    return;
  }
  index_t i0 = 0;
  for (; i0 + kMR <= mc; i0 += kMR, dst += kMR * kc) {
    index_t k = 0;
    for (; k + 16 <= kc; k += 16) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) r[i] = i < kMR ? _mm512_loadu_ps(A + (i0 + i) * lda + k) : _mm512_setzero_ps();
      transpose16(r);
      // Masked stores write exactly kMR floats per k, so consecutive (overlapping) vectors are safe.
      for (int j = 0; j < 16; ++j) _mm512_mask_storeu_ps(dst + (k + j) * kMR, rows, r[j]);
    }
    for (; k < kc; ++k)
      for (int i = 0; i < kMR; ++i) dst[k * kMR + i] = A[(i0 + i) * lda + k];
  }
  if (i0 < mc) pack_a_generic<kMR>(false, A + i0 * lda, lda, mc - i0, kc, dst);
}

// Transposed B (N×K storage, e.g. the weights of a linear layer) needs 16×16 shuffle transposes.
void pack_b(bool trans, const float* B, index_t ldb, index_t kc, index_t nc, float* dst) {
  if (!trans) {
    // A plain copy of kNR floats per k, in strips of kStrip k across all panels (see pack.h). Explicit
    // aligned zmm stores made a 256×768×3072 product ~8% faster than the generic memcpy version.
    const index_t full = nc / kNR;
    for (index_t k0 = 0; k0 < kc; k0 += kStrip) {
      const index_t ks = std::min(kStrip, kc - k0);
      for (index_t p = 0; p < full; ++p) {
        const float* src = B + k0 * ldb + p * kNR;
        float* d = dst + p * kNR * kc + k0 * kNR;
        for (index_t k = 0; k < ks; ++k)
          for (int v = 0; v < kNV; ++v) _mm512_store_ps(d + k * kNR + 16 * v, _mm512_loadu_ps(src + k * ldb + 16 * v));
      }
    }
    if (full * kNR < nc) pack_b_generic<kNR>(false, B + full * kNR, ldb, kc, nc - full * kNR, dst + full * kNR * kc);
    return;
  }
  index_t j0 = 0;
  const index_t k16 = kc & ~index_t(15);
  for (; j0 + kNR <= nc; j0 += kNR, dst += kNR * kc) {
    // One group of 16 rows at a time: 16 concurrent read streams rather than kNR.
    for (int v = 0; v < kNV; ++v)
      for (index_t k = 0; k < k16; k += 16) {
        __m512 r[16];
        for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(B + (j0 + 16 * v + j) * ldb + k);
        transpose16(r);
        for (int kk = 0; kk < 16; ++kk) _mm512_store_ps(dst + (k + kk) * kNR + 16 * v, r[kk]);
      }
    for (index_t k = k16; k < kc; ++k)
      for (int j = 0; j < kNR; ++j) dst[k * kNR + j] = B[(j0 + j) * ldb + k];
  }
  if (j0 < nc) pack_b_generic<kNR>(true, B + j0 * ldb, ldb, kc, nc - j0, dst);
}

// GEMV software-prefetch distance (floats ahead of the current position in each weight row).
constexpr index_t kPrefetchFloats = 256;

inline float finish(float s, float alpha, float beta, const float* y) {
  return beta == 0.0f ? alpha * s : alpha * s + beta * *y;
}

// Four rows at a time share each load of x; two accumulators per row hide the FMA latency. The weights are
// read exactly once, so this is bound by memory bandwidth for large matrices.
void gemv_dot(index_t R, index_t K, const float* W, index_t ldw, const float* x, float alpha, float beta, float* y,
              index_t incy) {
  index_t r = 0;
  for (; r + 4 <= R; r += 4) {
    const float* w0 = W + r * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    index_t k = 0;
    for (; k + 32 <= K; k += 32) {
      // Four concurrent streams are more than the hardware prefetchers keep far enough ahead; asking for the
      // lines 1 KiB ahead gave +15-25% from L3 and ~+10% from DRAM. (Prefetches past the end never fault.)
      for (const float* w : {w0, w1, w2, w3}) {
        _mm_prefetch(reinterpret_cast<const char*>(w + k + kPrefetchFloats), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(w + k + kPrefetchFloats + 16), _MM_HINT_T0);
      }
      const __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + k), x0, a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + k + 16), x1, a1);
      b0 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + k), x0, b0);
      b1 = _mm512_fmadd_ps(_mm512_loadu_ps(w1 + k + 16), x1, b1);
      c0 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + k), x0, c0);
      c1 = _mm512_fmadd_ps(_mm512_loadu_ps(w2 + k + 16), x1, c1);
      d0 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + k), x0, d0);
      d1 = _mm512_fmadd_ps(_mm512_loadu_ps(w3 + k + 16), x1, d1);
    }
    for (; k < K; k += 16) {
      const __mmask16 mk = tail_mask(K - k);
      const __m512 x0 = _mm512_maskz_loadu_ps(mk, x + k);
      a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, w0 + k), x0, a0);
      b0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, w1 + k), x0, b0);
      c0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, w2 + k), x0, c0);
      d0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, w3 + k), x0, d0);
    }
    float* p = y + r * incy;
    p[0] = finish(_mm512_reduce_add_ps(_mm512_add_ps(a0, a1)), alpha, beta, p);
    p[incy] = finish(_mm512_reduce_add_ps(_mm512_add_ps(b0, b1)), alpha, beta, p + incy);
    p[2 * incy] = finish(_mm512_reduce_add_ps(_mm512_add_ps(c0, c1)), alpha, beta, p + 2 * incy);
    p[3 * incy] = finish(_mm512_reduce_add_ps(_mm512_add_ps(d0, d1)), alpha, beta, p + 3 * incy);
  }
  for (; r < R; ++r) {
    const float* w0 = W + r * ldw;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0;
    index_t k = 0;
    for (; k + 32 <= K; k += 32) {
      a0 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + k), _mm512_loadu_ps(x + k), a0);
      a1 = _mm512_fmadd_ps(_mm512_loadu_ps(w0 + k + 16), _mm512_loadu_ps(x + k + 16), a1);
    }
    for (; k < K; k += 16) {
      const __mmask16 mk = tail_mask(K - k);
      a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, w0 + k), _mm512_maskz_loadu_ps(mk, x + k), a0);
    }
    float* p = y + r * incy;
    *p = finish(_mm512_reduce_add_ps(_mm512_add_ps(a0, a1)), alpha, beta, p);
  }
}

// Streams whole rows of W (the access pattern hardware prefetchers like best) and accumulates into `work`,
// which stays in L1/L2; four rows per pass keep the accumulator traffic a fraction of the weight traffic.
void gemv_axpy(index_t K, index_t N, const float* W, index_t ldw, const float* x, float alpha, float beta,
               float* y, index_t incy, float* work) {
  for (index_t j = 0; j < N; j += 16) _mm512_mask_storeu_ps(work + j, tail_mask(N - j), _mm512_setzero_ps());
  index_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const float* w0 = W + k * ldw;
    const float* w1 = w0 + ldw;
    const float* w2 = w1 + ldw;
    const float* w3 = w2 + ldw;
    const __m512 x0 = _mm512_set1_ps(x[k]), x1 = _mm512_set1_ps(x[k + 1]);
    const __m512 x2 = _mm512_set1_ps(x[k + 2]), x3 = _mm512_set1_ps(x[k + 3]);
    index_t j = 0;
    for (; j + 16 <= N; j += 16) {
      // One line per row per step, 1 KiB ahead (helps most when two threads each stream half rows).
      for (const float* w : {w0, w1, w2, w3})
        _mm_prefetch(reinterpret_cast<const char*>(w + j + kPrefetchFloats), _MM_HINT_T0);
      __m512 s = _mm512_fmadd_ps(x0, _mm512_loadu_ps(w0 + j), _mm512_load_ps(work + j));
      s = _mm512_fmadd_ps(x1, _mm512_loadu_ps(w1 + j), s);
      s = _mm512_fmadd_ps(x2, _mm512_loadu_ps(w2 + j), s);
      s = _mm512_fmadd_ps(x3, _mm512_loadu_ps(w3 + j), s);
      _mm512_store_ps(work + j, s);
    }
    if (j < N) {
      const __mmask16 mk = tail_mask(N - j);
      __m512 s = _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(mk, w0 + j), _mm512_maskz_load_ps(mk, work + j));
      s = _mm512_fmadd_ps(x1, _mm512_maskz_loadu_ps(mk, w1 + j), s);
      s = _mm512_fmadd_ps(x2, _mm512_maskz_loadu_ps(mk, w2 + j), s);
      s = _mm512_fmadd_ps(x3, _mm512_maskz_loadu_ps(mk, w3 + j), s);
      _mm512_mask_store_ps(work + j, mk, s);
    }
  }
  for (; k < K; ++k) {
    const float* w0 = W + k * ldw;
    const __m512 x0 = _mm512_set1_ps(x[k]);
    for (index_t j = 0; j < N; j += 16) {
      const __mmask16 mk = tail_mask(N - j);
      _mm512_mask_store_ps(work + j, mk,
                           _mm512_fmadd_ps(x0, _mm512_maskz_loadu_ps(mk, w0 + j), _mm512_maskz_load_ps(mk, work + j)));
    }
  }
  for (index_t j = 0; j < N; ++j) y[j * incy] = finish(work[j], alpha, beta, y + j * incy);
}

// Blocking for a 48 KiB L1d / 1 MiB L2 (Zen 5; also fine for 32 KiB / 1-2 MiB): the kc×32 B micro-panel
// (32 KiB at kc=256) stays in L1 while 12×kc A micro-panels stream from the 240×256 A block (240 KiB) in L2;
// the 256×1024 B panel (1 MiB) lives in L2/L3. Larger kc/mc/nc measured within noise on 1024³ and 256×768×3072.
const KernelSet kAvx512 = {"avx512", kMR, kNR, 240, 256, 1024, micro, pack_a, pack_b, gemv_dot, gemv_axpy};

}  // namespace

const KernelSet* kernels_avx512() { return &kAvx512; }

}  // namespace pixelllm

#else  // AVX-512 not enabled for this translation unit (non-x86 build)

namespace pixelllm {
const KernelSet* kernels_avx512() { return nullptr; }
}  // namespace pixelllm

#endif
