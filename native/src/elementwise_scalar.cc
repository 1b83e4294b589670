// Portable element-wise, softmax and normalisation kernels: the fallback on CPUs without AVX2/FMA and on other
// architectures. Unary functions are evaluated in double with <cmath> and rounded once; the row kernels follow
// rows.ts line by line.
#include <cmath>

#include "elementwise.h"

namespace pixelllm {
namespace {

constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kGeluK = 0.79788456080286535588;  // √(2/π)

// Φ(x) = ½ erfc(−x/√2): erfc keeps the left tail's relative precision, where ½(1 + erf) would cancel.
double normal_cdf(double v) { return 0.5 * std::erfc(-v * kSqrtHalf); }

double apply_unary(int op, double v) {
  switch (op) {
    case kExp: return std::exp(v);
    case kLog: return std::log(v);
    case kSqrt: return std::sqrt(v);
    case kRsqrt: return 1 / std::sqrt(v);
    case kTanh: return std::tanh(v);
    case kErf: return std::erf(v);
    case kSigmoid: return 1 / (1 + std::exp(-v));
    case kNeg: return -v;
    case kAbs: return std::fabs(v);
    case kGeluErf: return v * normal_cdf(v);
    case kGeluErfGrad: return normal_cdf(v) + v * kInvSqrt2Pi * std::exp(-0.5 * v * v);
    case kGeluTanh: return 0.5 * v * (1 + std::tanh(kGeluK * (v + 0.044715 * v * v * v)));
    case kRelu: return v < 0 ? 0 : v;
    case kReluGrad: return v >= 0 ? 1 : 0;
    case kGeluTanhGrad: {
      const double t = std::tanh(kGeluK * (v + 0.044715 * v * v * v));
      return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * kGeluK * (1 + 3 * 0.044715 * v * v);
    }
  }
  return v;
}

void unary(int op, const float* x, float* y, index_t n) {
  for (index_t i = 0; i < n; ++i) y[i] = static_cast<float>(apply_unary(op, x[i]));
}

template <int Op>
inline float apply(float a, float b) {
  if (Op == kAdd) return a + b;
  if (Op == kSub) return a - b;
  if (Op == kMul) return a * b;
  return a / b;
}

template <int Op, bool Swap>
void binary_op(const float* a, const float* b, float* y, index_t cols, int mode, index_t begin, index_t end) {
  for (index_t i = begin; i < end; ++i) {
    const float bv = mode == kSame ? b[i] : mode == kRow ? b[i % cols] : mode == kColumn ? b[i / cols] : b[0];
    y[i] = Swap ? apply<Op>(bv, a[i]) : apply<Op>(a[i], bv);
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

void softmax_forward(const float* x, float* y, index_t rows, index_t cols, bool log) {
  for (index_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    double m = -INFINITY;
    for (index_t j = 0; j < cols; ++j)
      if (xr[j] > m) m = xr[j];
    if (m == -INFINITY) m = 0;  // a fully masked row stays NaN-free in the shift
    double s = 0;
    for (index_t j = 0; j < cols; ++j) {
      const double e = std::exp(xr[j] - m);
      s += e;
      if (!log) yr[j] = static_cast<float>(e);
    }
    if (log) {
      const double ls = std::log(s);
      for (index_t j = 0; j < cols; ++j) yr[j] = static_cast<float>(xr[j] - m - ls);
    } else {
      const double inv = 1 / s;
      for (index_t j = 0; j < cols; ++j) yr[j] = static_cast<float>(yr[j] * inv);
    }
  }
}

void exp_rows(float* x, index_t rows, index_t cols, float* inv_sums) {
  for (index_t r = 0; r < rows; ++r) {
    float* xr = x + r * cols;
    double m = -INFINITY;
    for (index_t j = 0; j < cols; ++j)
      if (xr[j] > m) m = xr[j];
    if (m == -INFINITY) m = 0;
    double s = 0;
    for (index_t j = 0; j < cols; ++j) {
      const double e = std::exp(xr[j] - m);
      s += e;
      xr[j] = static_cast<float>(e);
    }
    inv_sums[r] = static_cast<float>(1 / s);
  }
}

void softmax_backward(const float* y, const float* g, float* dx, index_t rows, index_t cols, bool log) {
  for (index_t r = 0; r < rows; ++r) {
    const index_t o = r * cols;
    double s = 0;
    if (log) {
      for (index_t j = 0; j < cols; ++j) s += g[o + j];
      for (index_t j = 0; j < cols; ++j) dx[o + j] = static_cast<float>(g[o + j] - std::exp(double{y[o + j]}) * s);
    } else {
      for (index_t j = 0; j < cols; ++j) s += double{g[o + j]} * y[o + j];
      for (index_t j = 0; j < cols; ++j) dx[o + j] = static_cast<float>(y[o + j] * (g[o + j] - s));
    }
  }
}

void norm_forward(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd, index_t rows,
                  index_t cols, double eps, bool rms) {
  for (index_t r = 0; r < rows; ++r) {
    const index_t o = r * cols;
    double mu = 0;
    if (!rms) {
      for (index_t j = 0; j < cols; ++j) mu += x[o + j];
      mu /= static_cast<double>(cols);
    }
    double v = 0;
    for (index_t j = 0; j < cols; ++j) v += (x[o + j] - mu) * (x[o + j] - mu);
    const double rs = 1 / std::sqrt(v / static_cast<double>(cols) + eps);
    mean[r] = static_cast<float>(mu);
    rstd[r] = static_cast<float>(rs);
    for (index_t j = 0; j < cols; ++j) {
      double t = (x[o + j] - mu) * rs;
      if (w) t *= w[j];
      if (b) t += b[j];
      y[o + j] = static_cast<float>(t);
    }
  }
}

void norm_backward(const float* x, const float* w, const float* mean, const float* rstd, const float* g, float* dx,
                   double* dw, double* db, float*, index_t rows, index_t cols, bool rms) {
  for (index_t r = 0; r < rows; ++r) {
    const index_t o = r * cols;
    const double mu = mean[r], rs = rstd[r];
    double sd = 0, sdx = 0;
    for (index_t j = 0; j < cols; ++j) {
      const double xh = (x[o + j] - mu) * rs;
      const double d = w ? double{g[o + j]} * w[j] : g[o + j];
      sd += d;
      sdx += d * xh;
      if (dw) dw[j] += g[o + j] * xh;
      if (db) db[j] += g[o + j];
    }
    const double md = rms ? 0 : sd / static_cast<double>(cols);
    const double mdx = sdx / static_cast<double>(cols);
    for (index_t j = 0; j < cols; ++j) {
      const double xh = (x[o + j] - mu) * rs;
      const double d = w ? double{g[o + j]} * w[j] : g[o + j];
      dx[o + j] = static_cast<float>(rs * (d - md - xh * mdx));
    }
  }
}

const EltKernels kScalarSet = {"scalar", unary, binary, softmax_forward, softmax_backward, exp_rows, norm_forward, norm_backward};

}  // namespace

const EltKernels* elt_kernels_scalar() { return &kScalarSet; }

}  // namespace pixelllm
