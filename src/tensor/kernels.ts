// Element-wise loops over strided operands. Contiguous operands take a straight loop; the others read through
// a table of storage offsets (stridedOffsets), so every kernel stays one plain loop either way.
import { allocate, dtypeOf, type DType, type Storage } from './dtype.ts';
import { broadcastStrides, numel, stridedOffsets } from './shape.ts';

/** A strided view of storage: what the kernels need to know of a tensor. */
export interface View {
  data: Storage;
  shape: readonly number[];
  strides: readonly number[];
  offset: number;
  isContiguous: boolean;
}

/** Offsets of `v`'s elements when read as shape `to` (broadcasting), or null when a straight run from v.offset serves. */
function offsetsAs(v: View, to: readonly number[]): Int32Array | null {
  if (v.isContiguous && v.shape.length === to.length && v.shape.every((d, i) => d === to[i])) return null;
  return stridedOffsets(to, broadcastStrides(v.shape, v.strides, to), v.offset);
}

export function mapUnary(x: View, dtype: DType, f: (v: number) => number): Storage {
  const n = numel(x.shape);
  const out = allocate(dtype, n);
  const src = x.data;
  const ix = offsetsAs(x, x.shape);
  if (ix === null) {
    const o = x.offset;
    for (let i = 0; i < n; i++) out[i] = f(src[o + i]!);
  } else {
    for (let i = 0; i < n; i++) out[i] = f(src[ix[i]!]!);
  }
  return out;
}

export function mapBinary(a: View, b: View, shape: readonly number[], dtype: DType, f: (x: number, y: number) => number): Storage {
  const n = numel(shape);
  const out = allocate(dtype, n);
  const A = a.data;
  const B = b.data;
  const ia = offsetsAs(a, shape);
  const ib = offsetsAs(b, shape);
  if (ia === null && ib === null) {
    const oa = a.offset;
    const ob = b.offset;
    for (let i = 0; i < n; i++) out[i] = f(A[oa + i]!, B[ob + i]!);
  } else if (ia === null) {
    const oa = a.offset;
    for (let i = 0; i < n; i++) out[i] = f(A[oa + i]!, B[ib![i]!]!);
  } else if (ib === null) {
    const ob = b.offset;
    for (let i = 0; i < n; i++) out[i] = f(A[ia[i]!]!, B[ob + i]!);
  } else {
    for (let i = 0; i < n; i++) out[i] = f(A[ia[i]!]!, B[ib[i]!]!);
  }
  return out;
}

export function mapTernary(a: View, b: View, c: View, shape: readonly number[], dtype: DType,
  f: (x: number, y: number, z: number) => number): Storage {
  const n = numel(shape);
  const out = allocate(dtype, n);
  const ia = stridedOffsets(shape, broadcastStrides(a.shape, a.strides, shape), a.offset);
  const ib = stridedOffsets(shape, broadcastStrides(b.shape, b.strides, shape), b.offset);
  const ic = stridedOffsets(shape, broadcastStrides(c.shape, c.strides, shape), c.offset);
  for (let i = 0; i < n; i++) out[i] = f(a.data[ia[i]!]!, b.data[ib[i]!]!, c.data[ic[i]!]!);
  return out;
}

/** Copies `src` (broadcast to dst's shape) into the strided destination view, converting the element type. */
export function copyInto(dst: View, src: View): void {
  const n = numel(dst.shape);
  const id = stridedOffsets(dst.shape, dst.strides, dst.offset);
  const is = offsetsAs(src, dst.shape);
  const D = dst.data;
  const S = src.data;
  if (is === null) for (let i = 0; i < n; i++) D[id[i]!] = S[src.offset + i]!;
  else for (let i = 0; i < n; i++) D[id[i]!] = S[is[i]!]!;
}

/** A contiguous copy of a view in the given dtype. */
export function copyValues(x: View, dtype: DType): Storage {
  const n = numel(x.shape);
  const ix = offsetsAs(x, x.shape);
  if (ix === null && dtype === dtypeOf(x.data)) return x.data.slice(x.offset, x.offset + n);
  const out = allocate(dtype, n);
  if (ix === null) out.set(x.data.subarray(x.offset, x.offset + n));
  else for (let i = 0; i < n; i++) out[i] = x.data[ix[i]!]!;
  return out;
}

