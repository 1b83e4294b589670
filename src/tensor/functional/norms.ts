// Layer norm and RMS norm over the last dim: fused primitives with their own backward rules (bench/ops.ts
// measured the three-line compositions ~100× slower than PyTorch's fused kernels).
import { Tensor } from '../tensor.ts';
import { allocate, allocateUninit, floatOf, type FloatStorage } from '../dtype.ts';
import { record } from '../autograd.ts';
import { check, fmt } from '../errors.ts';
import { rowKernels } from '../backend/index.ts';
import { rowsOf } from './activations.ts';

function checkAffine(op: string, x: Tensor, p: Tensor | null): void {
  check(p === null || (p.ndim === 1 && p.shape[0] === x.shape[x.ndim - 1]),
    () => `${op}: parameter of shape ${fmt(p!.shape)} does not match the last dim of ${fmt(x.shape)}`);
}

function norm(op: string, x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number, rms: boolean): Tensor {
  checkAffine(op, x, weight);
  checkAffine(op, x, bias);
  check(x.ndim >= 1 && x.shape[x.ndim - 1]! > 0, () => `${op}: needs a non-empty last dim, got ${fmt(x.shape)}`);
  const dtype = floatOf(x.dtype);
  const cols = x.shape[x.ndim - 1]!;
  const rows = x.size / cols;
  const X = rowsOf(x, dtype);
  const W = weight === null ? null : rowsOf(weight, dtype);
  const shape = x.shape;
  const Y = allocateUninit(dtype, x.size) as FloatStorage;
  const mean = allocate(dtype, rows) as FloatStorage;
  const rstd = allocate(dtype, rows) as FloatStorage;
  rowKernels(dtype).normForward(X, W, bias === null ? null : rowsOf(bias, dtype), Y, mean, rstd, rows, cols, eps, rms);
  const inputs = [x, weight, bias].filter((t): t is Tensor => t !== null);
  // the rule keeps x's values (X), the row statistics and the parameters, not the output
  return record(op, new Tensor(Y, [...shape]), inputs, (g) => {
    const dx = allocateUninit(dtype, X.length) as FloatStorage;
    // parameter gradients sum over every row: accumulate in float64
    const dw = weight?.requiresGrad ? new Float64Array(cols) : null;
    const db = bias?.requiresGrad ? new Float64Array(cols) : null;
    rowKernels(dtype).normBackward(X, W, mean, rstd, rowsOf(g, dtype), dx, dw, db, rows, cols, rms);
    const param = (acc: Float64Array | null, p: Tensor | null): Tensor | null => {
      if (acc === null || p === null) return null;
      const out = allocate(p.dtype, cols);
      out.set(acc);
      return new Tensor(out, [cols]);
    };
    const grads: (Tensor | null)[] = [new Tensor(dx, [...shape])];
    if (weight !== null) grads.push(param(dw, weight));
    if (bias !== null) grads.push(param(db, bias));
    return grads;
  });
}

/** (x − mean) / √(var + eps) · weight + bias over the last dim, with the biased variance as torch. */
export const layerNorm = (x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor =>
  norm('layerNorm', x, weight, bias, eps, false);

/** x / √(mean(x²) + eps) · weight over the last dim (T5's and Llama's norm: no mean subtraction, no bias). */
export const rmsNorm = (x: Tensor, weight: Tensor | null, eps = 1e-6): Tensor => norm('rmsNorm', x, weight, null, eps, true);
