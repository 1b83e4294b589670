// Scaled dot-product attention as the references compute it. The 4-D case (B, nh, T, hs) runs fused: the scale
// goes into the product, the scores are normalised in their own buffer, and the output is written with the heads
// interleaved, so merging heads afterwards costs nothing. Other shapes are composed from primitives.
import { Tensor, full } from '../tensor.ts';
import { allocate, allocateUninit, floatOf, promote, type FloatStorage } from '../dtype.ts';
import { record, noGrad } from '../autograd.ts';
import { check, fmt } from '../errors.ts';
import { broadcastShapes, sameShape } from '../shape.ts';
import { rowKernels } from '../backend/index.ts';
import { add } from '../ops/elementwise.ts';
import { matmul, productInto, scaledMatmul } from '../ops/matmul.ts';
import { sumTo } from '../ops/reduce.ts';
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
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape.at(-1)!);
  const mask = opts.mask ?? null;
  const heads = q.shape.slice(0, 2);
  const fits = q.ndim === 4 && sameShape(k.shape.slice(0, 2), heads) && sameShape(v.shape.slice(0, 2), heads)
    && (mask === null || sameShape(broadcastShapes('attention mask', mask.shape, [...heads, Tq, Tk]), [...heads, Tq, Tk]));
  if (fits) return fusedAttention(q, k, v, mask, opts.causal ?? false, scale);
  let scores = scaledMatmul(q, transpose(k), scale); // (…, Tq, Tk)
  if (mask) scores = add(scores, mask);
  if (opts.causal) scores = add(scores, causalMask(Tq, Tk, q.dtype));
  return matmul(softmax(scores, -1), v); // (…, Tq, hv)
}

/**
 * q (B, nh, Tq, hs), k (B, nh, Tk, hs), v (B, nh, Tk, hv) → (B, nh, Tq, hv), a view of a (B, Tq, nh, hv) buffer.
 * Backward keeps the probabilities P (as torch's math attention): dv = Pᵀ·g, dS = P ⊙ (g·vᵀ − rowsum(P ⊙ g·vᵀ)),
 * dq = scale·dS·k, dk = scale·dSᵀ·q, dmask = dS summed to the mask's shape.
 */
function fusedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, causal: boolean, scale: number): Tensor {
  const [B, H, Tq] = q.shape as [number, number, number];
  const Tk = k.shape[2]!;
  const Dv = v.shape[3]!;
  const dtype = floatOf([q.dtype, k.dtype, v.dtype, mask?.dtype ?? q.dtype].reduce(promote));
  const probs = noGrad(() => {
    let s = scaledMatmul(q.to(dtype), transpose(k.to(dtype)), scale); // (B, nh, Tq, Tk), a buffer of its own
    if (mask) s = add(s, mask.to(dtype));
    if (causal) s = add(s, causalMask(Tq, Tk, dtype));
    return s.detach();
  });
  const rows = B * H * Tq;
  const P = probs.data as FloatStorage;
  rowKernels(dtype).softmaxForward(P, P, rows, Tk, false); // in place: the scores are this function's own
  const out = (Tk > 0 ? allocateUninit : allocate)(dtype, B * Tq * H * Dv) as FloatStorage;
  const offsets = new Int32Array(B * H);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) offsets[b * H + h] = (b * Tq * H + h) * Dv;
  productInto(probs, v.detach().to(dtype), out, offsets, H * Dv); // row i of head h at (b, i, h)
  const y = new Tensor(out, [B, H, Tq, Dv], [Tq * H * Dv, Dv, H * Dv, 1]);
  const inputs = mask === null ? [q, k, v] : [q, k, v, mask];
  return record('attention', y, inputs, (g) => {
    const dv = v.requiresGrad ? matmul(transpose(probs), g) : null;
    let dS: Tensor | null = null;
    if (q.requiresGrad || k.requiresGrad || mask?.requiresGrad) {
      const dP = matmul(g, transpose(v.to(dtype))); // (B, nh, Tq, Tk), contiguous
      const dx = allocate(dtype, dP.size) as FloatStorage;
      rowKernels(dtype).softmaxBackward(P, dP.data as FloatStorage, dx, rows, Tk, false);
      dS = new Tensor(dx, [B, H, Tq, Tk]);
    }
    const grads = [
      q.requiresGrad ? scaledMatmul(dS!, k, scale) : null,
      k.requiresGrad ? scaledMatmul(transpose(dS!), q, scale) : null,
      dv,
    ];
    if (mask !== null) grads.push(mask.requiresGrad ? sumTo(dS!, mask.shape) : null);
    return grads;
  });
}

/** (Tq, Tk) additive mask: 0 where key j ≤ query i + (Tk − Tq), −Infinity after. */
export function causalMask(Tq: number, Tk: number, dtype: Tensor['dtype'] = 'float32'): Tensor {
  const m = full([Tq, Tk], 0, dtype);
  for (let i = 0; i < Tq; i++) for (let j = i + Tk - Tq + 1; j < Tk; j++) m.data[i * Tk + j] = -Infinity;
  return m;
}
