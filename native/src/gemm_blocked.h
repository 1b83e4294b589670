#pragma once
#include "kernel_set.h"

namespace pixelllm {

// One GEMM on the calling thread with the Goto/BLIS loop nest. Pointers are already offset to element (0,0)
// of the stored matrices. Requires M, N, K > 0. Returns false only if scratch memory cannot be allocated.
bool gemm_blocked(const KernelSet& ks, bool transA, bool transB, index_t M, index_t N, index_t K, float alpha,
                  const float* A, index_t lda, const float* B, index_t ldb, float beta, float* C, index_t ldc);

}  // namespace pixelllm
