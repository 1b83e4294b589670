// Resizing two dims as two products with constant interpolation matrices: y = W_h · x · W_wᵀ.
// The weights carry the reference's convention (torch interpolate or jax.image.resize); backward comes from matmul.
import { Tensor } from '../tensor.ts';
import { allocate, floatOf } from '../dtype.ts';
import { check, fmt } from '../errors.ts';
import { resizeWeights, type ResizeConvention, type ResizeMethod } from '../resize_weights.ts';
import { matmul } from './matmul.ts';
import { reshape, transpose } from './view.ts';

export interface ResizeOptions {
  method: ResizeMethod;
  /** 'torch': F.interpolate(align_corners=False); 'jax': jax.image.resize. */
  convention: ResizeConvention;
  /** Widen the kernel when shrinking and renormalise at the borders: jax's default (true); torch's antialias=True (default false). */
  antialias?: boolean;
  /** The spatial dims are the two before the last, (…, H, W, C), as channels-last feature maps and ViT position tables lie. */
  channelsLast?: boolean;
}

/** x (…, H, W) → (…, outH, outW), or (…, H, W, C) → (…, outH, outW, C) with channelsLast. An axis that keeps its size is left alone (both conventions give the identity). */
export function resize(x: Tensor, size: [number, number], opts: ResizeOptions): Tensor {
  const last = opts.channelsLast ? 1 : 0;
  check(x.ndim >= 2 + last, () => `resize: needs at least ${2 + last} dims (…, H, W${last ? ', C' : ''}), got ${fmt(x.shape)}`);
  const [H, W] = x.shape.slice(x.ndim - 2 - last, x.ndim - last) as [number, number];
  const dtype = floatOf(x.dtype);
  const matrix = (n: number, m: number): Tensor => {
    const w = resizeWeights(n, m, opts.method, opts.convention, opts.antialias);
    const data = allocate(dtype, w.length);
    data.set(w);
    return new Tensor(data, [m, n]);
  };
  let y = x.to(dtype);
  if (opts.channelsLast) {
    const [lead, C] = [x.shape.slice(0, -3), x.shape.at(-1)!];
    // rows: (outH, H)·(…, H, W·C); columns: (outW, W)·(…, outH, W, C), both on contiguous operands
    if (size[0] !== H) y = reshape(matmul(matrix(H, size[0]), reshape(y, [...lead, H, W * C])), [...lead, size[0], W, C]); // (…, outH, W, C)
    if (size[1] !== W) y = matmul(matrix(W, size[1]), y); // (…, outH, outW, C)
    return y;
  }
  if (size[0] !== H) y = matmul(matrix(H, size[0]), y); // (…, outH, W)
  if (size[1] !== W) y = matmul(y, transpose(matrix(W, size[1]))); // (…, outH, outW)
  return y;
}
