import { check, fmt } from './errors.ts';

export const numel = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Numpy broadcasting of two shapes; the error names the op and both shapes. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    check(da === db || da === 1 || db === 1, () => `${op}: shapes ${fmt(a)} and ${fmt(b)} cannot broadcast (dim ${i}: ${da} vs ${db})`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if it had the broadcast shape `to` (0 on broadcast dims). */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], to: readonly number[]): number[] {
  const out = new Array<number>(to.length).fill(0);
  const lead = to.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[lead + i] = shape[i] === 1 && to[lead + i] !== 1 ? 0 : strides[i]!;
  return out;
}

/** Normalises one axis (negative counts from the end); the error names the op. */
export function normAxis(op: string, axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  check(Number.isInteger(a) && a >= 0 && a < ndim, () => `${op}: axis ${axis} is out of range for a tensor with ${ndim} dims`);
  return a;
}

/** Normalises a list of axes (undefined = all), sorted and unique. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(op, a, ndim)))].sort((x, y) => x - y);
  check(out.length === list.length, () => `${op}: repeated axis in [${list.join(', ')}]`);
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Flat storage offsets of every element of a strided view, in row-major order.
 * Non-contiguous kernels read through this table, so each of them is one plain loop.
 */
export function stridedOffsets(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const nd = shape.length;
  if (nd === 0) {
    out[0] = offset;
    return out;
  }
  const last = shape[nd - 1]!;
  const lastStride = strides[nd - 1]!;
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  for (let i = 0; i < n; i += last) {
    for (let j = 0; j < last; j++) out[i + j] = base + j * lastStride;
    // odometer over the outer dims
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Whether strides are row-major for the shape (size-1 dims may have any stride). */
export function isContiguousLayout(shape: readonly number[], strides: readonly number[]): boolean {
  const want = contiguousStrides(shape);
  return shape.every((d, i) => d === 1 || strides[i] === want[i]);
}

/**
 * How a contiguous operand of shape `small` repeats to fill `shape`: 'same' (no repeat), 'scalar', 'row' (one
 * trailing block repeated, as a bias), 'column' (each value repeated over a trailing block); null otherwise.
 */
export function repeatLayout(small: readonly number[], shape: readonly number[]): 'same' | 'scalar' | 'row' | 'column' | null {
  if (small.length > shape.length) return null;
  const padded = [...new Array<number>(shape.length - small.length).fill(1), ...small];
  if (sameShape(padded, shape)) return 'same';
  if (numel(small) === 1) return 'scalar';
  for (let k = 0; k <= shape.length; k++) if (padded.every((d, i) => (i < k ? d === 1 : d === shape[i]))) return 'row';
  for (let k = 0; k <= shape.length; k++) if (padded.every((d, i) => (i < k ? d === shape[i] : d === 1))) return 'column';
  return null;
}
