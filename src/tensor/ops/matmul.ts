// Batched matrix product with broadcast batch dims, as torch.matmul, and the fully connected layer as one product.
// Transposed views go to the kernel as transpose flags, so backward's products (g·Bᵀ, Aᵀ·g) copy nothing.
import { Tensor } from '../tensor.ts';
import { allocate, allocateUninit, promote, isFloat, type FloatStorage } from '../dtype.ts';
import { record } from '../autograd.ts';
import { check, fmt } from '../errors.ts';
import { broadcastShapes, broadcastStrides, numel, sameShape, stridedOffsets } from '../shape.ts';
import { gemmBatched } from '../backend/index.ts';
import { sumTo, sum } from './reduce.ts';
import { contiguous, reshape, squeeze, transpose, unsqueeze } from './view.ts';

/** How the kernel can read the last two dims of t in place: row-major (trans false) or column-major, with a leading dim. */
function layout(t: Tensor): { trans: boolean; ld: number } | null {
  const [R, C] = t.shape.slice(-2) as [number, number];
  const [sr, sc] = t.strides.slice(-2) as [number, number];
  if ((C === 1 || sc === 1) && (R === 1 || sr >= Math.max(C, 1))) return { trans: false, ld: R === 1 ? Math.max(C, 1) : sr };
  if ((R === 1 || sr === 1) && (C === 1 || sc >= Math.max(R, 1))) return { trans: true, ld: C === 1 ? Math.max(R, 1) : sc };
  return null;
}

export const matmul = (a: Tensor, b: Tensor): Tensor => scaledMatmul(a, b, 1);

/** scale·(a·b), the scale applied inside the product (BLAS's alpha), so it costs no pass over the result. */
export function scaledMatmul(a: Tensor, b: Tensor, scale: number): Tensor {
  check(a.ndim >= 1 && b.ndim >= 1, () => `matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)}: both need at least 1 dim`);
  // checked before vectors become matrices, so that the message names the shapes the caller passed
  const [Ka, Kb] = [a.shape.at(-1)!, b.ndim === 1 ? b.shape[0]! : b.shape.at(-2)!];
  check(Ka === Kb, () => `matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)}: inner dims ${Ka} and ${Kb} differ`);
  // vectors: a (K) is a row (1, K), b (K) a column (K, 1); the added dim is dropped again
  if (a.ndim === 1) return squeeze(scaledMatmul(unsqueeze(a, 0), b, scale), b.ndim === 1 ? 0 : -2);
  if (b.ndim === 1) return squeeze(scaledMatmul(a, unsqueeze(b, 1), scale), -1);
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape.at(-1)!;
  check(isFloat(a.dtype) && isFloat(b.dtype), () => `matmul: needs float tensors, got ${a.dtype} and ${b.dtype}`);
  // (…, M, K)·(K, N): one product with M' = …·M, as torch does, instead of a batch of small ones
  if (b.ndim === 2 && a.ndim > 2) return reshape(scaledMatmul(reshape(a, [numel(a.shape.slice(0, -1)), K]), b, scale), [...a.shape.slice(0, -1), N]);
  return product(a, b, M, K, N, scale);
}

/** The operand as the kernel can read it: itself when its last two dims have a layout, else a contiguous copy. */
function readable(t: Tensor, dtype: Tensor['dtype']): Tensor {
  return layout(t) === null || t.dtype !== dtype ? contiguous(t.to(dtype)) : t;
}

/**
 * scale·(a·b) for a (…, M, K) and b (…, K, N) with equal batch dims, written into `out` (no graph): batch product i
 * at outOffsets[i] with rows `ld` apart, so a caller can lay the result out as it needs (heads interleaved, say).
 */
export function productInto(a: Tensor, b: Tensor, out: FloatStorage, outOffsets: Int32Array, ld: number, scale = 1): void {
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape.at(-1)!;
  const batch = a.shape.slice(0, -2);
  check(b.shape.at(-2) === K && sameShape(batch, b.shape.slice(0, -2)) && outOffsets.length === numel(batch),
    () => `productInto: ${fmt(a.shape)}·${fmt(b.shape)} into ${outOffsets.length} blocks`);
  const dtype = out instanceof Float64Array ? 'float64' : 'float32';
  const A = readable(a, dtype);
  const B = readable(b, dtype);
  const offsets = (t: Tensor): Int32Array => stridedOffsets(batch, t.strides.slice(0, -2), t.offset);
  if (M * N * K === 0) return;
  gemmBatched(layout(A)!.trans, layout(B)!.trans, M, N, K, A.data as FloatStorage, offsets(A), layout(A)!.ld,
    B.data as FloatStorage, offsets(B), layout(B)!.ld, out, scale, 0, { offsets: outOffsets, ld });
}

function product(a: Tensor, b: Tensor, M: number, K: number, N: number, scale: number): Tensor {
  const batch = broadcastShapes(`matmul of ${fmt(a.shape)} and ${fmt(b.shape)}: batch dims`, a.shape.slice(0, -2), b.shape.slice(0, -2));
  const dtype = promote(a.dtype, b.dtype);
  const A = readable(a, dtype);
  const B = readable(b, dtype);
  const la = layout(A)!;
  const lb = layout(B)!;
  const offsets = (t: Tensor): Int32Array =>
    stridedOffsets(batch, broadcastStrides(t.shape.slice(0, -2), t.strides.slice(0, -2), batch), t.offset);
  const offsA = offsets(A);
  // the product writes every element, unless K = 0 (then C must be zeros)
  const C = (K > 0 ? allocateUninit : allocate)(dtype, offsA.length * M * N) as FloatStorage;
  if (M * N * K > 0) {
    gemmBatched(la.trans, lb.trans, M, N, K, A.data as FloatStorage, offsA, la.ld, B.data as FloatStorage, offsets(B), lb.ld, C, scale);
  }
  const y = new Tensor(C, [...batch, M, N]);
  return record('matmul', y, [a, b], (g) => [
    a.requiresGrad ? productSummedTo(g, transpose(b), scale, a.shape) : null, // dA = s·g·Bᵀ
    b.requiresGrad ? productSummedTo(transpose(a), g, scale, b.shape) : null, // dB = s·Aᵀ·g
  ]);
}

/** Multiply-adds per call below which productSummedTo stores the products and sums them instead of accumulating. */
const MIN_ACCUMULATED_WORK = 1 << 18;

/**
 * sumTo(scale·(x·y), shape), the gradient of an operand broadcast over batch dims (a conv weight over the images,
 * say). When the summed dims lead the batch, each block of products accumulates into one buffer (beta = 1) instead
 * of every item's product being stored and summed afterwards. No graph: for backward rules.
 */
function productSummedTo(x: Tensor, y: Tensor, scale: number, shape: readonly number[]): Tensor {
  const batch = broadcastShapes('matmul backward', x.shape.slice(0, -2), y.shape.slice(0, -2));
  const [M, K] = x.shape.slice(-2) as [number, number];
  const N = y.shape.at(-1)!;
  const target = shape.slice(0, -2);
  const lead = batch.length - target.length;
  const kept = (i: number): boolean => i >= lead && target[i - lead] === batch[i];
  let p = 0;
  while (p < batch.length && !kept(p)) p++;
  // one call per summed index: worth it only when each call has real work (a conv weight's product, not the
  // thousands of 8×8 products of a relative-position table, which one batched call and a sum do faster)
  const work = numel(batch.slice(p)) * M * N * K;
  const fits = p > 0 && batch.every((_, i) => i < p || kept(i)) && shape.at(-2) === M && shape.at(-1) === N && work >= MIN_ACCUMULATED_WORK;
  if (!fits) return sumTo(scaledMatmul(x, y, scale), shape);
  const dtype = promote(x.dtype, y.dtype);
  const X = readable(x, dtype);
  const Y = readable(y, dtype);
  const [lx, ly] = [layout(X)!, layout(Y)!];
  const offsets = (t: Tensor): Int32Array =>
    stridedOffsets(batch, broadcastStrides(t.shape.slice(0, -2), t.strides.slice(0, -2), batch), t.offset);
  const [offsX, offsY] = [offsets(X), offsets(Y)];
  const summed = numel(batch.slice(0, p));
  const items = numel(batch.slice(p)); // products per summed index, one block of C each
  const C = allocateUninit(dtype, items * M * N) as FloatStorage; // the first block of products overwrites it
  for (let r = 0; r < summed; r++) {
    const at = (o: Int32Array): Int32Array => o.subarray(r * items, (r + 1) * items);
    gemmBatched(lx.trans, ly.trans, M, N, K, X.data as FloatStorage, at(offsX), lx.ld, Y.data as FloatStorage, at(offsY), ly.ld, C, scale, r === 0 ? 0 : 1);
  }
  return new Tensor(C, [...shape]);
}

/**
 * torch.nn.functional.linear: x (…, K)·Wᵀ + b with W (N, K) as torch stores it → (…, N). One product that starts
 * from the bias rows (beta = 1), so the bias costs no pass of its own.
 */
export function linearProduct(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  check(weight.ndim === 2 && x.ndim >= 1 && x.shape.at(-1) === weight.shape[1] && (bias === null || (bias.ndim === 1 && bias.shape[0] === weight.shape[0])),
    () => `linear: input ${fmt(x.shape)}, weight ${fmt(weight.shape)}${bias ? ` and bias ${fmt(bias.shape)}` : ''} do not fit (…, K), (N, K), (N)`);
  check(isFloat(x.dtype) && isFloat(weight.dtype) && (bias === null || isFloat(bias.dtype)),
    () => `linear: needs float tensors, got ${x.dtype}, ${weight.dtype}${bias ? `, ${bias.dtype}` : ''}`);
  const [N, K] = weight.shape as [number, number];
  const lead = x.shape.slice(0, -1);
  const M = numel(lead);
  const dtype = [x.dtype, weight.dtype, bias?.dtype ?? x.dtype].reduce(promote);
  const X = reshape(readable(x.detach(), dtype), [M, K]); // (M, K), a view when x is contiguous
  const Wt = readable(transpose(weight.detach()), dtype); // (K, N): W's own storage read column-major
  const lw = layout(Wt)!;
  // the bias rows or the product (K > 0) write every element
  const C = (bias !== null || K > 0 ? allocateUninit : allocate)(dtype, M * N) as FloatStorage;
  if (bias !== null) {
    C.set(reshape(readable(bias.detach(), dtype), [N]).values());
    for (let done = N; done < M * N; done *= 2) C.copyWithin(done, 0, Math.min(done, M * N - done)); // rows 2^k at a time
  }
  if (M * N * K > 0) {
    gemmBatched(false, lw.trans, M, N, K, X.data as FloatStorage, Int32Array.of(X.offset), K, Wt.data as FloatStorage,
      Int32Array.of(Wt.offset), lw.ld, C, 1, bias === null ? 0 : 1);
  }
  const y = new Tensor(C, [...lead, N]);
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return record('linear', y, inputs, (g) => {
    const g2 = reshape(g, [M, N]);
    const grads = [
      x.requiresGrad ? matmul(g, weight) : null, // dx = g·W
      weight.requiresGrad ? matmul(transpose(g2), reshape(x, [M, K])) : null, // dW = gᵀ·x
    ];
    if (bias !== null) grads.push(bias.requiresGrad ? sum(g2, 0) : null); // db = Σ_rows g
    return grads;
  });
}
