// Float32 element-wise, softmax and normalisation kernels (the contract is src/tensor/backend/elementwise_native.ts;
// the row kernels mean what src/tensor/backend/rows.ts does). Each instruction set lives in its own translation
// unit and exports one EltKernels; elementwise.cc checks the JS arguments, picks the set and splits the work
// over the thread pool.
#pragma once
#define NAPI_VERSION 8
#include <node_api.h>

#include "kernel_set.h"

namespace pixelllm {

// Opcodes, as UNARY / BINARY / BMODE in elementwise_native.ts.
enum UnaryOp {
  kExp, kLog, kSqrt, kRsqrt, kTanh, kErf, kSigmoid, kNeg, kAbs, kGeluErf, kGeluErfGrad, kGeluTanh, kGeluTanhGrad,
  kRelu, kReluGrad, kUnaryOpCount
};
enum BinaryOp { kAdd, kSub, kMul, kDiv, kBinaryOpCount };
enum BMode { kSame, kRow, kColumn, kScalar, kBModeCount };

struct EltKernels {
  const char* name;  // "avx2" | "scalar"

  // y[i] = f(x[i]) for i < n. y may be x itself.
  void (*unary)(int op, const float* x, float* y, index_t n);

  // The flat elements [begin, end) of y = a ∘ b (swap: b ∘ a), a and y rows×cols, b read by mode.
  void (*binary)(int op, const float* a, const float* b, float* y, index_t cols, int mode, bool swap,
                 index_t begin, index_t end);

  // rows.ts's kernels over `rows` rows of `cols` values. norm_backward adds its rows' sums into dw/db (may be
  // null), using `scratch` (2·cols floats, needed when dw or db is given) for partial sums.
  void (*softmax_forward)(const float* x, float* y, index_t rows, index_t cols, bool log);
  void (*softmax_backward)(const float* y, const float* g, float* dx, index_t rows, index_t cols, bool log);
  // Softmax without its last pass (attention normalises its much shorter output rows instead): each row of x
  // becomes exp(x − max) in place, and inv_sums[r] = 1 / Σ of row r.
  void (*exp_rows)(float* x, index_t rows, index_t cols, float* inv_sums);
  void (*norm_forward)(const float* x, const float* w, const float* b, float* y, float* mean, float* rstd,
                       index_t rows, index_t cols, double eps, bool rms);
  void (*norm_backward)(const float* x, const float* w, const float* mean, const float* rstd, const float* g,
                        float* dx, double* dw, double* db, float* scratch, index_t rows, index_t cols, bool rms);
};

const EltKernels* elt_kernels_scalar();
// nullptr when this build has no AVX2 code (not x86, or a compiler without -mavx2 -mfma).
const EltKernels* elt_kernels_avx2();

// The set every call uses: AVX2 when the CPU has it, unless env PIXELLLM_KERNEL=scalar.
const EltKernels& active_elt_kernels();

// Adds unaryF32, binaryF32, softmaxForward/Backward, normForward/Backward and elementwiseKernel to `exports`.
void register_elementwise(napi_env env, napi_value exports);

}  // namespace pixelllm
