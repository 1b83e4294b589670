// Eight-lane float math for the AVX2 element-wise kernels: exp, log, tanh, sigmoid, erf and the GELU forms with
// their derivatives. Only included by elementwise_avx2.cc (compiled with -mavx2 -mfma). Measured against float64
// (test/native_elementwise.test.ts checks 2e-6): exp, log, tanh, sigmoid, erf within 2e-7 relative, the GELUs
// within 4e-7 (left tails included), their derivatives within 1e-7 absolute where Φ + x·φ cancels and 1.5e-6
// relative elsewhere; ±inf and NaN come out as the float64 formulas give them.
// Clamps are written max(bound, x) / min(bound, x): those instructions return their second operand when
// either is NaN, so NaN passes through.
#pragma once
#include <immintrin.h>

namespace pixelllm {
namespace avx2 {

inline __m256 set1(float v) { return _mm256_set1_ps(v); }
inline __m256 abs_ps(__m256 x) { return _mm256_andnot_ps(set1(-0.0f), x); }
inline __m256 neg_ps(__m256 x) { return _mm256_xor_ps(x, set1(-0.0f)); }
inline __m256 lt(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }

// y·2^n for n an integer in [−252, 254]: applied as two powers of two so that results in the subnormal range
// round once, from a normal number.
inline __m256 ldexp_two_step(__m256 y, __m256i n) {
  const __m256i n1 = _mm256_srai_epi32(n, 1);
  const __m256i n2 = _mm256_sub_epi32(n, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
}

// e^(hi + lo) with |lo| ≤ 1 (lo only when kLo): lo is added after the range reduction, so an argument known to
// more than float precision (x² as an exact product pair) loses nothing. x = n·ln2 + r with |r| ≤ ln2/2, e^r by
// a degree-6 polynomial (relative error 2e-9, native/tools/fit_elementwise.py). Below −104 the result is 0, above
// 100 it is +inf, NaN stays NaN.
// kNonPositive: the caller guarantees hi <= 0 (or NaN), which saves the overflow checks.
template <bool kLo, bool kNonPositive>
inline __m256 exp_core(__m256 hi, __m256 lo) {
  __m256 x = _mm256_max_ps(set1(-104.0f), hi);
  if (!kNonPositive) x = _mm256_min_ps(set1(100.0f), x);
  // Adding 1.5·2^23 rounds x·log2(e) to an integer n, left in the low mantissa bits.
  const __m256 shifted = _mm256_fmadd_ps(x, set1(1.44269504088896341f), set1(12582912.0f));
  const __m256 n = _mm256_sub_ps(shifted, set1(12582912.0f));
  __m256 r = _mm256_fnmadd_ps(n, set1(0.693359375f), x);  // ln 2 in two parts: n·C1 is exact
  r = _mm256_fnmadd_ps(n, set1(-2.12194440e-4f), r);
  if (kLo) r = _mm256_add_ps(r, lo);
  __m256 p = set1(0.00138368353f);
  p = _mm256_fmadd_ps(p, r, set1(0.00837482419f));
  p = _mm256_fmadd_ps(p, r, set1(0.0416682251f));
  p = _mm256_fmadd_ps(p, r, set1(0.166664198f));
  p = _mm256_fmadd_ps(p, r, set1(0.499999911f));
  p = _mm256_fmadd_ps(p, r, set1(1.0f));
  const __m256 y = _mm256_fmadd_ps(p, r, set1(1.0f));
  // ·2^n: add n to y's exponent field, exact while the result stays normal (x in [−87, 88]); otherwise, and for
  // NaN, the slower two-step scaling.
  const __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4b400000));
  __m256 out = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(y), _mm256_slli_epi32(ni, 23)));
  __m256 slow = _mm256_cmp_ps(x, set1(-87.0f), _CMP_NGE_UQ);
  if (!kNonPositive) slow = _mm256_or_ps(slow, _mm256_cmp_ps(x, set1(88.0f), _CMP_GT_OQ));
  if (_mm256_movemask_ps(slow) != 0) out = _mm256_blendv_ps(out, ldexp_two_step(y, ni), slow);
  return out;
}

inline __m256 exp_ps(__m256 x) { return exp_core<false, false>(x, x); }
inline __m256 exp_hilo(__m256 hi, __m256 lo) { return exp_core<true, false>(hi, lo); }
// e^x and e^(hi + lo) for arguments known to be <= 0
inline __m256 exp_neg(__m256 x) { return exp_core<false, true>(x, x); }
inline __m256 exp_neg_hilo(__m256 hi, __m256 lo) { return exp_core<true, true>(hi, lo); }

// Cephes logf: x = 2^e·m with m in [√½, √2), log m = (m−1) − (m−1)²/2 + (m−1)³·P(m−1).
inline __m256 log_ps(__m256 x) {
  // Subnormals: scale into the normal range first.
  const __m256 tiny = lt(x, set1(1.17549435e-38f));
  const __m256 xs = _mm256_blendv_ps(x, _mm256_mul_ps(x, set1(8388608.0f)), tiny);  // · 2^23
  const __m256i bits = _mm256_castps_si256(xs);
  __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
  e = _mm256_sub_ps(e, _mm256_and_ps(tiny, set1(23.0f)));
  __m256 m = _mm256_castsi256_ps(
      _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
  // m in [0.5, 1): below √½ use 2m and e − 1, so that m − 1 is in [−0.29, 0.41).
  const __m256 small = lt(m, set1(0.707106781186547524f));
  e = _mm256_sub_ps(e, _mm256_and_ps(small, set1(1.0f)));
  m = _mm256_add_ps(_mm256_sub_ps(m, set1(1.0f)), _mm256_and_ps(small, m));
  const __m256 z = _mm256_mul_ps(m, m);
  __m256 p = set1(7.0376836292e-2f);
  p = _mm256_fmadd_ps(p, m, set1(-1.1514610310e-1f));
  p = _mm256_fmadd_ps(p, m, set1(1.1676998740e-1f));
  p = _mm256_fmadd_ps(p, m, set1(-1.2420140846e-1f));
  p = _mm256_fmadd_ps(p, m, set1(1.4249322787e-1f));
  p = _mm256_fmadd_ps(p, m, set1(-1.6668057665e-1f));
  p = _mm256_fmadd_ps(p, m, set1(2.0000714765e-1f));
  p = _mm256_fmadd_ps(p, m, set1(-2.4999993993e-1f));
  p = _mm256_fmadd_ps(p, m, set1(3.3333331174e-1f));
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, m), z);
  y = _mm256_fmadd_ps(e, set1(-2.12194440e-4f), y);
  y = _mm256_fnmadd_ps(z, set1(0.5f), y);
  __m256 r = _mm256_fmadd_ps(e, set1(0.693359375f), _mm256_add_ps(m, y));
  // log 0 = −inf, log inf = inf, log(x < 0) = NaN, NaN stays NaN.
  r = _mm256_blendv_ps(r, set1(-__builtin_inff()), _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_EQ_OQ));
  r = _mm256_blendv_ps(r, x, _mm256_cmp_ps(x, set1(__builtin_inff()), _CMP_EQ_OQ));
  r = _mm256_or_ps(r, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_NGE_UQ));  // x < 0 or NaN: all bits set = NaN
  return r;
}

// Cephes tanhf: an odd polynomial below 0.625, else (1 − e^(−2|x|)) / (1 + e^(−2|x|)) with x's sign.
inline __m256 tanh_ps(__m256 x) {
  const __m256 ax = abs_ps(x);
  const __m256 s = _mm256_mul_ps(x, x);
  __m256 p = set1(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, s, set1(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, s, set1(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, s, set1(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, s, set1(-3.33332819422e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, s), x, x);
  const __m256 e = exp_neg(_mm256_mul_ps(ax, set1(-2.0f)));
  __m256 big = _mm256_div_ps(_mm256_sub_ps(set1(1.0f), e), _mm256_add_ps(set1(1.0f), e));
  big = _mm256_or_ps(big, _mm256_and_ps(x, set1(-0.0f)));  // x's sign
  return _mm256_blendv_ps(big, small, lt(ax, set1(0.625f)));
}

inline __m256 sigmoid_ps(__m256 x) {
  return _mm256_div_ps(set1(1.0f), _mm256_add_ps(set1(1.0f), exp_ps(neg_ps(x))));
}

// ½ erfc(z)·e^(z²) = ½ t·Q(t) with t = 1/(1 + z/2), z in [0, 10]: a weighted least-squares fit of relative
// error 2e-8 (native/tools/fit_elementwise.py), its coefficients halved (exactly). For z > 10 erfc underflows.
inline __m256 half_erfcx_t(__m256 t) {
  __m256 q = set1(0.5f * 0.0122835971f);
  q = _mm256_fmadd_ps(q, t, set1(0.5f * -0.123253249f));
  q = _mm256_fmadd_ps(q, t, set1(0.5f * 0.428925216f));
  q = _mm256_fmadd_ps(q, t, set1(0.5f * -0.670018494f));
  q = _mm256_fmadd_ps(q, t, set1(0.5f * 0.421271205f));
  q = _mm256_fmadd_ps(q, t, set1(0.5f * -0.098316133f));
  q = _mm256_fmadd_ps(q, t, set1(0.5f * 0.225541383f));
  q = _mm256_fmadd_ps(q, t, set1(0.5f * 0.238644928f));
  q = _mm256_fmadd_ps(q, t, set1(0.5f * 0.282857031f));
  q = _mm256_fmadd_ps(q, t, set1(0.5f * 0.282064497f));
  return _mm256_mul_ps(q, t);
}

// erf: x·P(x²) for |x| < 1 (fit of relative error 1.2e-9), else ±(1 − erfc|x|).
inline __m256 erf_ps(__m256 x) {
  const __m256 s = _mm256_mul_ps(x, x);
  __m256 p = set1(7.85385491e-05f);
  p = _mm256_fmadd_ps(p, s, set1(-8.01019196e-04f));
  p = _mm256_fmadd_ps(p, s, set1(5.18832728e-03f));
  p = _mm256_fmadd_ps(p, s, set1(-2.68538110e-02f));
  p = _mm256_fmadd_ps(p, s, set1(1.12835854e-01f));
  p = _mm256_fmadd_ps(p, s, set1(-3.76126260e-01f));
  p = _mm256_fmadd_ps(p, s, set1(1.12837911f));
  const __m256 small = _mm256_mul_ps(p, x);

  const __m256 z = _mm256_min_ps(set1(10.0f), abs_ps(x));
  const __m256 z2 = _mm256_mul_ps(z, z);
  const __m256 z2lo = _mm256_fmsub_ps(z, z, z2);  // z² = z2 + z2lo exactly
  const __m256 t = _mm256_div_ps(set1(1.0f), _mm256_fmadd_ps(z, set1(0.5f), set1(1.0f)));
  const __m256 half_erfc = _mm256_mul_ps(half_erfcx_t(t), exp_neg_hilo(neg_ps(z2), neg_ps(z2lo)));
  __m256 big = _mm256_fnmadd_ps(half_erfc, set1(2.0f), set1(1.0f));
  big = _mm256_or_ps(big, _mm256_and_ps(x, set1(-0.0f)));
  return _mm256_blendv_ps(big, small, lt(abs_ps(x), set1(1.0f)));
}

// Φ(x) = ½ erfc(−x/√2), computed from ½ erfc(|x|/√2) so that the left tail keeps its relative precision;
// also returns e^(−x²/2) for the derivative.
inline __m256 normal_cdf_ps(__m256 x, __m256* gauss) {
  const __m256 ax = _mm256_min_ps(set1(20.0f), abs_ps(x));
  const __m256 m = _mm256_mul_ps(ax, set1(-0.5f));  // exact
  const __m256 h = _mm256_mul_ps(m, ax);           // −x²/2 = h + hlo exactly
  *gauss = exp_neg_hilo(h, _mm256_fmsub_ps(m, ax, h));
  // t = 1/(1 + z/2) with z = |x|/√2
  const __m256 t = _mm256_div_ps(set1(1.0f), _mm256_fmadd_ps(ax, set1(0.353553390593273762f), set1(1.0f)));
  const __m256 half_erfc = _mm256_mul_ps(half_erfcx_t(t), *gauss);
  return _mm256_blendv_ps(_mm256_sub_ps(set1(1.0f), half_erfc), half_erfc, x);  // by x's sign bit
}

inline __m256 gelu_erf_ps(__m256 x) {
  __m256 g;
  return _mm256_mul_ps(x, normal_cdf_ps(x, &g));
}

// Φ(x) + x·φ(x)
inline __m256 gelu_erf_grad_ps(__m256 x) {
  __m256 g;
  const __m256 cdf = normal_cdf_ps(x, &g);
  return _mm256_fmadd_ps(_mm256_mul_ps(x, g), set1(0.398942280401432678f), cdf);
}

constexpr float kGeluK = 0.797884560802865356f;  // √(2/π)
constexpr float kGeluC = 0.044715f;

// 2u = 2√(2/π)(x + 0.044715x³) as hi + lo: in the left tail GELU is x·e^(2u) with |2u| up to ~20, where one
// rounding of 2u alone would cost 1e-6 relative. The products' rounding errors (by FMA), the rounding of
// the sum 2k + 2kc·x² (exact by Sterbenz while |x| < 4.7, close beyond) and the constants' low parts go to lo.
inline __m256 gelu_two_u(__m256 x, __m256* lo) {
  const __m256 c1 = set1(1.59576917f), c1_lo = set1(-4.53406805e-08f);  // 2√(2/π)
  const __m256 c2 = set1(0.0713548139f), c2_lo = set1(2.39883247e-09f);  // 2√(2/π)·0.044715
  const __m256 x2 = _mm256_mul_ps(x, x);
  const __m256 x2_lo = _mm256_fmsub_ps(x, x, x2);
  const __m256 a = _mm256_fmadd_ps(c2, x2, c1);  // 2k(1 + c·x²)
  __m256 a_lo = _mm256_fmadd_ps(c2, x2, _mm256_sub_ps(c1, a));
  a_lo = _mm256_add_ps(a_lo, _mm256_fmadd_ps(c2_lo, x2, _mm256_fmadd_ps(c2, x2_lo, c1_lo)));
  const __m256 v = _mm256_mul_ps(x, a);
  // |lo| is only large where |2u| is far beyond exp's range; exp_hilo wants |lo| <= 1
  *lo = _mm256_min_ps(set1(1.0f), _mm256_max_ps(set1(-1.0f), _mm256_fmadd_ps(x, a_lo, _mm256_fmsub_ps(x, a, v))));
  return v;
}

// ½x(1 + tanh u) = x·σ(2u): no cancellation in the left tail. u is taken at x clamped to ±1e4 (x² must not
// overflow), where σ(2u) is already exactly 0 or 1.
inline __m256 gelu_tanh_ps(__m256 x) {
  __m256 lo;
  const __m256 two_u = gelu_two_u(_mm256_min_ps(set1(1e4f), _mm256_max_ps(set1(-1e4f), x)), &lo);
  return _mm256_div_ps(x, _mm256_add_ps(set1(1.0f), exp_hilo(neg_ps(two_u), neg_ps(lo))));
}

// ½(1 + t) + ½x(1 − t²)·u', with t = tanh u = 2σ(2u) − 1: = σ + 2x·σ(1 − σ)·u', and σ(1 − σ) = a/(1 + a)² with
// a = e^(−2|u|), which neither overflows nor cancels. x is clamped inside u only: σ(1 − σ) is exactly 0 there.
inline __m256 gelu_tanh_grad_ps(__m256 x) {
  const __m256 xc = _mm256_min_ps(set1(1e4f), _mm256_max_ps(set1(-1e4f), x));
  __m256 lo;
  const __m256 two_u = gelu_two_u(xc, &lo);
  const __m256 sign = _mm256_and_ps(two_u, set1(-0.0f));
  // e^(−|2u|): flip hi and lo together
  const __m256 a = exp_neg_hilo(_mm256_or_ps(two_u, set1(-0.0f)), _mm256_xor_ps(lo, _mm256_xor_ps(sign, set1(-0.0f))));
  const __m256 sp = _mm256_div_ps(set1(1.0f), _mm256_add_ps(set1(1.0f), a));  // σ(2|u|)
  const __m256 sn = _mm256_mul_ps(a, sp);                                      // σ(−2|u|)
  const __m256 s = _mm256_blendv_ps(sp, sn, two_u);                            // by the sign of 2u
  const __m256 du = _mm256_fmadd_ps(_mm256_mul_ps(xc, xc), set1(3.0f * kGeluK * kGeluC), set1(kGeluK));  // u'
  const __m256 spread = _mm256_mul_ps(_mm256_mul_ps(sn, sp), du);  // σ(1 − σ)·u'
  return _mm256_fmadd_ps(x, _mm256_mul_ps(spread, set1(2.0f)), s);  // 2x would overflow for huge x
}

}  // namespace avx2
}  // namespace pixelllm
