// Head bookkeeping shared by the transformer models: projections work on (B, T, C), attention on (B, nh, T, hs).
import type { Tensor } from '../tensor/index.ts';
import { attend, type AttendOptions } from './attention.ts';

/** (B, T, C) → (B, nh, T, hs) as a view; matmul reads it in place. */
export function splitHeads(x: Tensor, nh: number): Tensor {
  const [B, T, C] = x.shape as [number, number, number];
  return x.reshape(B, T, nh, C / nh).transpose(1, 2); // (B, nh, T, hs)
}

/** (B, nh, T, hs) → (B, T, C). */
export function mergeHeads(x: Tensor): Tensor {
  const [B, nh, T, hs] = x.shape as [number, number, number, number];
  return x.transpose(1, 2).reshape(B, T, nh * hs); // (B, T, C)
}

/** Multi-head attention of already projected q (B, Tq, C), k and v (B, Tk, C) → (B, Tq, C). */
export function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, nh: number, opts: AttendOptions = {}): Tensor {
  return mergeHeads(attend(splitHeads(q, nh), splitHeads(k, nh), splitHeads(v, nh), opts));
}
