// Reductions over any set of axes, with keepdim as torch. The reduced axes are moved last in an offset table,
// so each output element is one loop over a run of that table.
import { Tensor } from '../tensor.ts';
import { allocate, floatOf, type DType, type FloatStorage } from '../dtype.ts';
import { backendName, gemmBatched, sumF32 } from '../backend/index.ts';
import { record } from '../autograd.ts';
import { normAxes, normAxis, numel, sameShape, stridedOffsets } from '../shape.ts';
import { copyValues } from '../kernels.ts';
import { check, fmt } from '../errors.ts';
import { div, eq, mul, sub } from './elementwise.ts';
import { expand, reshape } from './view.ts';

type Axes = number | readonly number[] | undefined;

/** The shape with reduced axes set to 1 (keepdim) or removed. */
function reducedShape(shape: readonly number[], axes: number[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/**
 * Folds each run of reduced elements with `fold(values, table, start, count)`: element k of the run is
 * values[table[start + k]], or values[start + k] when table is null (a contiguous x reduced over trailing axes).
 */
type Fold = (v: Tensor['data'], table: Int32Array | null, start: number, count: number) => number;

function reduceWith(op: string, x: Tensor, axes: number[], dtype: DType, fold: Fold): Tensor['data'] {
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const count = numel(axes.map((a) => x.shape[a]!));
  check(count > 0 || op === 'sum', () => `${op}: cannot reduce over an empty axis of shape ${fmt(x.shape)}`);
  const trailing = x.isContiguous && axes.every((a, i) => a === x.ndim - axes.length + i);
  const order = [...kept, ...axes];
  const table = trailing ? null : stridedOffsets(order.map((a) => x.shape[a]!), order.map((a) => x.strides[a]!), x.offset);
  const base = trailing ? x.offset : 0;
  const n = numel(kept.map((a) => x.shape[a]!));
  const out = allocate(dtype, n);
  for (let i = 0; i < n; i++) out[i] = fold(x.data, table, base + i * count, count);
  return out;
}

export function sum(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const ax = normAxes('sum', axes, x.ndim);
  const dtype = x.dtype === 'bool' ? 'int32' : x.dtype;
  const y = new Tensor(sumValues(x, ax, dtype), reducedShape(x.shape, ax, keepdim));
  // every input element got the output's gradient once
  const shape = x.shape; // the rule keeps the shape, not x
  return record('sum', y, [x], (g) => [expand(reshape(g, reducedShape(shape, ax, true)), shape)]);
}

function sumValues(x: Tensor, ax: number[], dtype: DType): Tensor['data'] {
  // a large strided float32 x (a transposed gradient) is copied first: on the addon the copy is far cheaper than an
  // offset per element
  if (!x.isContiguous && x.dtype === 'float32' && x.size >= 4096 && backendName === 'native') x = new Tensor(copyValues(x, 'float32'), x.shape);
  return sumLeading(x, ax, dtype) ?? sumTrailingFirst(x, ax, dtype) ?? reduceWith('sum', x, ax, dtype, (v, t, s, c) => {
    let acc = 0;
    if (t === null && c >= 1024 && sumF32 !== null && v instanceof Float32Array) return sumF32(v, s, c); // double, in eight lanes
    if (t === null) for (let k = s; k < s + c; k++) acc += v[k]!;
    else for (let k = s; k < s + c; k++) acc += v[t[k]!]!;
    return acc;
  });
}

/**
 * A contiguous float tensor reduced over its last axes and some others (a convolution's bias gradient: (B, O, H, W)
 * over 0, 2, 3): the trailing block first as the product x (rows, inner)·ones(inner), then the rest of the axes on
 * that smaller result; null for other cases (and for a reduction over every axis, which stays in float64).
 */
function sumTrailingFirst(x: Tensor, axes: number[], dtype: DType): Tensor['data'] | null {
  const v = x.data;
  if (!x.isContiguous || axes.length === x.ndim || dtype !== x.dtype || !(v instanceof Float32Array || v instanceof Float64Array)) return null;
  let k = 0; // the reduced axes that end the shape
  while (k < axes.length && axes[axes.length - 1 - k] === x.ndim - 1 - k) k++;
  const inner = numel(x.shape.slice(x.ndim - k));
  const rows = x.size / Math.max(1, inner);
  if (k === 0 || rows === 0 || inner === 0) return null;
  const partial = allocate(dtype, rows) as FloatStorage;
  const ones = allocate(dtype, inner).fill(1) as FloatStorage;
  gemmBatched(false, false, rows, 1, inner, v, Int32Array.of(x.offset), inner, ones, Int32Array.of(0), 1, partial);
  if (k === axes.length) return partial;
  return sumValues(new Tensor(partial, x.shape.slice(0, x.ndim - k)), axes.slice(0, axes.length - k), dtype); // (kept and leading reduced axes)
}

/**
 * Sum over the leading axes of a contiguous tensor (a bias gradient: (B·T, C) → (C)) as whole-row additions,
 * which stream memory instead of striding down columns; null for other cases. Float storage goes through the
 * product ones(1, rows)·x (rows, C): on the addon a vectorised axpy over the rows, in TypeScript the float64 loop.
 */
function sumLeading(x: Tensor, axes: number[], dtype: DType): Tensor['data'] | null {
  if (!x.isContiguous || axes.length === 0 || axes.length === x.ndim || !axes.every((a, i) => a === i)) return null;
  const inner = numel(x.shape.slice(axes.length));
  const rows = x.size / Math.max(1, inner);
  const v = x.data;
  if ((v instanceof Float32Array || v instanceof Float64Array) && dtype === x.dtype && rows > 0 && inner > 0) {
    const out = allocate(dtype, inner) as FloatStorage;
    const ones = allocate(dtype, rows).fill(1) as FloatStorage;
    gemmBatched(false, false, 1, inner, rows, ones, Int32Array.of(0), rows, v, Int32Array.of(x.offset), inner, out);
    return out;
  }
  const acc = new Float64Array(inner);
  for (let r = 0, o = x.offset; r < rows; r++, o += inner) for (let j = 0; j < inner; j++) acc[j] += v[o + j]!;
  const out = allocate(dtype, inner);
  out.set(acc);
  return out;
}

export function mean(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const ax = normAxes('mean', axes, x.ndim);
  const count = numel(ax.map((a) => x.shape[a]!));
  return div(sum(x, ax, keepdim), count);
}

/** Sum of squared deviations over (n − correction), as torch.var. */
export function variance(x: Tensor, axes?: Axes, keepdim = false, correction = 1): Tensor {
  const ax = normAxes('var', axes, x.ndim);
  const count = numel(ax.map((a) => x.shape[a]!));
  const d = sub(x, mean(x, ax, true));
  return div(sum(mul(d, d), ax, keepdim), Math.max(0, count - correction));
}

function extreme(op: 'max' | 'min', x: Tensor, axes: Axes, keepdim: boolean): Tensor {
  const ax = normAxes(op, axes, x.ndim);
  const better = op === 'max' ? (a: number, b: number) => a > b || Number.isNaN(a) : (a: number, b: number) => a < b || Number.isNaN(a);
  const data = reduceWith(op, x, ax, x.dtype, (v, t, s, c) => {
    let best = v[t === null ? s : t[s]!]!;
    for (let k = s + 1; k < s + c; k++) {
      const cur = v[t === null ? k : t[k]!]!;
      if (better(cur, best)) best = cur;
    }
    return best;
  });
  const y = new Tensor(data, reducedShape(x.shape, ax, keepdim));
  // ties share the gradient evenly, as torch.amax does
  return record(op, y, [x], (g) => {
    const kd = reducedShape(x.shape, ax, true);
    const mask = eq(x, reshape(y, kd)).to(floatOf(x.dtype));
    return [mul(mask, div(reshape(g, kd), sum(mask, ax, true)))];
  });
}

export const max = (x: Tensor, axes?: Axes, keepdim = false): Tensor => extreme('max', x, axes, keepdim);
export const min = (x: Tensor, axes?: Axes, keepdim = false): Tensor => extreme('min', x, axes, keepdim);

/** Index of the first largest value along `axis` (over the flattened tensor when axis is undefined), as int32. */
export function argmax(x: Tensor, axis?: number, keepdim = false): Tensor {
  const src = axis === undefined ? reshape(x, [x.size]) : x;
  const ax = normAxis('argmax', axis ?? 0, src.ndim);
  const data = reduceWith('argmax', src, [ax], 'int32', (v, t, s, c) => {
    let best = 0;
    for (let k = 1; k < c; k++) {
      const cur = v[t === null ? s + k : t[s + k]!]!;
      const top = v[t === null ? s + best : t[s + best]!]!;
      if (cur > top || (Number.isNaN(cur) && !Number.isNaN(top))) best = k; // the first NaN wins, as torch
    }
    return best;
  });
  const shape = axis === undefined ? (keepdim ? x.shape.map(() => 1) : []) : reducedShape(x.shape, [ax], keepdim);
  return new Tensor(data, shape);
}

/** Sums a broadcast gradient back to `shape` (leading dims and dims that were 1). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes = g.shape.map((_, i) => i).filter((i) => i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1));
  return reshape(sum(g, axes, true), shape);
}
