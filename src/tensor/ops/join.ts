// Ops that join, split or pad along an axis. Each writes its inputs into slices of a new tensor; backward slices back.
import { Tensor, full } from '../tensor.ts';
import { promote } from '../dtype.ts';
import { record } from '../autograd.ts';
import { check, fmt } from '../errors.ts';
import { normAxis } from '../shape.ts';
import { copyInto } from '../kernels.ts';
import { slice, unsqueeze } from './view.ts';

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  check(xs.length > 0, 'concat: needs at least one tensor');
  const first = xs[0]!;
  const ax = normAxis('concat', axis, first.ndim);
  for (const x of xs) {
    check(x.ndim === first.ndim && x.shape.every((d, i) => i === ax || d === first.shape[i]),
      () => `concat: shapes ${fmt(first.shape)} and ${fmt(x.shape)} differ outside axis ${ax}`);
  }
  const shape = [...first.shape];
  shape[ax] = xs.reduce((n, x) => n + x.shape[ax]!, 0);
  const y = full(shape, 0, xs.map((x) => x.dtype).reduce(promote));
  const starts: number[] = [];
  let at = 0;
  for (const x of xs) {
    starts.push(at);
    copyInto(slice(y, ax, at, at + x.shape[ax]!), x);
    at += x.shape[ax]!;
  }
  const sizes = xs.map((x) => x.shape[ax]!);
  return record('concat', y, [...xs], (g) => sizes.map((n, i) => slice(g, ax, starts[i]!, starts[i]! + n)));
}

/** Joins equal-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  check(xs.length > 0, 'stack: needs at least one tensor');
  const ax = normAxis('stack', axis, xs[0]!.ndim + 1);
  for (const x of xs) check(x.ndim === xs[0]!.ndim && x.shape.every((d, i) => d === xs[0]!.shape[i]),
    () => `stack: shapes ${fmt(xs[0]!.shape)} and ${fmt(x.shape)} differ`);
  return concat(xs.map((x) => unsqueeze(x, ax)), ax);
}

/** Views of consecutive pieces along `axis`: equal pieces of `size` (the last may be shorter), or the given sizes. */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const ax = normAxis('split', axis, x.ndim);
  const n = x.shape[ax]!;
  check(typeof sizes !== 'number' || (Number.isInteger(sizes) && sizes > 0), () => `split: piece size must be a positive integer, got ${sizes}`);
  const list = typeof sizes === 'number'
    ? Array.from({ length: Math.ceil(n / sizes) }, (_, i) => Math.min(sizes, n - i * sizes))
    : [...sizes];
  check(list.every((s) => Number.isInteger(s) && s >= 0) && list.reduce((s, d) => s + d, 0) === n,
    () => `split: sizes [${list.join(', ')}] do not add up to dim ${ax} (${n}) of ${fmt(x.shape)}`);
  let at = 0;
  return list.map((s) => slice(x, ax, at, (at += s)));
}

/**
 * Constant padding; `pads` lists (before, after) pairs from the LAST axis backwards, as torch.nn.functional.pad:
 * [left, right, top, bottom] pads W then H.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  check(pads.length % 2 === 0 && pads.length / 2 <= x.ndim && pads.every((p) => Number.isInteger(p) && p >= 0),
    () => `pad: [${pads.join(', ')}] must be non-negative (before, after) pairs for at most ${x.ndim} dims of ${fmt(x.shape)}`);
  const shape = [...x.shape];
  for (let p = 0; p < pads.length / 2; p++) shape[x.ndim - 1 - p]! += pads[2 * p]! + pads[2 * p + 1]!;
  const y = full(shape, value, x.dtype);
  copyInto(interior(y, pads, x.shape), x);
  const shape0 = x.shape;
  return record('pad', y, [x], (g) => [interior(g, pads, shape0)]);
}

/** The part of a padded tensor that holds the original values. */
function interior(t: Tensor, pads: readonly number[], shape: readonly number[]): Tensor {
  for (let p = 0; p < pads.length / 2; p++) {
    const ax = shape.length - 1 - p;
    t = slice(t, ax, pads[2 * p]!, pads[2 * p]! + shape[ax]!);
  }
  return t;
}
