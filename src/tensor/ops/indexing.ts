// Index ops as torch defines them: gather and scatter_add are each other's backward; index_select and embedding
// lookup are gather with a broadcast index.
import { Tensor, zeros } from '../tensor.ts';
import { allocate } from '../dtype.ts';
import { record } from '../autograd.ts';
import { check, fmt } from '../errors.ts';
import { contiguousStrides, normAxis, numel, stridedOffsets } from '../shape.ts';
import { copyValues } from '../kernels.ts';
import { expand, reshape } from './view.ts';
import { pad } from './join.ts';

/** For each element of `index`, the storage offset in `x` it addresses along `dim` (other coordinates kept). */
function addressed(op: string, x: { shape: readonly number[]; strides: readonly number[]; offset: number },
  dim: number, index: Tensor): Int32Array {
  check(index.dtype === 'int32', () => `${op}: index must be int32, got ${index.dtype}`);
  check(index.ndim === x.shape.length && index.shape.every((d, i) => i === dim || d <= x.shape[i]!),
    () => `${op}: index of shape ${fmt(index.shape)} does not fit a tensor of shape ${fmt(x.shape)} along dim ${dim}`);
  const base = stridedOffsets(index.shape, x.strides, x.offset); // x's offsets with coordinate dim = position in index
  const ids = index.values();
  const n = x.shape[dim]!;
  const inner = numel(index.shape.slice(dim + 1));
  const len = index.shape[dim]!;
  const stride = x.strides[dim]!;
  for (let i = 0; i < base.length; i++) {
    const id = ids[i]!;
    // negative indices are errors, as in torch's gather and embedding (−1 is often a padding id: never wrap it)
    check(id >= 0 && id < n, () => `${op}: index ${id} is out of range for dim ${dim} of size ${n}`);
    const at = Math.floor(i / inner) % len;
    base[i] += (id - at) * stride;
  }
  return base;
}

/** out[…, i, …] = x[…, index[…, i, …], …] along `dim`; out has index's shape. */
export const gather = (x: Tensor, dim: number, index: Tensor): Tensor => gatherAs('gather', x, dim, index);

/** gather whose errors name `op`, the op the caller called (indexSelect, embedding). */
function gatherAs(op: string, x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normAxis(op, dim, x.ndim);
  const offs = addressed(op, x, d, index);
  const data = allocate(x.dtype, offs.length);
  for (let i = 0; i < offs.length; i++) data[i] = x.data[offs[i]!]!;
  const y = new Tensor(data, [...index.shape]);
  const shape = x.shape;
  return record('gather', y, [x], (g) => [scatterAdd(zeros(shape, g.dtype), d, index, g)]);
}

/** out = x with src[…, i, …] added at out[…, index[…, i, …], …] along `dim` (repeated indices accumulate). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const d = normAxis('scatterAdd', dim, x.ndim);
  check(src.ndim === index.ndim && index.shape.every((s, i) => s <= src.shape[i]!),
    () => `scatterAdd: index of shape ${fmt(index.shape)} is larger than src of shape ${fmt(src.shape)}`);
  const out = new Tensor(copyValues(x, x.dtype), [...x.shape]);
  const offs = addressed('scatterAdd', { shape: x.shape, strides: contiguousStrides(x.shape), offset: 0 }, d, index);
  const from = stridedOffsets(index.shape, src.strides, src.offset);
  for (let i = 0; i < offs.length; i++) out.data[offs[i]!] += src.data[from[i]!]!;
  // src may be larger than index (as torch allows); its elements that no index reads get a zero gradient
  const unread = index.shape.map((s, i) => src.shape[i]! - s).reverse().flatMap((extra) => [0, extra]); // pad's order
  return record('scatterAdd', out, [x, src], (g) => {
    const gs = gather(g, d, index);
    return [g, unread.some((p) => p > 0) ? pad(gs, unread) : gs];
  });
}

/** Rows (or slices along `dim`) of x picked by a 1-D int32 index, as torch.index_select. */
export const indexSelect = (x: Tensor, dim: number, index: Tensor): Tensor => selectAs('indexSelect', x, dim, index);

function selectAs(op: string, x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normAxis(op, dim, x.ndim);
  check(index.ndim === 1, () => `${op}: index must be 1-D, got shape ${fmt(index.shape)}`);
  if (x.isContiguous && index.dtype === 'int32') return selectBlocks(op, x, d, index);
  const shape = x.shape.map((s, i) => (i === d ? index.shape[0]! : s));
  const view = x.shape.map((_, i) => (i === d ? index.shape[0]! : 1));
  return gatherAs(op, x, d, expand(reshape(index, view), shape));
}

/**
 * indexSelect of a contiguous x as whole blocks: x viewed as (outer, n, inner) gives (outer, k, inner) by copying
 * inner-long runs, and the gradient adds them back in the same order (what gather and scatterAdd compute, without
 * an offset per element).
 */
function selectBlocks(op: string, x: Tensor, d: number, index: Tensor): Tensor {
  const ids = index.values();
  const n = x.shape[d]!;
  const k = ids.length;
  for (const id of ids) check(id >= 0 && id < n, () => `${op}: index ${id} is out of range for dim ${d} of size ${n}`);
  const outer = numel(x.shape.slice(0, d));
  const inner = numel(x.shape.slice(d + 1));
  const src = x.data;
  const data = allocate(x.dtype, outer * k * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < k; j++) {
      const from = x.offset + (o * n + ids[j]!) * inner;
      data.set(src.subarray(from, from + inner), (o * k + j) * inner);
    }
  }
  const shape = x.shape;
  const y = new Tensor(data, shape.map((s, i) => (i === d ? k : s)));
  return record('gather', y, [x], (g) => {
    const gc = g.isContiguous ? g : new Tensor(copyValues(g, g.dtype), g.shape);
    const dx = zeros(shape, g.dtype);
    const [to, from] = [dx.data, gc.data];
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < k; j++) {
        const at = (o * n + ids[j]!) * inner;
        const src0 = gc.offset + (o * k + j) * inner;
        for (let c = 0; c < inner; c++) to[at + c] += from[src0 + c]!;
      }
    }
    return [dx];
  });
}

/** Embedding lookup: weight (V, C), ids of any shape → (…ids, C). */
export function embedding(weight: Tensor, ids: Tensor): Tensor {
  check(weight.ndim === 2, () => `embedding: weight must be (V, C), got ${fmt(weight.shape)}`);
  return reshape(selectAs('embedding', weight, 0, reshape(ids, [ids.size])), [...ids.shape, weight.shape[1]!]);
}
