// Fused forward of attention with MViTv2's decomposed relative positions (SAM's image encoder): queries are the
// cells of an H×W grid and keys of an Hk×Wk grid, and the score of query i = (h, w) and key j = (a, b) is
//   scale·q_i·k_j + q_i·Rh[h, a] + q_i·Rw[w, b].
// Query rows run in blocks whose scores stay in a per-thread buffer, so the Tq×Tk matrix never goes to memory.
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>

#include "elementwise.h"
#include "kernel_set.h"

namespace pixelllm {

// One item of the batch (one head of one image or window). Matrices are row-major with the given leading
// dimension; rel_h is H×Hk×hs and rel_w W×Wk×hs, contiguous.
struct AttentionItem {
  const float* q;
  index_t ldq;
  const float* k;
  index_t ldk;
  const float* v;
  index_t ldv;
  float* out;
  index_t ldo;
};

struct AttentionShape {
  index_t H, W, Hk, Wk, hs, hv;
  float scale;
  const float* rel_h;
  const float* rel_w;
};

// Query rows [row_begin, row_end) of one item on the calling thread; false when scratch memory could not be
// allocated.
bool rel_pos_attention_rows(const KernelSet& ks, const EltKernels& ek, const AttentionShape& s,
                            const AttentionItem& it, index_t row_begin, index_t row_end);

// Adds relPosAttentionF32, and relPosAddF32 / relPosAddBackwardF32 (the training path's bias add), to `exports`.
void register_attention(napi_env env, napi_value exports);

}  // namespace pixelllm
