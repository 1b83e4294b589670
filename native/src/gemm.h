// Entry points behind the JS bindings. Arguments are assumed validated (addon.cc checks every extent), and
// pointers are already offset to element (0,0) of each stored matrix.
#pragma once
#include "kernel_set.h"

namespace pixelllm {

struct Gemm {
  bool transA, transB;
  index_t M, N, K;
  float alpha;
  const float* A;
  index_t lda;
  const float* B;
  index_t ldb;
  float beta;
  float* C;
  index_t ldc;
};

// C = alpha·op(A)·op(B) + beta·C using up to `threads` threads (1 = the calling thread only).
// Returns false only if scratch memory could not be allocated.
bool sgemm(const KernelSet& ks, const Gemm& g, int threads);

// `batch` products; the i-th reads A + i·strideA, B + i·strideB and writes C + i·strideC.
bool sgemm_strided_batched(const KernelSet& ks, const Gemm& g, index_t strideA, index_t strideB, index_t strideC,
                           index_t batch, int threads);

// One-row / one-column products (M == 1 or N == 1), bandwidth-bound; used by sgemm.
bool sgemv(const KernelSet& ks, const Gemm& g, int threads);

}  // namespace pixelllm
