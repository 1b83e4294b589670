// Attention with decomposed relative positions (see attention.h). A task takes a range of one item's query
// rows: it computes their relative-position terms (one small GEMM per grid row and per grid column), packs the
// item's keys and values once with the GEMM packers, then runs the GEMM micro-kernel directly, a block of rows
// at a time: scores = the broadcast sum of the row and column terms, scores += scale·Q_blk·Kᵀ, exp(scores − row
// max) in place, out_blk = scores·V / row sums (normalising the hv outputs instead of the Tk scores).
#include "attention.h"

#include <algorithm>
#include <atomic>

#include "gemm_blocked.h"
#include "js_args.h"
#include "kernel_select.h"
#include "thread_pool.h"
#include "workspace.h"

namespace pixelllm {
namespace {

inline index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }
inline index_t round_up(index_t a, index_t b) { return ceil_div(a, b) * b; }

// A block's scores are kept near 64K floats (256 KB: inside L2 while the packed panels stream past).
constexpr index_t kScoreFloats = 65536;

// term_h[r − lo] = q_r·Rh[h(r)]ᵀ (Hk values) and term_w[r − lo] = q_r·Rw[w(r)]ᵀ (Wk values) for rows r in [lo, hi):
// the rows of one grid row are consecutive, those of one grid column W rows apart.
bool relative_terms(const KernelSet& ks, const AttentionShape& s, const AttentionItem& it, index_t lo, index_t hi,
                    float* term_h, float* term_w) {
  for (index_t h = lo / s.W; h * s.W < hi; ++h) {
    const index_t r0 = std::max(lo, h * s.W), r1 = std::min(hi, (h + 1) * s.W);
    if (!gemm_blocked(ks, false, true, r1 - r0, s.Hk, s.hs, 1.0f, it.q + r0 * it.ldq, it.ldq, s.rel_h + h * s.Hk * s.hs,
                      s.hs, 0.0f, term_h + (r0 - lo) * s.Hk, s.Hk))
      return false;
  }
  for (index_t w = 0; w < s.W; ++w) {
    const index_t r0 = lo + ((w - lo % s.W) % s.W + s.W) % s.W;  // first row of column w at or after lo
    if (r0 >= hi) continue;
    const index_t count = ceil_div(hi - r0, s.W);
    if (!gemm_blocked(ks, false, true, count, s.Wk, s.hs, 1.0f, it.q + r0 * it.ldq, s.W * it.ldq,
                      s.rel_w + w * s.Wk * s.hs, s.hs, 0.0f, term_w + (r0 - lo) * s.Wk, s.W * s.Wk))
      return false;
  }
  return true;
}

}  // namespace

bool rel_pos_attention_rows(const KernelSet& ks, const EltKernels& ek, const AttentionShape& s,
                            const AttentionItem& it, index_t row_begin, index_t row_end) {
  const index_t mr = ks.mr, nr = ks.nr, kc = ks.kc;
  const index_t Tk = s.Hk * s.Wk, span = row_end - row_begin;
  Workspace& ws = thread_workspace();
  const index_t rows = std::min(round_up(span, mr), std::max(mr, kScoreFloats / Tk / mr * mr));
  float* terms = ws.bias.get(static_cast<std::size_t>(span * (s.Hk + s.Wk) + rows));
  if (terms == nullptr) return false;
  float* term_w = terms + span * s.Hk;
  float* inv_sums = term_w + span * s.Wk;
  if (!relative_terms(ks, s, it, row_begin, row_end, terms, term_w)) return false;

  // Kᵀ as the B operand of Q·Kᵀ, one panel set per kc-slice of the head dimension; V as the B operand of
  // P·V, one panel set per kc-slice of the keys.
  const index_t tk_pad = round_up(Tk, nr), hv_pad = round_up(s.hv, nr);
  float* kpack = ws.keys.get(static_cast<std::size_t>(s.hs * tk_pad));
  float* vpack = ws.values.get(static_cast<std::size_t>(Tk * hv_pad));
  float* scores = ws.scores.get(static_cast<std::size_t>(rows * Tk));
  float* apack = ws.a.get(static_cast<std::size_t>(round_up(rows, mr) * std::min(kc, std::max(s.hs, Tk))));
  if (kpack == nullptr || vpack == nullptr || scores == nullptr || apack == nullptr) return false;
  for (index_t pc = 0; pc < s.hs; pc += kc) ks.pack_b(true, it.k + pc, it.ldk, std::min(kc, s.hs - pc), Tk, kpack + pc * tk_pad);
  for (index_t pc = 0; pc < Tk; pc += kc) {
    ks.pack_b(false, it.v + pc * it.ldv, it.ldv, std::min(kc, Tk - pc), s.hv, vpack + pc * hv_pad);
  }

  for (index_t i0 = row_begin; i0 < row_end; i0 += rows) {
    const index_t mb = std::min(rows, row_end - i0);
    for (index_t i = 0; i < mb; ++i) {
      const float* th = terms + (i0 - row_begin + i) * s.Hk;
      const float* tw = term_w + (i0 - row_begin + i) * s.Wk;
      float* row = scores + i * Tk;
      for (index_t a = 0; a < s.Hk; ++a, row += s.Wk)
        for (index_t b = 0; b < s.Wk; ++b) row[b] = th[a] + tw[b];
    }
    for (index_t pc = 0; pc < s.hs; pc += kc) {
      const index_t kb = std::min(kc, s.hs - pc);
      ks.pack_a(false, it.q + i0 * it.ldq + pc, it.ldq, mb, kb, apack);
      const float* kp = kpack + pc * tk_pad;
      for (index_t jr = 0; jr < Tk; jr += nr) {
        const int n = static_cast<int>(std::min(nr, Tk - jr));
        for (index_t ir = 0; ir < mb; ir += mr) {
          const int m = static_cast<int>(std::min(mr, mb - ir));
          ks.micro(kb, apack + ir * kb, kp + jr * kb, scores + ir * Tk + jr, Tk, s.scale, 1.0f, m, n);
        }
      }
    }
    ek.exp_rows(scores, mb, Tk, inv_sums);
    for (index_t pc = 0; pc < Tk; pc += kc) {
      const index_t kb = std::min(kc, Tk - pc);
      ks.pack_a(false, scores + pc, Tk, mb, kb, apack);
      const float* vp = vpack + pc * hv_pad;
      for (index_t jr = 0; jr < s.hv; jr += nr) {
        const int n = static_cast<int>(std::min(nr, s.hv - jr));
        for (index_t ir = 0; ir < mb; ir += mr) {
          const int m = static_cast<int>(std::min(mr, mb - ir));
          ks.micro(kb, apack + ir * kb, vp + jr * kb, it.out + (i0 + ir) * it.ldo + jr, it.ldo, 1.0f,
                   pc == 0 ? 0.0f : 1.0f, m, n);
        }
      }
    }
    for (index_t i = 0; i < mb; ++i) {
      float* o = it.out + (i0 + i) * it.ldo;
      for (index_t j = 0; j < s.hv; ++j) o[j] *= inv_sums[i];
    }
  }
  return true;
}

namespace {

// relPosAttentionF32(Q, offsQ, ldq, K, offsK, ldk, V, offsV, ldv, O, offsO, ldo, relH, relW, H, W, Hk, Wk, hs, hv,
// scale): item i reads Q at offsQ[i] (H·W×hs), K at offsK[i] (Hk·Wk×hs), V at offsV[i] (Hk·Wk×hv) and writes O at
// offsO[i] (H·W×hv); relH (H×Hk×hs) and relW (W×Wk×hs) are shared by the items.
napi_value RelPosAttentionF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "relPosAttentionF32", 21);
  const F32Array Q = r.f32(0, "Q");
  const I32Array offsQ = r.i32(1, "offsQ");
  const index_t ldq = r.integer(2, "ldq", 1);
  const F32Array K = r.f32(3, "K");
  const I32Array offsK = r.i32(4, "offsK");
  const index_t ldk = r.integer(5, "ldk", 1);
  const F32Array V = r.f32(6, "V");
  const I32Array offsV = r.i32(7, "offsV");
  const index_t ldv = r.integer(8, "ldv", 1);
  const F32Array O = r.f32(9, "O");
  const I32Array offsO = r.i32(10, "offsO");
  const index_t ldo = r.integer(11, "ldo", 1);
  const F32Array RH = r.f32(12, "relH");
  const F32Array RW = r.f32(13, "relW");
  AttentionShape s{};
  s.H = r.integer(14, "H", 1);
  s.W = r.integer(15, "W", 1);
  s.Hk = r.integer(16, "Hk", 1);
  s.Wk = r.integer(17, "Wk", 1);
  s.hs = r.integer(18, "hs", 1);
  s.hv = r.integer(19, "hv", 1);
  s.scale = static_cast<float>(r.number(20, "scale"));
  if (!r.ok()) return nullptr;
  const index_t n = offsQ.length, Tq = s.H * s.W, Tk = s.Hk * s.Wk;
  if (offsK.length != n || offsV.length != n || offsO.length != n) {
    r.range_error("offsQ, offsK, offsV and offsO must hold one offset per item (lengths %td, %td, %td, %td)", n,
                  offsK.length, offsV.length, offsO.length);
    return nullptr;
  }
  for (index_t i = 0; i < n && r.ok(); ++i) {
    r.matrix(Q, "Q", offsQ.data[i], "offsQ[i]", Tq, s.hs, ldq, "ldq");
    r.matrix(K, "K", offsK.data[i], "offsK[i]", Tk, s.hs, ldk, "ldk");
    r.matrix(V, "V", offsV.data[i], "offsV[i]", Tk, s.hv, ldv, "ldv");
    r.matrix(O, "O", offsO.data[i], "offsO[i]", Tq, s.hv, ldo, "ldo");
  }
  r.matrix(RH, "relH", 0, "0", s.H * s.Hk, s.hs, s.hs, "hs");
  r.matrix(RW, "relW", 0, "0", s.W * s.Wk, s.hs, s.hs, "hs");
  if (!r.ok()) return nullptr;
  if (n == 0) return undefined(env);
  s.rel_h = RH.data;
  s.rel_w = RW.data;

  const KernelSet& ks = active_kernels();
  const EltKernels& ek = active_elt_kernels();
  // An item is split into row ranges only when there are fewer items than threads: each task packs its item's
  // keys and values once.
  const int threads = ThreadPool::instance().threads();
  const index_t splits = std::min<index_t>(ceil_div(threads, n), ceil_div(Tq, ks.mr));
  const index_t per = round_up(ceil_div(Tq, splits), ks.mr);
  std::atomic<bool> ok{true};
  ThreadPool::instance().run(static_cast<int>(n * splits), [&](int t) {
    const index_t i = t / splits, lo = (t % splits) * per, hi = std::min(Tq, lo + per);
    if (lo >= hi) return;
    const AttentionItem it{Q.data + offsQ.data[i], ldq, K.data + offsK.data[i], ldk,
                           V.data + offsV.data[i], ldv, O.data + offsO.data[i], ldo};
    if (!rel_pos_attention_rows(ks, ek, s, it, lo, hi)) ok = false;
  });
  if (!ok) napi_throw_error(env, nullptr, "relPosAttentionF32: out of memory for the packed keys and scores");
  return undefined(env);
}

// relPosAddF32(scores, offS, termH, offH, termW, offW, rows, Hk, Wk): the training path's separate bias add,
// scores[r, a, b] += termH[r, a] + termW[r, b] for rows query rows of an Hk×Wk key grid, all contiguous. Summed in
// double in the TypeScript loop's order (addRelPos in src/tensor/functional/attention.ts), so both agree exactly.
napi_value RelPosAddF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "relPosAddF32", 9);
  const F32Array s = r.f32(0, "scores");
  const index_t off_s = r.integer(1, "offS");
  const F32Array th = r.f32(2, "termH");
  const index_t off_h = r.integer(3, "offH");
  const F32Array tw = r.f32(4, "termW");
  const index_t off_w = r.integer(5, "offW");
  const index_t rows = r.integer(6, "rows"), Hk = r.integer(7, "Hk"), Wk = r.integer(8, "Wk");
  if (!r.ok()) return nullptr;
  const auto fits = [&](const F32Array& a, const char* name, index_t off, index_t count) {
    if (r.ok() && (off > a.length || count > a.length - off))
      r.range_error("%s (length %td) is too short for %td values at %td", name, a.length, count, off);
  };
  fits(s, "scores", off_s, rows * Hk * Wk);
  fits(th, "termH", off_h, rows * Hk);
  fits(tw, "termW", off_w, rows * Wk);
  if (!r.ok()) return nullptr;
  for (index_t q = 0; q < rows; q++) {
    float* row = s.data + off_s + q * Hk * Wk;
    const float* h = th.data + off_h + q * Hk;
    const float* w = tw.data + off_w + q * Wk;
    for (index_t a = 0; a < Hk; a++) {
      const double ha = h[a];
      float* out = row + a * Wk;
      for (index_t b = 0; b < Wk; b++) out[b] = static_cast<float>(static_cast<double>(out[b]) + ha + w[b]);
    }
  }
  return undefined(env);
}

// relPosAddBackwardF32(g, offG, dh, dw, rows, Hk, Wk): the gradients of relPosAddF32's two terms from the scores'
// gradient g (rows × Hk × Wk, contiguous): dh[r, a] = Σ_b g[r, a, b] and dw[r, b] = Σ_a g[r, a, b], in one pass,
// summed in float32 in index order.
napi_value RelPosAddBackwardF32(napi_env env, napi_callback_info info) {
  ArgReader r(env, info, "relPosAddBackwardF32", 7);
  const F32Array g = r.f32(0, "g");
  const index_t off_g = r.integer(1, "offG");
  const F32Array dh = r.f32(2, "dh");
  const F32Array dw = r.f32(3, "dw");
  const index_t rows = r.integer(4, "rows"), Hk = r.integer(5, "Hk"), Wk = r.integer(6, "Wk");
  if (!r.ok()) return nullptr;
  if (off_g > g.length || rows * Hk * Wk > g.length - off_g) r.range_error("g (length %td) is too short for %td values at %td", g.length, rows * Hk * Wk, off_g);
  else if (dh.length < rows * Hk) r.range_error("dh (length %td) is too short for %td values", dh.length, rows * Hk);
  else if (dw.length < rows * Wk) r.range_error("dw (length %td) is too short for %td values", dw.length, rows * Wk);
  if (!r.ok()) return nullptr;
  for (index_t q = 0; q < rows; q++) {
    const float* gr = g.data + off_g + q * Hk * Wk;
    float* h = dh.data + q * Hk;
    float* w = dw.data + q * Wk;
    for (index_t b = 0; b < Wk; b++) w[b] = 0;
    for (index_t a = 0; a < Hk; a++) {
      const float* row = gr + a * Wk;
      float s = 0;
      for (index_t b = 0; b < Wk; b++) {
        s += row[b];
        w[b] += row[b];
      }
      h[a] = s;
    }
  }
  return undefined(env);
}

}  // namespace

void register_attention(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"relPosAttentionF32", nullptr, RelPosAttentionF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"relPosAddF32", nullptr, RelPosAddF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"relPosAddBackwardF32", nullptr, RelPosAddBackwardF32, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}

}  // namespace pixelllm
