// Views share storage and change only shape, strides and offset; their backward rules undo the view.
import { Tensor, zeros } from '../tensor.ts';
import { record } from '../autograd.ts';
import { check, fmt } from '../errors.ts';
import { contiguousStrides, normAxis, numel } from '../shape.ts';
import { copyInto, copyValues } from '../kernels.ts';
import { sumTo } from './reduce.ts';

function view(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  return new Tensor(x.data, shape, strides, offset);
}

/** A new shape for the same elements (one dim may be −1); a view when x is contiguous, else a copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const free = shape.indexOf(-1);
  const known = numel(shape.filter((_, i) => i !== free));
  const target = free < 0 ? [...shape] : shape.map((d, i) => (i === free ? x.size / known : d));
  check(target.every((d) => Number.isInteger(d) && d >= 0) && numel(target) === x.size,
    () => `reshape: cannot view a tensor of shape ${fmt(x.shape)} (${x.size} elements) as ${fmt(shape)}`);
  const src = x.isContiguous ? x : new Tensor(copyValues(x, x.dtype), x.shape);
  const y = view(src, target, contiguousStrides(target), src.offset);
  const shape0 = x.shape;
  return record('reshape', y, [x], (g) => [reshape(g, shape0)]);
}

/** Merges dims start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normAxis('flatten', start, x.ndim);
  const e = normAxis('flatten', end, x.ndim);
  return reshape(x, [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const ax = axes.map((a) => normAxis('permute', a, x.ndim));
  check(ax.length === x.ndim && new Set(ax).size === x.ndim,
    () => `permute: [${axes.join(', ')}] is not a permutation of the ${x.ndim} dims of ${fmt(x.shape)}`);
  const y = view(x, ax.map((a) => x.shape[a]!), ax.map((a) => x.strides[a]!), x.offset);
  const inverse = new Array<number>(ax.length);
  ax.forEach((a, i) => (inverse[a] = i));
  return record('permute', y, [x], (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const order = x.shape.map((_, i) => i);
  const i = normAxis('transpose', a, x.ndim);
  const j = normAxis('transpose', b, x.ndim);
  [order[i], order[j]] = [order[j]!, order[i]!];
  return permute(x, order);
}

/** Elements start, start+step, … below end along one axis (Python slice rules for negative and open ends). */
export function slice(x: Tensor, axis: number, start: number, end?: number, step = 1): Tensor {
  const ax = normAxis('slice', axis, x.ndim);
  const n = x.shape[ax]!;
  check(Number.isInteger(step) && step > 0, () => `slice: step must be a positive integer, got ${step}`);
  check(Number.isInteger(start) && (end === undefined || Number.isInteger(end)), () => `slice: start ${start} and end ${end} must be integers`);
  const clampIndex = (i: number): number => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const s = clampIndex(start);
  const e = Math.max(s, clampIndex(end ?? n));
  const shape = [...x.shape];
  shape[ax] = Math.ceil((e - s) / step);
  const strides = [...x.strides];
  strides[ax] = x.strides[ax]! * step;
  const y = view(x, shape, strides, x.offset + s * x.strides[ax]!);
  return record('slice', y, [x], (g) => {
    const dx = zeros(x.shape, g.dtype);
    copyInto(slice(dx, ax, s, e, step), g);
    return [dx];
  });
}

/** Broadcasts to a larger shape without copying (−1 keeps a dim; new dims may be added in front). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - x.ndim;
  check(lead >= 0, () => `expand: cannot expand ${fmt(x.shape)} to fewer dims ${fmt(shape)}`);
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  check(target.every((d) => Number.isInteger(d) && d >= 0), () => `expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)} (−1 only keeps an existing dim)`);
  const strides = target.map((d, i) => {
    if (i < lead) return 0;
    const own = x.shape[i - lead]!;
    check(own === d || own === 1, () => `expand: dim ${i} of ${fmt(x.shape)} is ${own}, cannot expand to ${fmt(shape)}`);
    return own === d ? x.strides[i - lead]! : 0;
  });
  const y = view(x, target, strides, x.offset);
  return record('expand', y, [x], (g) => [sumTo(g, x.shape)]);
}

/** Removes one size-1 axis, or all of them. */
export function squeeze(x: Tensor, axis?: number): Tensor {
  const ax = axis === undefined ? undefined : normAxis('squeeze', axis, x.ndim);
  check(ax === undefined || x.shape[ax] === 1, () => `squeeze: dim ${axis} of ${fmt(x.shape)} is not 1`);
  const keep = x.shape.map((d, i) => (ax === undefined ? d !== 1 : i !== ax));
  const y = view(x, x.shape.filter((_, i) => keep[i]), x.strides.filter((_, i) => keep[i]), x.offset);
  return record('squeeze', y, [x], (g) => [reshape(g, x.shape)]);
}

/** Inserts a size-1 axis at `axis` (which may be ndim). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis('unsqueeze', axis, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(ax, 0, 1);
  strides.splice(ax, 0, 0);
  const y = view(x, shape, strides, x.offset);
  return record('unsqueeze', y, [x], (g) => [reshape(g, x.shape)]);
}

/** x itself when already contiguous, else a contiguous copy. */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous ? x : clone(x);
}

/** A contiguous copy that owns its storage. */
export function clone(x: Tensor): Tensor {
  const y = new Tensor(copyValues(x, x.dtype), [...x.shape]);
  return record('clone', y, [x], (g) => [g]);
}
