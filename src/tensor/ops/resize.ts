// Resizing the last two dims as two products with constant interpolation matrices: y = W_h · x · W_wᵀ.
// The weights carry the reference's convention (torch interpolate or jax.image.resize); backward comes from matmul.
import { Tensor } from '../tensor.ts';
import { allocate, floatOf } from '../dtype.ts';
import { check, fmt } from '../errors.ts';
import { resizeWeights, type ResizeConvention, type ResizeMethod } from '../resize_weights.ts';
import { matmul } from './matmul.ts';
import { transpose } from './view.ts';

export interface ResizeOptions {
  method: ResizeMethod;
  /** 'torch': F.interpolate(align_corners=False); 'jax': jax.image.resize. */
  convention: ResizeConvention;
  /** Widen the kernel when shrinking and renormalise at the borders: jax's default (true); torch's antialias=True (default false). */
  antialias?: boolean;
}

/** x (…, H, W) → (…, outH, outW). */
export function resize(x: Tensor, size: [number, number], opts: ResizeOptions): Tensor {
  check(x.ndim >= 2, () => `resize: needs at least 2 dims (…, H, W), got ${fmt(x.shape)}`);
  const [H, W] = x.shape.slice(-2) as [number, number];
  const dtype = floatOf(x.dtype);
  const matrix = (n: number, m: number): Tensor => {
    const w = resizeWeights(n, m, opts.method, opts.convention, opts.antialias);
    const data = allocate(dtype, w.length);
    data.set(w);
    return new Tensor(data, [m, n]);
  };
  const rows = matmul(matrix(H, size[0]), x.to(dtype)); // (…, outH, W)
  return matmul(rows, transpose(matrix(W, size[1]))); // (…, outH, outW)
}
