// Element-wise loops over strided operands. Contiguous operands take a straight loop; the others read through
// a table of storage offsets (stridedOffsets), so every kernel stays one plain loop either way.
import { allocate, allocateUninit, dtypeOf, type DType, type Storage } from './dtype.ts';
import { STRIDED, copyStridedF32 } from './backend/index.ts';
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
  const out = allocateUninit(dtype, n); // every element is written
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

/**
 * The output of a binary op as runs: visit(outAt, len, atA, stepA, atB, stepB) for each run of `len` output elements
 * from outAt, reading a from atA by stepA and b from atB by stepB (0 where that operand is broadcast along the run).
 * Dims that are contiguous with each other in both operands are merged first, so a broadcast over a middle dim or
 * a bias over channels gives runs as long as the block that repeats.
 */
export function forEachBinaryRun(a: View, b: View, shape: readonly number[],
  visit: (outAt: number, len: number, atA: number, stepA: number, atB: number, stepB: number) => void): void {
  const sa = broadcastStrides(a.shape, a.strides, shape);
  const sb = broadcastStrides(b.shape, b.strides, shape);
  const dims: number[] = [];
  const stA: number[] = [];
  const stB: number[] = [];
  shape.forEach((d, i) => {
    if (d === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && stA[last] === sa[i]! * d && stB[last] === sb[i]! * d) {
      dims[last] *= d;
      stA[last] = sa[i]!;
      stB[last] = sb[i]!;
    } else {
      dims.push(d);
      stA.push(sa[i]!);
      stB.push(sb[i]!);
    }
  });
  if (shape.some((d) => d === 0)) return;
  if (dims.length === 0) return visit(0, 1, a.offset, 0, b.offset, 0);
  const nd = dims.length;
  const len = dims[nd - 1]!;
  const runs = numel(dims) / len;
  const idx = new Array<number>(nd).fill(0);
  let pa = a.offset;
  let pb = b.offset;
  for (let r = 0; r < runs; r++) {
    visit(r * len, len, pa, stA[nd - 1]!, pb, stB[nd - 1]!);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      pa += stA[d]!;
      pb += stB[d]!;
      if (idx[d]! < dims[d]!) break;
      pa -= stA[d]! * dims[d]!;
      pb -= stB[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

export function mapBinary(a: View, b: View, shape: readonly number[], dtype: DType, f: (x: number, y: number) => number): Storage {
  const out = allocateUninit(dtype, numel(shape)); // the runs cover every element
  const A = a.data;
  const B = b.data;
  forEachBinaryRun(a, b, shape, (o, len, pa, ia, pb, ib) => {
    if (ia === 1 && ib === 1) for (let j = 0; j < len; j++) out[o + j] = f(A[pa + j]!, B[pb + j]!);
    else if (ib === 0) {
      const y = B[pb]!;
      for (let j = 0; j < len; j++) out[o + j] = f(A[pa + j * ia]!, y);
    } else if (ia === 0) {
      const x = A[pa]!;
      for (let j = 0; j < len; j++) out[o + j] = f(x, B[pb + j * ib]!);
    } else for (let j = 0; j < len; j++) out[o + j] = f(A[pa + j * ia]!, B[pb + j * ib]!);
  });
  return out;
}

export function mapTernary(a: View, b: View, c: View, shape: readonly number[], dtype: DType,
  f: (x: number, y: number, z: number) => number): Storage {
  const n = numel(shape);
  const out = allocateUninit(dtype, n); // every element is written
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
    // src in order into dst's runs (a slice of a concat or pad result, a slice's gradient)
    // memcpy on the addon: only without overlap
    if (S instanceof Float32Array && D.buffer !== S.buffer && numel(dst.shape) >= MIN_NATIVE_COPY && stridedF32(dst, S, src.offset, STRIDED.toView)) return;
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
 * The addon's copy or sum between a float32 view and contiguous values of `flat` from offFlat (copyStridedF32, by
 * mode); false where it cannot (no addon, another type, a negative stride), and the caller loops instead.
 */
export function stridedF32(view: View, flat: Float32Array, offFlat: number, mode: (typeof STRIDED)[keyof typeof STRIDED]): boolean {
  if (!(view.data instanceof Float32Array)) return false;
  const { dims, steps } = mergedDims(view.shape, view.strides);
  return dims.length > 0 && steps.every((s) => s >= 0) && copyStridedF32(view.data, view.offset, dims, steps, flat, offFlat, mode);
}

/** The view's dims with size-1 dims dropped and each dim merged into the one before when they are contiguous with each other. */
function mergedDims(shape: readonly number[], strides: readonly number[]): { dims: number[]; steps: number[] } {
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
  return { dims, steps };
}

/**
 * Visits a strided view as runs along its innermost dim after merging the dims that are contiguous with each
 * other: visit(storage offset, length, storage step), in row-major order. A permute copy then moves whole rows
 * instead of reading through one table entry per element.
 */
export function forEachRun(shape: readonly number[], strides: readonly number[], offset: number,
  visit: (at: number, len: number, step: number) => void): void {
  const { dims, steps } = mergedDims(shape, strides);
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
  const out = allocateUninit(dtype, n); // every branch below writes every element
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
  } else if (out instanceof Float32Array && x.data instanceof Float32Array) {
    copyRunsF32(x, x.data, out);
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

/** Copies shorter than this stay in TypeScript: below it the call into the addon costs more than it saves. */
const MIN_NATIVE_COPY = 1024;

/**
 * The float32 → float32 copy of copyValues in a loop of its own: its element accesses only ever see Float32Array,
 * so V8 keeps them on the fast path, where the shared loop (all four storage types) goes megamorphic.
 */
function copyRunsF32(x: View, src: Float32Array, out: Float32Array): void {
  if (out.length >= MIN_NATIVE_COPY && stridedF32(x, out, 0, STRIDED.toFlat)) return;
  let at = 0;
  forEachRun(x.shape, x.strides, x.offset, (o, len, step) => {
    if (step === 1 && len >= 256) out.set(src.subarray(o, o + len), at);
    else if (step === 1) for (let j = 0; j < len; j++) out[at + j] = src[o + j]!;
    else for (let j = 0; j < len; j++) out[at + j] = src[o + j * step]!;
    at += len;
  });
}
