// Head bookkeeping and attention shared by the transformer models: projections work on (B, T, C), attention on
// (B, nh, T, hs).
import { dropout, matmul, scaledMatmul, softmax, type Generator, type Tensor } from '../tensor/index.ts';

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

export interface AttendOptions {
  /** Additive mask broadcastable to (B, nh, Tq, Tk): 0 where a query may look, −Infinity where it may not. */
  mask?: Tensor | null;
  /** Dropout on the attention probabilities (training only), as BERT-style models apply it. */
  dropout?: { p: number; rng: Generator; training: boolean };
}

/** softmax(q·kᵀ/√hs + mask)·v for q (B, nh, Tq, hs), k and v (B, nh, Tk, hs) → (B, nh, Tq, hs). */
export function attend(q: Tensor, k: Tensor, v: Tensor, opts: AttendOptions = {}): Tensor {
  let scores = scaledMatmul(q, k.transpose(-2, -1), 1 / Math.sqrt(q.shape.at(-1)!)); // (B, nh, Tq, Tk)
  if (opts.mask) scores = scores.add(opts.mask);
  let probs = softmax(scores, -1);
  const d = opts.dropout;
  if (d && d.training && d.p > 0) probs = dropout(probs, d.p, d.rng, true);
  return matmul(probs, v); // (B, nh, Tq, hs)
}

/** Multi-head attention of already projected q (B, Tq, C), k and v (B, Tk, C) → (B, Tq, C). */
export function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, nh: number, opts: AttendOptions = {}): Tensor {
  return mergeHeads(attend(splitHeads(q, nh), splitHeads(k, nh), splitHeads(v, nh), opts));
}
