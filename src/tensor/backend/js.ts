// The plain TypeScript kernels: the reference the native addon is tested against, and the fallback without it.
import type { FloatStorage } from '../dtype.ts';

/** C = alpha·op(A)·op(B) + beta·C on row-major storage, accumulating each row in float64. */
export function jsGemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: FloatStorage, offA: number, lda: number, B: FloatStorage, offB: number, ldb: number,
  beta: number, C: FloatStorage, offC: number, ldc: number): void {
  if (alpha === 0 || K === 0) {
    // as BLAS (and the addon): op(A)·op(B) is not read, so NaN in A or B does not reach C
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) C[offC + i * ldc + j] = beta === 0 ? 0 : beta * C[offC + i * ldc + j]!;
    return;
  }
  const aRow = new Float64Array(K);
  const acc = new Float64Array(N);
  for (let i = 0; i < M; i++) {
    for (let k = 0; k < K; k++) aRow[k] = transA ? A[offA + k * lda + i]! : A[offA + i * lda + k]!;
    acc.fill(0);
    if (transB) {
      // op(B)[k, j] = B[j, k]: a dot product per output, both operands contiguous
      for (let j = 0; j < N; j++) {
        const base = offB + j * ldb;
        let s = 0;
        for (let k = 0; k < K; k++) s += aRow[k]! * B[base + k]!;
        acc[j] = s;
      }
    } else {
      // a row of C is a combination of rows of B: the inner loop streams one row of B
      for (let k = 0; k < K; k++) {
        const a = aRow[k]!; // no skip of zeros: 0·NaN must stay NaN, as in BLAS
        const base = offB + k * ldb;
        for (let j = 0; j < N; j++) acc[j] += a * B[base + j]!;
      }
    }
    const row = offC + i * ldc;
    // beta = 0 overwrites C, so NaN or garbage in C never leaks into the result (BLAS semantics)
    if (beta === 0) for (let j = 0; j < N; j++) C[row + j] = alpha * acc[j]!;
    else for (let j = 0; j < N; j++) C[row + j] = alpha * acc[j]! + beta * C[row + j]!;
  }
}
