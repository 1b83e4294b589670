// Scaled dot-product attention as the references compute it, composed from primitives.
import { Tensor, full } from '../tensor.ts';
import { check, fmt } from '../errors.ts';
import { add, mul } from '../ops/elementwise.ts';
import { matmul } from '../ops/matmul.ts';
import { transpose } from '../ops/view.ts';
import { softmax } from './activations.ts';

export interface AttentionOptions {
  /** Additive mask or bias broadcastable to (B, nh, Tq, Tk): −Infinity (or a large negative) blocks, relative-position bias adds. */
  mask?: Tensor | null;
  /**
   * Blocks keys after the query's own position, with the queries aligned to the END of the keys (query i of Tq
   * sees keys 0..i + Tk − Tq), as when decoding against a KV cache. torch's is_causal aligns them to the start;
   * the two agree when Tq = Tk.
   */
  causal?: boolean;
  /** Defaults to 1/√hs; T5 uses 1. */
  scale?: number;
}

/** softmax(q·kᵀ·scale + mask)·v with q (…, Tq, hs), k (…, Tk, hs), v (…, Tk, hv) → (…, Tq, hv). */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  check(q.ndim >= 2 && k.ndim === q.ndim && v.ndim === q.ndim && q.shape.at(-1) === k.shape.at(-1) && k.shape.at(-2) === v.shape.at(-2),
    () => `attention: q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)} do not fit (…, T, hs)`);
  const Tq = q.shape.at(-2)!;
  const Tk = k.shape.at(-2)!;
  let scores = mul(matmul(q, transpose(k)), opts.scale ?? 1 / Math.sqrt(q.shape.at(-1)!)); // (…, Tq, Tk)
  if (opts.mask) scores = add(scores, opts.mask);
  if (opts.causal) scores = add(scores, causalMask(Tq, Tk, q.dtype));
  return matmul(softmax(scores, -1), v); // (…, Tq, hv)
}

/** (Tq, Tk) additive mask: 0 where key j ≤ query i + (Tk − Tq), −Infinity after. */
export function causalMask(Tq: number, Tk: number, dtype: Tensor['dtype'] = 'float32'): Tensor {
  const m = full([Tq, Tk], 0, dtype);
  for (let i = 0; i < Tq; i++) for (let j = i + Tk - Tq + 1; j < Tk; j++) m.data[i * Tk + j] = -Infinity;
  return m;
}
