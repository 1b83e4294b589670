// Scaled dot-product attention as the references compute it, and attention with decomposed relative positions
// (SAM). The 4-D case of the first, (B, nh, T, hs), runs fused: the scale goes into the product, the scores are
// normalised in their own buffer, and the output is written with the heads interleaved, so merging heads afterwards
// costs nothing; other shapes are composed from primitives. The second is fused on the addon for inference.
import { Tensor, full } from '../tensor.ts';
import { allocate, allocateUninit, floatOf, promote, type FloatStorage } from '../dtype.ts';
import { record, noGrad, isGradEnabled } from '../autograd.ts';
import { check, fmt } from '../errors.ts';
import { broadcastShapes, contiguousStrides, numel, sameShape, stridedOffsets } from '../shape.ts';
import { gemmBatched, relPosAddBackwardF32, relPosAddF32, relPosAttentionF32, rowKernels } from '../backend/index.ts';
import { add } from '../ops/elementwise.ts';
import { matmul, productInto, scaledMatmul } from '../ops/matmul.ts';
import { sumTo } from '../ops/reduce.ts';
import { contiguous, reshape, transpose } from '../ops/view.ts';
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

/**
 * scores (…, H·W, Hk·Wk) + termH (…, H, W, Hk) broadcast over key columns + termW (…, H, W, Wk) over key rows, as
 * one pass per query row; backward sums g over the key columns (termH) and over the key rows (termW) by rows,
 * where the broadcast adds' generic rules would walk offset tables. `scores` must be the caller's own product
 * (its rule saves nothing of it): its storage is overwritten with the sum when it is contiguous float of `dtype`.
 */
function addRelPos(scores: Tensor, termH: Tensor, termW: Tensor, Hk: number, Wk: number): Tensor {
  const dtype = [scores.dtype, termH.dtype, termW.dtype].reduce(promote);
  const S = contiguous(scores.detach().to(dtype));
  const TH = contiguous(termH.detach().to(dtype));
  const TW = contiguous(termW.detach().to(dtype));
  const rows = S.size / (Hk * Wk); // one per query
  const out = S.data as FloatStorage; // in place
  const th = TH.data;
  const tw = TW.data;
  if (relPosAddF32 !== null && out instanceof Float32Array) relPosAddF32(out, S.offset, th as Float32Array, TH.offset, tw as Float32Array, TW.offset, rows, Hk, Wk);
  else for (let r = 0; r < rows; r++) {
    const o = S.offset + r * Hk * Wk;
    const h0 = TH.offset + r * Hk;
    const w0 = TW.offset + r * Wk;
    for (let a = 0; a < Hk; a++) {
      const ha = th[h0 + a]!;
      const row = o + a * Wk;
      for (let b = 0; b < Wk; b++) out[row + b] = out[row + b]! + ha + tw[w0 + b]!;
    }
  }
  const y = new Tensor(out, [...scores.shape], S.strides, S.offset);
  const [shapeH, shapeW] = [termH.shape, termW.shape];
  return record('addRelPos', y, [scores, termH, termW], (g) => {
    // dtermH = G (rows·Hk, Wk)·1 and dtermW[r] = 1ᵀ·G[r] (Hk, Wk) per query row: products, vectorised on the addon
    const G = contiguous(g.to(dtype));
    const gd = G.data as FloatStorage;
    if (relPosAddBackwardF32 !== null && gd instanceof Float32Array) {
      const [dh, dw] = [allocateUninit('float32', rows * Hk) as Float32Array, allocateUninit('float32', rows * Wk) as Float32Array];
      relPosAddBackwardF32(gd, G.offset, dh, dw, rows, Hk, Wk); // one pass over G for both sums
      return [g, new Tensor(dh, [...shapeH]), new Tensor(dw, [...shapeW])];
    }
    const ones = allocate(dtype, Math.max(Hk, Wk)).fill(1) as FloatStorage;
    const dh = allocateUninit(dtype, rows * Hk) as FloatStorage;
    const dw = allocateUninit(dtype, rows * Wk) as FloatStorage;
    gemmBatched(false, false, rows * Hk, 1, Wk, gd, Int32Array.of(G.offset), Wk, ones, Int32Array.of(0), 1, dh);
    const perRow = new Int32Array(rows);
    for (let r = 0; r < rows; r++) perRow[r] = G.offset + r * Hk * Wk;
    gemmBatched(false, false, 1, Wk, Hk, ones, new Int32Array(rows), Hk, gd, perRow, Wk, dw);
    return [g, new Tensor(dh, [...shapeH]), new Tensor(dw, [...shapeW])];
  });
}

/**
 * Attention with MViTv2's decomposed relative positions, as SAM's image encoder computes it. Queries are the
 * cells of an H×W grid and keys of an Hk×Wk grid (row-major), and the score of query (h, w) and key (a, b) is
 *   scale·q·k + q·relH[h, a] + q·relW[w, b].
 * q (…, H·W, hs), k (…, Hk·Wk, hs), v (…, Hk·Wk, hv), relH (H, Hk, hs), relW (W, Wk, hs) → (…, H·W, hv).
 * With no graph to record, float32 on the addon runs fused (the scores never reach memory, and the result is
 * laid out heads-inside-rows when the last batch dim is the heads, so merging them is free); otherwise it is
 * composed from primitives, whose rules give the gradients.
 */
export function relPosAttention(q: Tensor, k: Tensor, v: Tensor, relH: Tensor, relW: Tensor, opts: { scale?: number } = {}): Tensor {
  const [H, Hk, hs] = relH.shape as [number, number, number];
  const [W, Wk] = relW.shape as [number, number];
  const batch = q.shape.slice(0, -2);
  check(relH.ndim === 3 && relW.ndim === 3 && relW.shape[2] === hs && q.ndim >= 2 && q.shape.at(-2) === H * W && q.shape.at(-1) === hs
    && k.shape.at(-2) === Hk * Wk && k.shape.at(-1) === hs && v.shape.at(-2) === Hk * Wk
    && [k, v].every((t) => t.ndim === q.ndim && t.shape.slice(0, -2).every((d, i) => d === batch[i])),
  () => `relPosAttention: q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}, relH ${fmt(relH.shape)}, relW ${fmt(relW.shape)} do not fit (…, H·W, hs), (…, Hk·Wk, hs), (…, Hk·Wk, hv), (H, Hk, hs), (W, Wk, hs)`);
  const scale = opts.scale ?? 1 / Math.sqrt(hs);
  const recording = isGradEnabled() && [q, k, v, relH, relW].some((t) => t.requiresGrad);
  const kernel = recording || ![q, k, v, relH, relW].every((t) => t.dtype === 'float32') ? null : relPosAttentionF32;
  if (kernel === null) {
    const rq = reshape(q, [...batch, H, W, hs]);
    const termH = matmul(rq, transpose(relH)); // (…, H, W, Hk): query row against key row
    const termW = transpose(matmul(transpose(rq, -3, -2), transpose(relW)), -3, -2); // (…, H, W, Wk): query column against key column
    const scores = addRelPos(scaledMatmul(q, transpose(k), scale), termH, termW, Hk, Wk); // (…, H·W, Hk·Wk)
    return matmul(softmax(scores, -1), v); // (…, H·W, hv)
  }
  // the kernel reads rows of unit stride, each at least a row's length after the previous one
  const rows = (t: Tensor): Tensor => ((t.strides.at(-1) === 1 || t.shape.at(-1) === 1) && (t.shape.at(-2) === 1 || t.strides.at(-2)! >= t.shape.at(-1)!) ? t : contiguous(t));
  const [Q, K, V] = [q, k, v].map(rows) as [Tensor, Tensor, Tensor];
  const offs = (t: Tensor): Int32Array => stridedOffsets(batch, t.strides.slice(0, -2), t.offset);
  const ld = (t: Tensor): number => Math.max(1, t.shape.at(-2) === 1 ? t.shape.at(-1)! : t.strides.at(-2)!);
  const hv = v.shape.at(-1)!;
  const Tq = H * W;
  // storage (…outer, Tq, heads, hv): item (…, head) writes rows of heads·hv floats from head·hv
  const heads = batch.at(-1) ?? 1;
  const layout = contiguousStrides([...batch.slice(0, -1), Tq, heads, hv]);
  const itemStrides = [...layout.slice(0, Math.max(0, batch.length - 1)), ...(batch.length > 0 ? [hv] : [])];
  const out = new Float32Array(numel(batch) * Tq * hv);
  kernel(Q.data as Float32Array, offs(Q), ld(Q), K.data as Float32Array, offs(K), ld(K), V.data as Float32Array, offs(V), ld(V),
    out, stridedOffsets(batch, itemStrides, 0), heads * hv, contiguous(relH).values() as Float32Array, contiguous(relW).values() as Float32Array,
    H, W, Hk, Wk, hs, hv, scale);
  return new Tensor(out, [...batch, Tq, hv], [...itemStrides, heads * hv, 1]);
}
