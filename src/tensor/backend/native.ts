// Loader for the C++ addon (native/, built by scripts/build-addon.mjs into build/Release/pixelllm_native.node).
// The tensor library falls back to its TypeScript kernels when loadNative() returns null.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { NativeElementwise } from './elementwise_native.ts';

export interface NativeKernels extends NativeElementwise {
  /** C = alpha·op(A)·op(B) + beta·C on row-major float32 storage; op(A) is M×K, op(B) is K×N. */
  sgemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
        A: Float32Array, offA: number, lda: number, B: Float32Array, offB: number, ldb: number,
        beta: number, C: Float32Array, offC: number, ldc: number): void;
  /** batch GEMMs; the i-th uses offsets offA + i·strideA, offB + i·strideB, offC + i·strideC. */
  sgemmStridedBatched(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
        A: Float32Array, offA: number, lda: number, strideA: number,
        B: Float32Array, offB: number, ldb: number, strideB: number,
        beta: number, C: Float32Array, offC: number, ldc: number, strideC: number, batch: number): void;
  /**
   * Attention with decomposed relative positions over n items (see native/src/attention.h): item i reads Q, K, V at
   * offs*[i] (rows of ld* floats) and writes its H·W × hv output at offsO[i]; relH (H, Hk, hs), relW (W, Wk, hs).
   */
  relPosAttentionF32(Q: Float32Array, offsQ: Int32Array, ldq: number, K: Float32Array, offsK: Int32Array, ldk: number,
        V: Float32Array, offsV: Int32Array, ldv: number, O: Float32Array, offsO: Int32Array, ldo: number,
        relH: Float32Array, relW: Float32Array, H: number, W: number, Hk: number, Wk: number, hs: number, hv: number,
        scale: number): void;
  /**
   * Between the view of `view` with sizes dims and element strides steps (merged, non-negative) from offView, row-major,
   * and flat's contiguous values from offFlat: mode 0 flat ← view, 1 view ← flat, 2 flat += view.
   */
  copyStridedF32(view: Float32Array, offView: number, dims: Int32Array, steps: Int32Array, flat: Float32Array, offFlat: number, mode: number): void;
  /** moveTaps of src/tensor/ops/conv.ts for float32; geometry is [C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow]. */
  moveTapsF32(geometry: Int32Array, cols: Float32Array, colOff: number, map: Float32Array, mapOff: number, toCols: boolean): void;
  /** One AdamW step in place over arrays of one length (see native/src/training.cc). */
  adamwF32(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, b1: number, b2: number, eps: number,
        keep: number, stepSize: number, bc2Sqrt: number): void;
  /** Σ x² over n values from off, in double, in eight lanes (see native/src/training.cc). */
  sumSquaresF32(x: Float32Array, off: number, n: number): number;
  /** Σ x over n values from off, in double, in eight lanes. */
  sumF32(x: Float32Array, off: number, n: number): number;
  /** scores[r, a, b] += termH[r, a] + termW[r, b] over rows × Hk × Wk contiguous values, summed in double. */
  relPosAddF32(scores: Float32Array, offS: number, termH: Float32Array, offH: number, termW: Float32Array, offW: number,
        rows: number, Hk: number, Wk: number): void;
  /** relPosAddF32's term gradients: dh[r, a] = Σ_b g[r, a, b], dw[r, b] = Σ_a g[r, a, b] over contiguous g. */
  relPosAddBackwardF32(g: Float32Array, offG: number, dh: Float32Array, dw: Float32Array, rows: number, Hk: number, Wk: number): void;
  setThreads(n: number): void;
  getThreads(): number;
  /** which micro-kernel runs: "avx512" | "avx2" | "scalar" */
  kernel(): string;
  /** which element-wise kernels run: "avx2" | "scalar" */
  elementwiseKernel(): string;
}

/** Why the addon could not be loaded (null when it loaded, or before the first loadNative()). */
export let loadError: string | null = null;

// This file is <repo>/src/tensor/backend/native.ts, so the repository root is three levels up.
// PIXELLLM_ADDON (relative to the working directory) overrides the path: a build elsewhere, or a test of the fallback.
const addonPath = process.env.PIXELLLM_ADDON
  ? path.resolve(process.env.PIXELLLM_ADDON)
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../build/Release/pixelllm_native.node');

let cached: NativeKernels | null | undefined;

/** The addon, or null when it is not built / cannot load (the reason is in loadError). */
export function loadNative(): NativeKernels | null {
  if (cached !== undefined) return cached;
  try {
    const require = createRequire(import.meta.url);
    const mod = require(addonPath) as Partial<NativeKernels>;
    for (const fn of ['sgemm', 'sgemmStridedBatched', 'setThreads', 'getThreads', 'kernel', 'elementwiseKernel',
      'unaryF32', 'binaryF32', 'softmaxForward', 'softmaxBackward', 'normForward', 'normBackward', 'relPosAttentionF32', 'relPosAddF32', 'relPosAddBackwardF32',
      'copyStridedF32', 'moveTapsF32', 'adamwF32', 'sumSquaresF32', 'sumF32'] as const) {
      if (typeof mod[fn] !== 'function') throw new Error(`export '${fn}' is missing (stale build? run npm install)`);
    }
    cached = mod as NativeKernels;
    loadError = null;
  } catch (err) {
    cached = null;
    const e = err as NodeJS.ErrnoException;
    loadError = e.code === 'MODULE_NOT_FOUND'
      ? `native addon not built: ${addonPath} is missing (run npm install; a C++17 compiler is needed)`
      : `native addon failed to load from ${addonPath}: ${e.message}`;
  }
  return cached;
}
