// Element-wise loops over strided operands. Contiguous operands take a straight loop; the others read through
// a table of storage offsets (stridedOffsets), so every kernel stays one plain loop either way.
import { allocate, dtypeOf, type DType, type Storage } from './dtype.ts';
import { broadcastStrides, isContiguousLayout, numel, repeatLayout, sameShape, stridedOffsets } from './shape.ts';

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
  const D = dst.data;
  const S = src.data;
  if (src.isContiguous && sameShape(src.shape, dst.shape)) {
    // src in order into dst's runs (a slice of a concat or pad result)
    let at = src.offset;
    const sameType = dtypeOf(D) === dtypeOf(S);
    forEachRun(dst.shape, dst.strides, dst.offset, (o, len, step) => {
      if (step === 1 && len >= 256 && sameType) D.set(S.subarray(at, at + len), o);
      else if (step === 1) for (let j = 0; j < len; j++) D[o + j] = S[at + j]!;
      else for (let j = 0; j < len; j++) D[o + j * step] = S[at + j]!;
      at += len;
    });
    return;
  }
  const n = numel(dst.shape);
  const id = stridedOffsets(dst.shape, dst.strides, dst.offset);
  const is = offsetsAs(src, dst.shape);
  if (is === null) for (let i = 0; i < n; i++) D[id[i]!] = S[src.offset + i]!;
  else for (let i = 0; i < n; i++) D[id[i]!] = S[is[i]!]!;
}

/**
 * Visits a strided view as runs along its innermost dim after merging the dims that are contiguous with each
 * other: visit(storage offset, length, storage step), in row-major order. A permute copy then moves whole rows
 * instead of reading through one table entry per element.
 */
export function forEachRun(shape: readonly number[], strides: readonly number[], offset: number,
  visit: (at: number, len: number, step: number) => void): void {
  const dims: number[] = [];
  const steps: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && steps[last] === strides[i]! * d) {
      dims[last] *= d;
      steps[last] = strides[i]!;
    } else {
      dims.push(d);
      steps.push(strides[i]!);
    }
  });
  if (shape.some((d) => d === 0)) return;
  if (dims.length === 0) return visit(offset, 1, 1);
  const nd = dims.length;
  const len = dims[nd - 1]!;
  const step = steps[nd - 1]!;
  const runs = numel(dims) / len;
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  for (let r = 0; r < runs; r++) {
    visit(base, len, step);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      base += steps[d]!;
      if (idx[d]! < dims[d]!) break;
      base -= steps[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

/** The view with every broadcast (stride-0) dim shrunk to 1: the smallest block of values it repeats. */
export function compact(v: View): View {
  if (!v.shape.some((d, i) => d !== 1 && v.strides[i] === 0)) return v;
  const shape = v.shape.map((d, i) => (v.strides[i] === 0 ? 1 : d));
  return { data: v.data, shape, strides: v.strides, offset: v.offset, isContiguous: isContiguousLayout(shape, v.strides) };
}

/** A contiguous copy of a view in the given dtype; broadcast views of contiguous blocks copy by block. */
export function copyValues(x: View, dtype: DType): Storage {
  const n = numel(x.shape);
  if (x.isContiguous && dtype === dtypeOf(x.data)) return x.data.slice(x.offset, x.offset + n);
  const out = allocate(dtype, n);
  if (x.isContiguous) {
    out.set(x.data.subarray(x.offset, x.offset + n));
    return out;
  }
  const c = compact(x);
  const layout = c.isContiguous ? repeatLayout(c.shape, x.shape) : null;
  const block = c.data.subarray(c.offset, c.offset + numel(c.shape));
  if (layout === 'scalar') out.fill(block[0]!);
  else if (layout === 'row') for (let at = 0; at < n; at += block.length) out.set(block, at);
  else if (layout === 'column') {
    const run = n / block.length;
    for (let i = 0; i < block.length; i++) out.fill(block[i]!, i * run, (i + 1) * run);
  } else {
    const src = x.data;
    let at = 0;
    forEachRun(x.shape, x.strides, x.offset, (o, len, step) => {
      if (step === 1 && len >= 256 && dtypeOf(src) === dtype) out.set(src.subarray(o, o + len), at);
      else if (step === 1) for (let j = 0; j < len; j++) out[at + j] = src[o + j]!;
      else for (let j = 0; j < len; j++) out[at + j] = src[o + j * step]!;
      at += len;
    });
  }
  return out;
}
