// The contract between the tensor ops and the addon's element-wise kernels (native/src/elementwise*.cc).
// All storage is contiguous float32; offsets count elements. The row kernels have the same meaning as
// the TypeScript ones in rows.ts (which are their reference in tests).

/** Opcodes of unaryF32: y[i] = f(x[i]). The *Grad ops give the derivative f'(x) (the caller multiplies by g). */
export const UNARY = {
  exp: 0, log: 1, sqrt: 2, rsqrt: 3, tanh: 4, erf: 5, sigmoid: 6, neg: 7, abs: 8,
  geluErf: 9, geluErfGrad: 10, geluTanh: 11, geluTanhGrad: 12, relu: 13, reluGrad: 14,
} as const;
export type UnaryOp = keyof typeof UNARY;

/** Opcodes of binaryF32: y = a ∘ b. */
export const BINARY = { add: 0, sub: 1, mul: 2, div: 3 } as const;
export type BinaryOp = keyof typeof BINARY;

/**
 * How b is laid out against a (rows × cols, contiguous): same shape; one row of cols values repeated for every row
 * (a bias); one value per row (cols 1, repeated along the row); one scalar. `swap` modes compute b ∘ a instead.
 */
export const BMODE = { same: 0, row: 1, column: 2, scalar: 3 } as const;

export interface NativeElementwise {
  unaryF32(op: number, x: Float32Array, offX: number, y: Float32Array, offY: number, n: number): void;
  /** y[r, c] = swap ? b' ∘ a[r, c] : a[r, c] ∘ b' where b' is b read by bMode. */
  binaryF32(op: number, a: Float32Array, offA: number, b: Float32Array, offB: number, y: Float32Array, offY: number,
    rows: number, cols: number, bMode: number, swap: boolean): void;
  softmaxForward(x: Float32Array, y: Float32Array, rows: number, cols: number, log: boolean): void;
  softmaxBackward(y: Float32Array, g: Float32Array, dx: Float32Array, rows: number, cols: number, log: boolean): void;
  normForward(x: Float32Array, w: Float32Array | null, b: Float32Array | null, y: Float32Array,
    mean: Float32Array, rstd: Float32Array, rows: number, cols: number, eps: number, rms: boolean): void;
  normBackward(x: Float32Array, w: Float32Array | null, mean: Float32Array, rstd: Float32Array,
    g: Float32Array, dx: Float32Array, dw: Float64Array | null, db: Float64Array | null,
    rows: number, cols: number, rms: boolean): void;
}
