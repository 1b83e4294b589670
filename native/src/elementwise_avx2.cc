// AVX2 + FMA element-wise, softmax and normalisation kernels. Compiled with -mavx2 -mfma (see binding.gyp) and
// only called after elementwise.cc has checked the CPU at run time; without those flags it compiles to a stub.
// Ragged ends go through masked loads and stores, so every element takes the same arithmetic path. Row sums
// accumulate in double, as rows.ts does.
#include "elementwise.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <cmath>

#include "vecmath_avx2.h"

namespace pixelllm {
namespace {

using namespace avx2;

// Lane mask for the first `rem` (< 8) lanes.
inline __m256i tail_mask(index_t rem) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Calls f(offset, mask-or-nullptr) for each block of 8 of [0, n); the last, ragged block gets a mask.
template <class F>
inline void blocks(index_t n, F&& f) {
  index_t i = 0;
  for (; i + 8 <= n; i += 8) f(i, static_cast<const __m256i*>(nullptr));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    f(i, &m);
  }
}

inline __m256 load(const float* p, const __m256i* m) { return m ? _mm256_maskload_ps(p, *m) : _mm256_loadu_ps(p); }
inline void store(float* p, __m256 v, const __m256i* m) {
  if (m)
    _mm256_maskstore_ps(p, *m, v);
  else
    _mm256_storeu_ps(p, v);
}

template <class F>
void map(const float* x, float* y, index_t n, F f) {
  blocks(n, [&](index_t i, const __m256i* m) { store(y + i, f(load(x + i, m)), m); });
}

void unary(int op, const float* x, float* y, index_t n) {
  switch (op) {
    case kExp: return map(x, y, n, [](__m256 v) { return exp_ps(v); });
    case kLog: return map(x, y, n, [](__m256 v) { return log_ps(v); });
    case kSqrt: return map(x, y, n, [](__m256 v) { return _mm256_sqrt_ps(v); });
    case kRsqrt: return map(x, y, n, [](__m256 v) { return _mm256_div_ps(set1(1.0f), _mm256_sqrt_ps(v)); });
    case kTanh: return map(x, y, n, [](__m256 v) { return tanh_ps(v); });
    case kErf: return map(x, y, n, [](__m256 v) { return erf_ps(v); });
    case kSigmoid: return map(x, y, n, [](__m256 v) { return sigmoid_ps(v); });
    case kNeg: return map(x, y, n, [](__m256 v) { return neg_ps(v); });
    case kAbs: return map(x, y, n, [](__m256 v) { return abs_ps(v); });
    case kGeluErf: return map(x, y, n, [](__m256 v) { return gelu_erf_ps(v); });
    case kGeluErfGrad: return map(x, y, n, [](__m256 v) { return gelu_erf_grad_ps(v); });
    case kGeluTanh: return map(x, y, n, [](__m256 v) { return gelu_tanh_ps(v); });
    case kGeluTanhGrad: return map(x, y, n, [](__m256 v) { return gelu_tanh_grad_ps(v); });
    // v < 0 ? 0 : v (a NaN stays NaN, as torch's relu), and the derivative clamp uses: 1 where v >= 0, else 0
    case kRelu: return map(x, y, n, [](__m256 v) { return _mm256_blendv_ps(v, _mm256_setzero_ps(), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ)); });
    case kReluGrad: return map(x, y, n, [](__m256 v) { return _mm256_and_ps(_mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GE_OQ), set1(1.0f)); });
  }
}

template <int Op>
inline __m256 apply(__m256 a, __m256 b) {
  if (Op == kAdd) return _mm256_add_ps(a, b);
  if (Op == kSub) return _mm256_sub_ps(a, b);
  if (Op == kMul) return _mm256_mul_ps(a, b);
  return _mm256_div_ps(a, b);
}

// y[i] = a[i] ∘ b[i] (or b ∘ a) for i < n
template <int Op, bool Swap>
void zip(const float* a, const float* b, float* y, index_t n) {
  blocks(n, [&](index_t i, const __m256i* m) {
    const __m256 va = load(a + i, m), vb = load(b + i, m);
    store(y + i, Swap ? apply<Op>(vb, va) : apply<Op>(va, vb), m);
  });
}

// y[i] = a[i] ∘ s (or s ∘ a) for i < n
template <int Op, bool Swap>
void with_scalar(const float* a, float s, float* y, index_t n) {
  const __m256 vb = set1(s);
  blocks(n, [&](index_t i, const __m256i* m) {
    const __m256 va = load(a + i, m);
    store(y + i, Swap ? apply<Op>(vb, va) : apply<Op>(va, vb), m);
  });
}

// Row mode with fewer than 8 columns: b repeats with period cols, so bext holds lcm(cols, 8) + 8 values of the
// repetition and the 8 b values of any block are one unaligned load from it.
template <int Op, bool Swap>
void row_narrow(const float* a, const float* b, float* y, index_t cols, index_t begin, index_t end) {
  index_t period = 8;
  while (period % cols != 0) period += 8;  // lcm(cols, 8) <= 56
  float bext[64];
  for (index_t j = 0; j < period + 8; ++j) bext[j] = b[j % cols];
  index_t phase = begin % period;
  blocks(end - begin, [&](index_t i, const __m256i* m) {
    const __m256 va = load(a + begin + i, m), vb = _mm256_loadu_ps(bext + phase);
    store(y + begin + i, Swap ? apply<Op>(vb, va) : apply<Op>(va, vb), m);
    phase = phase + 8 < period ? phase + 8 : phase + 8 - period;
  });
}

// Column mode with fewer than 8 columns: the block at flat i spans rows r0 = i/cols and on; lane k reads
// b[r0 + (p + k)/cols] with p = i % cols, a permutation of 8 b values loaded from r0 that depends on p only.
template <int Op, bool Swap>
void column_narrow(const float* a, const float* b, float* y, index_t cols, index_t begin, index_t end) {
  __m256i perm[8];
  index_t rows_on[8], phase_on[8];  // the next block's r0 − r0 and phase, by phase (no division in the loop)
  for (index_t p = 0; p < cols; ++p) {
    alignas(32) int idx[8];
    for (int k = 0; k < 8; ++k) idx[k] = static_cast<int>((p + k) / cols);
    perm[p] = _mm256_load_si256(reinterpret_cast<const __m256i*>(idx));
    rows_on[p] = (p + 8) / cols;
    phase_on[p] = (p + 8) % cols;
  }
  const index_t last_row = (end - 1) / cols;  // b is only known to hold rows up to here
  index_t r0 = begin / cols, p = begin % cols;
  blocks(end - begin, [&](index_t i, const __m256i* m) {
    const index_t avail = last_row - r0 + 1;
    const __m256 rowvals = avail >= 8 ? _mm256_loadu_ps(b + r0) : _mm256_maskload_ps(b + r0, tail_mask(avail));
    const __m256 vb = _mm256_permutevar8x32_ps(rowvals, perm[p]);
    const __m256 va = load(a + begin + i, m);
    store(y + begin + i, Swap ? apply<Op>(vb, va) : apply<Op>(va, vb), m);
    r0 += rows_on[p];
    p = phase_on[p];
  });
}

template <int Op, bool Swap>
void binary_op(const float* a, const float* b, float* y, index_t cols, int mode, index_t begin, index_t end) {
  if (mode == kSame) return zip<Op, Swap>(a + begin, b + begin, y + begin, end - begin);
  if (mode == kScalar) return with_scalar<Op, Swap>(a + begin, b[0], y + begin, end - begin);
  if (cols < 8) {
    if (mode == kRow) return row_narrow<Op, Swap>(a, b, y, cols, begin, end);
    return column_narrow<Op, Swap>(a, b, y, cols, begin, end);
  }
  // Row and column modes: walk the rows that [begin, end) touches, each clipped to the range.
  for (index_t r = begin / cols; r * cols < end; ++r) {
    const index_t c0 = begin > r * cols ? begin - r * cols : 0;
    const index_t c1 = end < (r + 1) * cols ? end - r * cols : cols;
    const index_t o = r * cols + c0;
    if (mode == kRow)
      zip<Op, Swap>(a + o, b + c0, y + o, c1 - c0);
    else
      with_scalar<Op, Swap>(a + o, b[r], y + o, c1 - c0);
  }
}

void binary(int op, const float* a, const float* b, float* y, index_t cols, int mode, bool swap, index_t begin,
            index_t end) {
  using Fn = void (*)(const float*, const float*, float*, index_t, int, index_t, index_t);
  static constexpr Fn table[kBinaryOpCount][2] = {
      {binary_op<kAdd, false>, binary_op<kAdd, true>},
      {binary_op<kSub, false>, binary_op<kSub, true>},
      {binary_op<kMul, false>, binary_op<kMul, true>},
      {binary_op<kDiv, false>, binary_op<kDiv, true>},
  };
  table[op][swap ? 1 : 0](a, b, y, cols, mode, begin, end);
}

// Horizontal sums.
inline double hsum(__m256d v) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
// acc += the 8 lanes of v, in double
inline void add_pd(__m256d* acc, __m256 v) {
  acc[0] = _mm256_add_pd(acc[0], _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  acc[1] = _mm256_add_pd(acc[1], _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}
// acc += u·v lane-wise, in double
inline void fma_pd(__m256d* acc, __m256 u, __m256 v) {
  acc[0] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(u)), _mm256_cvtps_pd(_mm256_castps256_ps128(v)),
                           acc[0]);
  acc[1] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(u, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)),
                           acc[1]);
}
inline double total(const __m256d* acc) { return hsum(_mm256_add_pd(acc[0], acc[1])); }

// y = exp(x − max x) over one row, returning the row's sum (accumulated in double, as rows.ts).
double exp_shifted(const float* xr, float* yr, index_t cols, bool store_y, float* max_out) {
  const __m256 neg_inf = set1(-__builtin_inff());
  // max_ps(v, m) returns m when v is NaN: NaN never becomes the max, as `x > m` in rows.ts.
  __m256 vm = neg_inf;
  blocks(cols, [&](index_t j, const __m256i* m) {
    const __m256 v = load(xr + j, m);
    vm = _mm256_max_ps(m ? _mm256_blendv_ps(neg_inf, v, _mm256_castsi256_ps(*m)) : v, vm);
  });
  float mx = hmax(vm);
  if (mx == -__builtin_inff()) mx = 0;  // a fully masked row stays NaN-free in the shift
  const __m256 vmx = set1(mx);
  __m256d acc[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
  blocks(cols, [&](index_t j, const __m256i* m) {
    __m256 e = exp_ps(_mm256_sub_ps(load(xr + j, m), vmx));
    if (m) e = _mm256_and_ps(e, _mm256_castsi256_ps(*m));
    add_pd(acc, e);
    if (store_y) store(yr + j, e, m);
  });
  *max_out = mx;
  return total(acc);
}

void softmax_forward(const float* x, float* y, index_t rows, index_t cols, bool log) {
  for (index_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float mx = 0;
    const double s = exp_shifted(xr, yr, cols, !log, &mx);
    if (log) {
      // (x − m) − log s in double, as rows.ts: exact for large logits
      const __m256d shift = _mm256_set1_pd(static_cast<double>(mx)), ls = _mm256_set1_pd(std::log(s));
      blocks(cols, [&](index_t j, const __m256i* m) {
        const __m256 v = load(xr + j, m);
        const __m256d lo = _mm256_sub_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), shift), ls);
        const __m256d hi = _mm256_sub_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), shift), ls);
        store(yr + j, _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo)), m);
      });
    } else {
      const __m256 inv = set1(static_cast<float>(1 / s));
      blocks(cols, [&](index_t j, const __m256i* m) { store(yr + j, _mm256_mul_ps(load(yr + j, m), inv), m); });
    }
  }
}

void exp_rows(float* x, index_t rows, index_t cols, float* inv_sums) {
  for (index_t r = 0; r < rows; ++r) {
    float mx = 0;
    inv_sums[r] = static_cast<float>(1 / exp_shifted(x + r * cols, x + r * cols, cols, true, &mx));
  }
}

void softmax_backward(const float* y, const float* g, float* dx, index_t rows, index_t cols, bool log) {
  for (index_t r = 0; r < rows; ++r) {
    const float* yr = y + r * cols;
    const float* gr = g + r * cols;
    float* dr = dx + r * cols;
    __m256d acc[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    if (log) {
      // dx = g − e^y · Σ g
      blocks(cols, [&](index_t j, const __m256i* m) { add_pd(acc, load(gr + j, m)); });
      const __m256 s = set1(static_cast<float>(total(acc)));
      blocks(cols, [&](index_t j, const __m256i* m) {
        store(dr + j, _mm256_fnmadd_ps(exp_ps(load(yr + j, m)), s, load(gr + j, m)), m);
      });
    } else {
      // dx = y ⊙ (g − Σ g⊙y)
      blocks(cols, [&](index_t j, const __m256i* m) { fma_pd(acc, load(gr + j, m), load(yr + j, m)); });
      const __m256 s = set1(static_cast<float>(total(acc)));
      blocks(cols, [&](index_t j, const __m256i* m) {
        store(dr + j, _mm256_mul_ps(load(yr + j, m), _mm256_sub_ps(load(gr + j, m), s)), m);
      });
    }
  }
}

void norm_forward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, index_t rows,
                  index_t cols, double eps, bool rms) {
  for (index_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    double mu = 0;
    if (!rms) {
      __m256d acc[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
      blocks(cols, [&](index_t j, const __m256i* m) { add_pd(acc, load(xr + j, m)); });
      mu = total(acc) / static_cast<double>(cols);
    }
    // Σ (x − mean)² in double; masked-off lanes load 0 and must not add mean².
    const __m256d vmu = _mm256_set1_pd(mu);
    __m256d acc[2] = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    blocks(cols, [&](index_t j, const __m256i* m) {
      const __m256 v = load(xr + j, m);
      __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), vmu);
      __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), vmu);
      if (m) {
        d0 = _mm256_and_pd(d0, _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(*m))));
        d1 = _mm256_and_pd(d1, _mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(*m, 1))));
      }
      acc[0] = _mm256_fmadd_pd(d0, d0, acc[0]);
      acc[1] = _mm256_fmadd_pd(d1, d1, acc[1]);
    });
    const double rs = 1 / std::sqrt(total(acc) / static_cast<double>(cols) + eps);
    mean[r] = static_cast<float>(mu);
    rstd[r] = static_cast<float>(rs);
    // (x − mean) with the mean in two floats: the rounding of the saved mean does not shift every output.
    const float mu_hi = static_cast<float>(mu);
    const __m256 vhi = set1(mu_hi), vlo = set1(static_cast<float>(mu - mu_hi)), vrs = set1(static_cast<float>(rs));
    blocks(cols, [&](index_t j, const __m256i* m) {
      __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(load(xr + j, m), vhi), vlo), vrs);
      if (w) t = _mm256_mul_ps(t, load(w + j, m));
      if (b) t = _mm256_add_ps(t, load(b + j, m));
      store(yr + j, t, m);
    });
  }
}

// acc[j..j+8) += v, acc in double
inline void accumulate(double* acc, __m256 v, const __m256i* m) {
  const __m256d v0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), v1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
  if (!m) {
    _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), v0));
    _mm256_storeu_pd(acc + 4, _mm256_add_pd(_mm256_loadu_pd(acc + 4), v1));
    return;
  }
  const __m256i m0 = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(*m));
  const __m256i m1 = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(*m, 1));
  _mm256_maskstore_pd(acc, m0, _mm256_add_pd(_mm256_maskload_pd(acc, m0), v0));
  _mm256_maskstore_pd(acc + 4, m1, _mm256_add_pd(_mm256_maskload_pd(acc + 4, m1), v1));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

// dw and db sum over rows in float within blocks of this many rows (an error of ~1e-7 of the block's terms),
// and across blocks in double.
constexpr index_t kNormBlockRows = 16;

void norm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* g, float* dx,
                   double* dw, double* db, float* scratch, index_t rows, index_t cols, bool rms) {
  float* sw = scratch;         // this block's Σ g ⊙ x̂
  float* sb = scratch + cols;  // and Σ g
  for (index_t r0 = 0; r0 < rows; r0 += kNormBlockRows) {
    const index_t r1 = r0 + kNormBlockRows < rows ? r0 + kNormBlockRows : rows;
    if (dw) blocks(cols, [&](index_t j, const __m256i* m) { store(sw + j, _mm256_setzero_ps(), m); });
    if (db) blocks(cols, [&](index_t j, const __m256i* m) { store(sb + j, _mm256_setzero_ps(), m); });
    for (index_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      const float* gr = g + r * cols;
      float* dr = dx + r * cols;
      const __m256 mu = set1(mean[r]), rs = set1(rstd[r]);
      // Σ d and Σ d·x̂ over one row: float lanes suffice, the sums are divided by cols.
      __m256 sd = _mm256_setzero_ps(), sdx = _mm256_setzero_ps();
      blocks(cols, [&](index_t j, const __m256i* m) {
        const __m256 xh = _mm256_mul_ps(_mm256_sub_ps(load(xr + j, m), mu), rs);
        const __m256 gv = load(gr + j, m);
        const __m256 d = w ? _mm256_mul_ps(gv, load(w + j, m)) : gv;
        sd = _mm256_add_ps(sd, d);
        sdx = _mm256_fmadd_ps(d, m ? _mm256_and_ps(xh, _mm256_castsi256_ps(*m)) : xh, sdx);
      });
      const __m256 md = set1(rms ? 0.0f : static_cast<float>(double{hsum(sd)} / static_cast<double>(cols)));
      const __m256 mdx = set1(static_cast<float>(double{hsum(sdx)} / static_cast<double>(cols)));
      // dx = rstd·(d − mean(d) − x̂·mean(d ⊙ x̂)), and the block's dw/db sums
      blocks(cols, [&](index_t j, const __m256i* m) {
        const __m256 xh = _mm256_mul_ps(_mm256_sub_ps(load(xr + j, m), mu), rs);
        const __m256 gv = load(gr + j, m);
        const __m256 d = w ? _mm256_mul_ps(gv, load(w + j, m)) : gv;
        store(dr + j, _mm256_mul_ps(rs, _mm256_fnmadd_ps(xh, mdx, _mm256_sub_ps(d, md))), m);
        if (dw) store(sw + j, _mm256_fmadd_ps(gv, xh, load(sw + j, m)), m);
        if (db) store(sb + j, _mm256_add_ps(gv, load(sb + j, m)), m);
      });
    }
    if (dw) blocks(cols, [&](index_t j, const __m256i* m) { accumulate(dw + j, load(sw + j, m), m); });
    if (db) blocks(cols, [&](index_t j, const __m256i* m) { accumulate(db + j, load(sb + j, m), m); });
  }
}

const EltKernels kAvx2Set = {"avx2", unary, binary, softmax_forward, softmax_backward, exp_rows, norm_forward, norm_backward};

}  // namespace

const EltKernels* elt_kernels_avx2() { return &kAvx2Set; }

}  // namespace pixelllm

#else

namespace pixelllm {
const EltKernels* elt_kernels_avx2() { return nullptr; }
}  // namespace pixelllm

#endif
