// Chooses the kernels: the native addon when it loads (or PIXELLLM_BACKEND=native demands it), the TypeScript
// kernels when PIXELLLM_BACKEND=js or the addon is missing (then with one warning). float64 always runs in TypeScript.
import type { DType, FloatStorage } from '../dtype.ts';
import { TensorError } from '../errors.ts';
import { jsGemm } from './js.ts';
import * as jsRows from './rows.ts';
import { BINARY, BMODE, UNARY, type BinaryOp, type UnaryOp } from './elementwise_native.ts';
// the addon loader in Node, a stub without Node imports in a browser bundle (package.json "imports")
import { loadError, loadNative } from '#native-kernels';
import type { NativeKernels } from './native.ts';

export type BackendName = 'native' | 'js';

// a browser has no process: no environment, and the TypeScript kernels are the only ones, so nothing to warn about
const inNode = typeof process !== 'undefined';
const env: Record<string, string | undefined> = inNode ? process.env : {};
const warn = (message: string): void => void (inNode && process.emitWarning(message));

function choose(): NativeKernels | null {
  const want = env.PIXELLLM_BACKEND;
  if (want === 'js') return null;
  if (want !== undefined && want !== '' && want !== 'native') {
    throw new TensorError(`PIXELLLM_BACKEND=${want} is not a backend; use 'native' or 'js'`);
  }
  const native = loadNative();
  if (native === null && want === 'native') {
    throw new TensorError(`PIXELLLM_BACKEND=native but the addon did not load (${loadError}); build it with \`npm run build:addon\``);
  }
  if (native === null) {
    warn(`pixelllm: native kernels unavailable (${loadError}); using the slower TypeScript backend. Build them with \`npm run build:addon\`.`);
  }
  return native;
}

const native = choose();

export const backendName: BackendName = native === null ? 'js' : 'native';

/** Threads the native kernels use (1 on the TypeScript backend). */
export const setThreads = (n: number): void => native?.setThreads(n);
export const getThreads = (): number => native?.getThreads() ?? 1;

/** Where batch product i goes: at offsets[i], rows ld apart (default: contiguous M×N blocks one after another). */
export interface OutLayout {
  offsets: Int32Array;
  ld: number;
}

/**
 * `batch` products C_i = alpha·op(A_i)·op(B_i) + beta·C_i, where A_i starts at offsA[i], B_i at offsB[i] and C_i as
 * `out` says. Equal offset steps go to the native strided-batched kernel in one call.
 */
export function gemmBatched(transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: FloatStorage, offsA: Int32Array, lda: number, B: FloatStorage, offsB: Int32Array, ldb: number, C: FloatStorage,
  alpha = 1, beta = 0, out?: OutLayout): void {
  const batch = offsA.length;
  if (batch === 0) return;
  const offC = (i: number): number => (out ? out.offsets[i]! : i * M * N);
  const ldc = out?.ld ?? N;
  if (native !== null && A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array) {
    const step = (offs: Int32Array): number => (batch > 1 ? offs[1]! - offs[0]! : 0);
    const strideC = out ? step(out.offsets) : M * N;
    if (isProgression(offsA, step(offsA)) && isProgression(offsB, step(offsB)) && (!out || isProgression(out.offsets, strideC))) {
      native.sgemmStridedBatched(transA, transB, M, N, K, alpha, A, offsA[0]!, lda, step(offsA), B, offsB[0]!, ldb, step(offsB), beta, C, offC(0), ldc, strideC, batch);
      return;
    }
    for (let i = 0; i < batch; i++) native.sgemm(transA, transB, M, N, K, alpha, A, offsA[i]!, lda, B, offsB[i]!, ldb, beta, C, offC(i), ldc);
    return;
  }
  for (let i = 0; i < batch; i++) jsGemm(transA, transB, M, N, K, alpha, A, offsA[i]!, lda, B, offsB[i]!, ldb, beta, C, offC(i), ldc);
}

function isProgression(offs: Int32Array, step: number): boolean {
  for (let i = 1; i < offs.length; i++) if (offs[i]! - offs[i - 1]! !== step) return false;
  return true;
}

/** The fused relative-position attention of the addon (see NativeKernels.relPosAttentionF32), or null without it. */
export const relPosAttentionF32: NativeKernels['relPosAttentionF32'] | null = native === null ? null : native.relPosAttentionF32.bind(native);

/** What copyStridedF32 does between a strided view and contiguous values. */
export const STRIDED = { toFlat: 0, toView: 1, addToFlat: 2 } as const;

/** The addon's strided float32 copy or sum (see NativeKernels.copyStridedF32); false without it. */
export function copyStridedF32(view: Float32Array, offView: number, dims: readonly number[], steps: readonly number[],
  flat: Float32Array, offFlat: number, mode: (typeof STRIDED)[keyof typeof STRIDED] = STRIDED.toFlat): boolean {
  if (native === null) return false;
  native.copyStridedF32(view, offView, Int32Array.from(dims), Int32Array.from(steps), flat, offFlat, mode);
  return true;
}

/** The addon's convolution patch mover (NativeKernels.moveTapsF32), or null without it. */
export const moveTapsF32: NativeKernels['moveTapsF32'] | null = native === null ? null : native.moveTapsF32.bind(native);

/** The addon's AdamW step and sum of squares (native/src/training.cc), or null without it. */
export const adamwF32: NativeKernels['adamwF32'] | null = native === null ? null : native.adamwF32.bind(native);
export const sumSquaresF32: NativeKernels['sumSquaresF32'] | null = native === null ? null : native.sumSquaresF32.bind(native);
export const sumF32: NativeKernels['sumF32'] | null = native === null ? null : native.sumF32.bind(native);

/** The training path's relative-position bias add on the addon (NativeKernels.relPosAddF32), or null without it. */
export const relPosAddF32: NativeKernels['relPosAddF32'] | null = native === null ? null : native.relPosAddF32.bind(native);

/** relPosAddF32's backward on the addon (NativeKernels.relPosAddBackwardF32), or null without it. */
export const relPosAddBackwardF32: NativeKernels['relPosAddBackwardF32'] | null = native === null ? null : native.relPosAddBackwardF32.bind(native);

/** The row-wise softmax and normalisation kernels for a dtype: native for float32 when the addon has them. */
export type RowKernels = typeof jsRows;
export function rowKernels(dtype: DType): RowKernels {
  return dtype === 'float32' && native !== null ? (native as RowKernels) : jsRows;
}

/** y = f(x) over n contiguous float32 values on the addon; false when the caller must run its own loop. */
export function unaryF32(op: UnaryOp, x: Float32Array, offX: number, y: Float32Array, n: number): boolean {
  if (native === null) return false;
  native.unaryF32(UNARY[op], x, offX, y, 0, n);
  return true;
}

export type BMode = keyof typeof BMODE;

/** y (from offY) = a ∘ b (or b ∘ a with swap) with a contiguous rows × cols and b laid out by mode; false without the addon. */
export function binaryF32(op: BinaryOp, a: Float32Array, offA: number, b: Float32Array, offB: number, y: Float32Array,
  rows: number, cols: number, mode: BMode, swap: boolean, offY = 0): boolean {
  if (native === null) return false;
  native.binaryF32(BINARY[op], a, offA, b, offB, y, offY, rows, cols, BMODE[mode], swap);
  return true;
}
