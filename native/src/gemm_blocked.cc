#include "gemm_blocked.h"

#include <algorithm>

#include "workspace.h"

namespace pixelllm {
namespace {

inline index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }
inline index_t round_up(index_t a, index_t b) { return ceil_div(a, b) * b; }

// Split `total` into equal blocks of at most `max_block`, each a multiple of `unit` (except the last): K = 300
// with kc = 256 becomes 152 + 148 rather than 256 + 44, which keeps the short block from wasting a pass.
inline index_t balanced_block(index_t total, index_t max_block, index_t unit) {
  const index_t blocks = ceil_div(total, max_block);
  return std::min(max_block, round_up(ceil_div(total, blocks), unit));
}

}  // namespace

bool gemm_blocked(const KernelSet& ks, bool transA, bool transB, index_t M, index_t N, index_t K, float alpha,
                  const float* A, index_t lda, const float* B, index_t ldb, float beta, float* C, index_t ldc) {
  const index_t mr = ks.mr, nr = ks.nr;
  const index_t kc = balanced_block(K, ks.kc, 1);
  const index_t mc = balanced_block(M, ks.mc, mr);
  const index_t nc = balanced_block(N, ks.nc, nr);

  Workspace& ws = thread_workspace();
  float* bpack = ws.b.get(static_cast<std::size_t>(kc * round_up(nc, nr)));
  float* apack = ws.a.get(static_cast<std::size_t>(round_up(mc, mr) * kc));
  if (bpack == nullptr || apack == nullptr) return false;

  for (index_t jc = 0; jc < N; jc += nc) {
    const index_t nb = std::min(nc, N - jc);
    for (index_t pc = 0; pc < K; pc += kc) {
      const index_t kb = std::min(kc, K - pc);
      ks.pack_b(transB, transB ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, kb, nb, bpack);
      // Later k blocks accumulate into what the first one wrote.
      const float beta_k = pc == 0 ? beta : 1.0f;
      for (index_t ic = 0; ic < M; ic += mc) {
        const index_t mb = std::min(mc, M - ic);
        ks.pack_a(transA, transA ? A + pc * lda + ic : A + ic * lda + pc, lda, mb, kb, apack);
        for (index_t jr = 0; jr < nb; jr += nr) {
          const int n = static_cast<int>(std::min(nr, nb - jr));
          const float* bp = bpack + jr * kb;
          for (index_t ir = 0; ir < mb; ir += mr) {
            const int m = static_cast<int>(std::min(mr, mb - ir));
            ks.micro(kb, apack + ir * kb, bp, C + (ic + ir) * ldc + jc + jr, ldc, alpha, beta_k, m, n);
          }
        }
      }
    }
  }
  return true;
}

}  // namespace pixelllm
