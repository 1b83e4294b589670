// N-API bindings of the optimiser kernels (see training.h). The loops are plain C++ in double: the compiler
// vectorises them at the baseline ISA, and without fused multiply-adds (the build passes -ffp-contract=off) each
// value is rounded exactly where the TypeScript loop rounds it.
#include "training.h"

#include <cmath>

#include "js_args.h"

namespace pixelllm {
namespace {

// Every array must hold n values.
bool same_length(ArgReader& r, index_t n, const F32Array& a, const char* name) {
  if (r.ok() && a.length != n) r.range_error("%s has %td values, expected %td", name, a.length, n);
  return r.ok();
}

// adamwF32(p, g, m, v, b1, b2, eps, keep, stepSize, bc2Sqrt): one decoupled-decay AdamW step, in place:
//   m ← b1·m + (1−b1)·g;  v ← b2·v + (1−b2)·g²;  p ← p·keep − stepSize·m / (√v / bc2Sqrt + eps)
// with m and v rounded to float32 before p reads them, as torch.optim.AdamW.
// The update loop, cloned for AVX-512 and AVX2 where the toolchain can pick a clone at load time (GNU ifunc): the
// square root and division in double are what bound it, and wider vectors do more of them per cycle. No clone
// may fuse a multiply-add (-ffp-contract=off), so every clone rounds as the TypeScript loop does.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void adamw_loop(float* __restrict ps, const float* __restrict gs, float* __restrict ms, float* __restrict vs, index_t n,
                double b1, double b2, double eps, double keep, double step_size, double bc2_sqrt) {
  const double c1 = 1 - b1, c2 = 1 - b2;
  for (index_t i = 0; i < n; i++) {
    const double gi = gs[i];
    const float m = static_cast<float>(b1 * ms[i] + c1 * gi);
    const float v = static_cast<float>(b2 * vs[i] + c2 * gi * gi);
    ms[i] = m;
    vs[i] = v;
    ps[i] = static_cast<float>(ps[i] * keep - (step_size * m) / (std::sqrt(static_cast<double>(v)) / bc2_sqrt + eps));
  }
}

napi_value AdamwF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "adamwF32", 10);
  const F32Array p = r.f32(0, "p");
  const F32Array g = r.f32(1, "g");
  const F32Array m = r.f32(2, "m");
  const F32Array v = r.f32(3, "v");
  const double b1 = r.number(4, "b1"), b2 = r.number(5, "b2"), eps = r.number(6, "eps");
  const double keep = r.number(7, "keep"), step_size = r.number(8, "stepSize"), bc2_sqrt = r.number(9, "bc2Sqrt");
  const index_t n = p.length;
  if (!same_length(r, n, g, "g") || !same_length(r, n, m, "m") || !same_length(r, n, v, "v")) return nullptr;
  adamw_loop(p.data, g.data, m.data, v.data, n, b1, b2, eps, keep, step_size, bc2_sqrt);
  return undefined(env);
}

// Σ f(x) over n values in double, in eight interleaved partial sums (lane i mod 8) added in lane order, then the
// n mod 8 trailing values in order.
template <bool Square>
double lane_sum(const float* xs, index_t n) {
  double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  const index_t body = n - n % 8;
  for (index_t i = 0; i < body; i += 8)
    for (int j = 0; j < 8; j++) lanes[j] += Square ? static_cast<double>(xs[i + j]) * xs[i + j] : xs[i + j];
  double sum = 0;
  for (int j = 0; j < 8; j++) sum += lanes[j];
  for (index_t i = body; i < n; i++) sum += Square ? static_cast<double>(xs[i]) * xs[i] : xs[i];
  return sum;
}

// sumSquaresF32(x, off, n) / sumF32(x, off, n): Σ x² / Σ x over n values from off, by lane_sum.
template <bool Square>
napi_value LaneSumF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, Square ? "sumSquaresF32" : "sumF32", 3);
  const F32Array x = r.f32(0, "x");
  const index_t off = r.integer(1, "off");
  const index_t n = r.integer(2, "n");
  if (r.ok() && (off > x.length || n > x.length - off)) r.range_error("x (length %td) is too short for %td values at off %td", x.length, n, off);
  if (!r.ok()) return nullptr;
  napi_value out;
  napi_create_double(env, lane_sum<Square>(x.data + off, n), &out);
  return out;
}

}  // namespace

void register_training(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"adamwF32", nullptr, AdamwF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sumSquaresF32", nullptr, LaneSumF32<true>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sumF32", nullptr, LaneSumF32<false>, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace pixelllm
