// Portable packing routines, templated on the micro-tile. Included by every kernel translation unit so that
// each copy is compiled (and auto-vectorised) with that unit's instruction set; ISA files replace the two
// transposing cases with shuffles.
//
// The two copying cases (rows of the panel are contiguous in the source) move strips of kStrip source rows
// across all panels at a time. Walking one panel down all kc rows instead makes every access one row stride
// apart — with a power-of-two stride they all land in the same L1 sets — and measured 2-4× slower.
#pragma once
#include <algorithm>
#include <cstring>

#include "kernel_set.h"

namespace pixelllm {

constexpr index_t kStrip = 8;

// Copies `width` floats per row for `rows` rows from src (stride ld) into dst (stride W), zero-filling up to W.
template <int W>
inline void copy_rows(const float* src, index_t ld, index_t rows, int width, float* dst) {
  if (width == W) {
    for (index_t r = 0; r < rows; ++r) std::memcpy(dst + r * W, src + r * ld, sizeof(float) * W);
    return;
  }
  for (index_t r = 0; r < rows; ++r) {
    float* d = dst + r * W;
    for (int j = 0; j < width; ++j) d[j] = src[r * ld + j];
    for (int j = width; j < W; ++j) d[j] = 0.0f;
  }
}

// Panels of MR rows of op(A), k-major: dst[k*MR + i]. Rows past mc are zero so the micro-kernel can always
// compute a full tile.
template <int MR>
inline void pack_a_generic(bool trans, const float* A, index_t lda, index_t mc, index_t kc, float* dst) {
  if (trans) {
    // op(A)(i,k) = A[k*lda + i]: each k contributes MR contiguous floats to a panel.
    for (index_t k0 = 0; k0 < kc; k0 += kStrip) {
      const index_t rows = std::min(kStrip, kc - k0);
      for (index_t i0 = 0; i0 < mc; i0 += MR)
        copy_rows<MR>(A + k0 * lda + i0, lda, rows, static_cast<int>(std::min<index_t>(MR, mc - i0)),
                      dst + i0 * kc + k0 * MR);
    }
    return;
  }
  // op(A)(i,k) = A[i*lda + k]: a transpose. Read each row sequentially, scatter with stride MR (the panel
  // stays in L1).
  for (index_t i0 = 0; i0 < mc; i0 += MR, dst += MR * kc) {
    const int m = static_cast<int>(std::min<index_t>(MR, mc - i0));
    for (int i = 0; i < m; ++i) {
      const float* src = A + (i0 + i) * lda;
      for (index_t k = 0; k < kc; ++k) dst[k * MR + i] = src[k];
    }
    for (int i = m; i < MR; ++i)
      for (index_t k = 0; k < kc; ++k) dst[k * MR + i] = 0.0f;
  }
}

// Panels of NR columns of op(B): dst[k*NR + j]. Columns past nc are zero.
template <int NR>
inline void pack_b_generic(bool trans, const float* B, index_t ldb, index_t kc, index_t nc, float* dst) {
  if (!trans) {
    // op(B)(k,j) = B[k*ldb + j]: each k contributes NR contiguous floats to a panel.
    for (index_t k0 = 0; k0 < kc; k0 += kStrip) {
      const index_t rows = std::min(kStrip, kc - k0);
      for (index_t j0 = 0; j0 < nc; j0 += NR)
        copy_rows<NR>(B + k0 * ldb + j0, ldb, rows, static_cast<int>(std::min<index_t>(NR, nc - j0)),
                      dst + j0 * kc + k0 * NR);
    }
    return;
  }
  // op(B)(k,j) = B[j*ldb + k]: a transpose. Read each stored row sequentially, scatter with stride NR.
  for (index_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
    const int n = static_cast<int>(std::min<index_t>(NR, nc - j0));
    for (int j = 0; j < n; ++j) {
      const float* src = B + (j0 + j) * ldb;
      for (index_t k = 0; k < kc; ++k) dst[k * NR + j] = src[k];
    }
    for (int j = n; j < NR; ++j)
      for (index_t k = 0; k < kc; ++k) dst[k * NR + j] = 0.0f;
  }
}

}  // namespace pixelllm
