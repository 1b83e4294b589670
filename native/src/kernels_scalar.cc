// Portable kernels: plain C++ compiled for the baseline target (SSE2 on x86-64, whatever the compiler
// vectorises elsewhere). Used when the CPU lacks AVX2/FMA and on non-x86 builds.
#include "kernel_set.h"
#include "pack.h"

namespace pixelllm {
namespace {

constexpr int kMR = 4;
constexpr int kNR = 8;

void micro_scalar(index_t kc, const float* a, const float* b, float* c, index_t ldc, float alpha, float beta,
                  int m, int n) {
  float acc[kMR][kNR] = {};
  for (index_t k = 0; k < kc; ++k, a += kMR, b += kNR)
    for (int i = 0; i < kMR; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      float* p = c + i * ldc + j;
      *p = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *p;
    }
}

void pack_a(bool trans, const float* A, index_t lda, index_t mc, index_t kc, float* dst) {
  pack_a_generic<kMR>(trans, A, lda, mc, kc, dst);
}
void pack_b(bool trans, const float* B, index_t ldb, index_t kc, index_t nc, float* dst) {
  pack_b_generic<kNR>(trans, B, ldb, kc, nc, dst);
}

void gemv_dot(index_t R, index_t K, const float* W, index_t ldw, const float* x, float alpha, float beta,
              float* y, index_t incy) {
  for (index_t r = 0; r < R; ++r) {
    const float* w = W + r * ldw;
    // Four partial sums break the add dependency chain (no -ffast-math, so the compiler will not).
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    index_t k = 0;
    for (; k + 4 <= K; k += 4) {
      s0 += w[k] * x[k];
      s1 += w[k + 1] * x[k + 1];
      s2 += w[k + 2] * x[k + 2];
      s3 += w[k + 3] * x[k + 3];
    }
    for (; k < K; ++k) s0 += w[k] * x[k];
    const float s = (s0 + s1) + (s2 + s3);
    float* p = y + r * incy;
    *p = beta == 0.0f ? alpha * s : alpha * s + beta * *p;
  }
}

void gemv_axpy(index_t K, index_t N, const float* W, index_t ldw, const float* x, float alpha, float beta,
               float* y, index_t incy, float* work) {
  for (index_t j = 0; j < N; ++j) work[j] = 0.0f;
  for (index_t k = 0; k < K; ++k) {
    const float xk = x[k];
    const float* w = W + k * ldw;
    for (index_t j = 0; j < N; ++j) work[j] += xk * w[j];
  }
  for (index_t j = 0; j < N; ++j) {
    float* p = y + j * incy;
    *p = beta == 0.0f ? alpha * work[j] : alpha * work[j] + beta * *p;
  }
}

const KernelSet kScalar = {"scalar", kMR, kNR, 128, 256, 2048, micro_scalar, pack_a, pack_b, gemv_dot, gemv_axpy};

}  // namespace

const KernelSet* kernels_scalar() { return &kScalar; }

}  // namespace pixelllm
