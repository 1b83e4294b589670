// Multi-head attention over (B, nh, T, hs) tensors as the decoders here use it: grouped key/value heads (GQA, where
// each key/value head serves nh / nkv query heads, as HF's repeat_kv), an additive bias or mask, and a causal mask
// aligned to the end of the keys so that a decoding step against a KV cache sees every earlier position.
import {
  Tensor, causalMask, dropout, matmul, scaledDotProductAttention, scaledMatmul, softmax, transpose, type Generator,
} from '../tensor/index.ts';

export interface AttendOptions {
  /** Multiplies q·kᵀ: 1/√hs by default, 1 for T5. */
  scale?: number;
  /** Additive, broadcastable to (B, nh, T, L): relative-position bias, −∞ (or very negative) at padding keys. */
  bias?: Tensor | null;
  causal?: boolean;
  /** Dropout on the attention probabilities, applied only when training (BERT-style models, GIT's decoder). */
  dropout?: { p: number; rng: Generator; training: boolean };
}

/** softmax(q·kᵀ·scale + bias)·v with q (B, nh, T, hs) and k, v (B, nkv, L, hs), nkv dividing nh → (B, nh, T, hs). */
export function attend(q: Tensor, k: Tensor, v: Tensor, opts: AttendOptions = {}): Tensor {
  const [B, nh, T, hs] = q.shape as [number, number, number, number];
  const [nkv, L] = [k.shape[1]!, k.shape[2]!];
  if (nh % nkv !== 0) throw new Error(`attend: ${nh} query heads cannot share ${nkv} key/value heads`);
  const g = nh / nkv;
  const d = opts.dropout;
  const dropping = d !== undefined && d.training && d.p > 0;
  // one key/value head per query head and no dropout: the tensor library's fused attention (no copy to merge heads)
  if (g === 1 && !dropping) return scaledDotProductAttention(q, k, v, { mask: opts.bias, causal: opts.causal, scale: opts.scale });
  // the g query heads of one key/value head become g·T rows of one product: no copy of k or v per query head
  const qg = g === 1 ? q : q.reshape(B, nkv, g * T, hs); // (B, nkv, g·T, hs)
  // the scale goes into the product (the GEMM's alpha), not a pass of its own
  let scores = scaledMatmul(qg, transpose(k), opts.scale ?? 1 / Math.sqrt(hs)).reshape(B, nkv, g, T, L); // each query head's (T, L) block
  if (opts.bias) scores = scores.add(groupHeads(opts.bias, nkv, g));
  if (opts.causal) scores = scores.add(causalMask(T, L, q.dtype));
  let probs = softmax(scores, -1).reshape(B, nkv, g * T, L);
  if (dropping) probs = dropout(probs, d.p, d.rng, true);
  return matmul(probs, v).reshape(B, nh, T, hs); // (B, nh, T, hs)
}

/** A bias (B or 1, nh or 1, T or 1, L) as (B or 1, nkv or 1, g or 1, T or 1, L), to line up with grouped scores. */
function groupHeads(bias: Tensor, nkv: number, g: number): Tensor {
  if (bias.ndim !== 4) throw new Error(`attend: bias must be (B, nh, T, L) or broadcastable in those 4 dims, got [${bias.shape}]`);
  const [b, h, t, l] = bias.shape as [number, number, number, number];
  return h === 1 ? bias.unsqueeze(1) : bias.reshape(b, nkv, g, t, l);
}
