// The per-ISA building blocks of GEMM and GEMV. Each instruction set (scalar, AVX2, AVX-512) lives in its
// own translation unit, compiled with its own flags, and exports one KernelSet; the drivers in gemm_blocked.cc
// and gemv.cc are ISA-independent and only call through these pointers.
#pragma once
#include <cstddef>

namespace pixelllm {

using index_t = std::ptrdiff_t;

struct KernelSet {
  const char* name;  // "avx512" | "avx2" | "scalar"
  int mr, nr;        // micro-tile: mr rows of C by nr columns
  int mc, kc, nc;    // cache blocking: A block mc×kc stays in L2, B micro-panel kc×nr in L1, B panel kc×nc in L3

  // C[0:m, 0:n] = alpha·(Apanel·Bpanel) + beta·C, with m <= mr, n <= nr. Apanel is mr×kc stored k-major
  // (a[k*mr + i]), Bpanel is kc×nr (b[k*nr + j]); both 64-byte aligned. beta == 0 means C is not read, so
  // NaNs already in C do not propagate (BLAS semantics).
  void (*micro)(index_t kc, const float* a, const float* b, float* c, index_t ldc, float alpha, float beta,
                int m, int n);

  // Pack op(A)[0:mc, 0:kc] into ceil(mc/mr) zero-padded panels of mr×kc. Not transposed: element (i,k) at
  // A[i*lda + k]; transposed: at A[k*lda + i].
  void (*pack_a)(bool trans, const float* A, index_t lda, index_t mc, index_t kc, float* dst);
  // Pack op(B)[0:kc, 0:nc] into ceil(nc/nr) zero-padded panels of kc×nr. Not transposed: element (k,j) at
  // B[k*ldb + j]; transposed: at B[j*ldb + k].
  void (*pack_b)(bool trans, const float* B, index_t ldb, index_t kc, index_t nc, float* dst);

  // Dot-product GEMV: y[r*incy] = alpha·dot(W[r*ldw : r*ldw+K], x) + beta·y[r*incy] for r < R.
  void (*gemv_dot)(index_t R, index_t K, const float* W, index_t ldw, const float* x, float alpha, float beta,
                   float* y, index_t incy);
  // Row-streaming GEMV: y[j*incy] = alpha·Σ_k x[k]·W[k*ldw + j] + beta·y[j*incy] for j < N. `work` holds
  // at least N floats, 64-byte aligned (the accumulator).
  void (*gemv_axpy)(index_t K, index_t N, const float* W, index_t ldw, const float* x, float alpha, float beta,
                    float* y, index_t incy, float* work);
};

// Each returns nullptr when its ISA was not compiled in (non-x86 builds).
const KernelSet* kernels_scalar();
const KernelSet* kernels_avx2();
const KernelSet* kernels_avx512();

}  // namespace pixelllm
