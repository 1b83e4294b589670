// The tensor: a strided view of typed-array storage, plus the autograd fields. Ops live in ops/ and functional/;
// the methods here are sugar over them so that model code reads like the reference (x.matmul(w).add(b)).
import { allocate, dtypeOf, type DType, type Storage } from './dtype.ts';
import { check, fmt } from './errors.ts';
import { contiguousStrides, isContiguousLayout, numel } from './shape.ts';
import { copyValues } from './kernels.ts';
import { runBackward, type GradFn } from './autograd.ts';
import * as ew from './ops/elementwise.ts';
import * as red from './ops/reduce.ts';
import * as view from './ops/view.ts';
import * as mm from './ops/matmul.ts';

type Operand = Tensor | number;
type Axes = number | readonly number[];

export class Tensor {
  /** Whether backward should produce a gradient for this tensor (set on leaves; ops propagate it). */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after backward(). */
  grad: Tensor | null = null;
  /** The op that made this tensor, while its graph is alive. */
  gradFn: GradFn | null = null;
  readonly dtype: DType;
  readonly size: number;
  readonly isContiguous: boolean;

  constructor(
    readonly data: Storage,
    readonly shape: readonly number[],
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    this.dtype = dtypeOf(data);
    this.size = numel(shape);
    this.isContiguous = isContiguousLayout(shape, strides);
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Marks a leaf as trainable (or not); returns this. */
  requireGrad(on = true): this {
    check(this.gradFn === null, 'requireGrad: only a leaf tensor (not the output of an op) can be marked; use detach() first');
    this.requiresGrad = on;
    return this;
  }

  /** The same values with no graph behind them. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, this.strides, this.offset);
  }

  /** Backpropagates from this tensor; a non-scalar needs the gradient of its output, as in torch. */
  backward(grad?: Tensor): void {
    check(grad !== undefined || this.size === 1,
      () => `backward: a gradient can be implied only for a one-element output, this one has shape ${fmt(this.shape)}; pass backward(grad) or reduce first`);
    runBackward(this, grad ?? full(this.shape, 1, this.dtype));
  }

  /** Elements in row-major order as a contiguous typed array (a copy when this is a view). */
  values(): Storage {
    return this.isContiguous ? this.data.subarray(this.offset, this.offset + this.size) : copyValues(this, this.dtype);
  }

  toArray(): number[] {
    return Array.from(this.values());
  }

  /** Nested arrays shaped like the tensor. */
  tolist(): unknown {
    const flat = this.toArray();
    const build = (dim: number, start: number): unknown => {
      if (dim === this.ndim) return flat[start];
      const step = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, start + i * step));
    };
    return build(0, 0);
  }

  item(): number {
    check(this.size === 1, () => `item: tensor of shape ${fmt(this.shape)} has ${this.size} elements, not 1`);
    // a one-element tensor is contiguous whatever its strides
    return this.data[this.offset]!;
  }

  toString(): string {
    return `Tensor(${fmt(this.shape)}, ${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // element-wise
  add(o: Operand): Tensor { return ew.add(this, o); }
  sub(o: Operand): Tensor { return ew.sub(this, o); }
  mul(o: Operand): Tensor { return ew.mul(this, o); }
  div(o: Operand): Tensor { return ew.div(this, o); }
  pow(o: Operand): Tensor { return ew.pow(this, o); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  rsqrt(): Tensor { return ew.rsqrt(this); }
  tanh(): Tensor { return ew.tanh(this); }
  sin(): Tensor { return ew.sin(this); }
  cos(): Tensor { return ew.cos(this); }
  erf(): Tensor { return ew.erf(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  abs(): Tensor { return ew.abs(this); }
  clamp(min?: number, max?: number): Tensor { return ew.clamp(this, min, max); }
  eq(o: Operand): Tensor { return ew.eq(this, o); }
  ne(o: Operand): Tensor { return ew.ne(this, o); }
  lt(o: Operand): Tensor { return ew.lt(this, o); }
  le(o: Operand): Tensor { return ew.le(this, o); }
  gt(o: Operand): Tensor { return ew.gt(this, o); }
  ge(o: Operand): Tensor { return ew.ge(this, o); }
  to(dtype: DType): Tensor { return ew.cast(this, dtype); }

  // reductions
  sum(axes?: Axes, keepdim = false): Tensor { return red.sum(this, axes, keepdim); }
  mean(axes?: Axes, keepdim = false): Tensor { return red.mean(this, axes, keepdim); }
  max(axes?: Axes, keepdim = false): Tensor { return red.max(this, axes, keepdim); }
  min(axes?: Axes, keepdim = false): Tensor { return red.min(this, axes, keepdim); }
  var(axes?: Axes, keepdim = false, correction = 1): Tensor { return red.variance(this, axes, keepdim, correction); }
  argmax(axis?: number, keepdim = false): Tensor { return red.argmax(this, axis, keepdim); }

  // views and copies
  reshape(...shape: number[]): Tensor { return view.reshape(this, shape); }
  flatten(start = 0, end = -1): Tensor { return view.flatten(this, start, end); }
  permute(...axes: number[]): Tensor { return view.permute(this, axes); }
  transpose(a = -2, b = -1): Tensor { return view.transpose(this, a, b); }
  slice(axis: number, start: number, end?: number, step = 1): Tensor { return view.slice(this, axis, start, end, step); }
  expand(...shape: number[]): Tensor { return view.expand(this, shape); }
  squeeze(axis?: number): Tensor { return view.squeeze(this, axis); }
  unsqueeze(axis: number): Tensor { return view.unsqueeze(this, axis); }
  contiguous(): Tensor { return view.contiguous(this); }
  clone(): Tensor { return view.clone(this); }

  matmul(o: Tensor): Tensor { return mm.matmul(this, o); }
}

// ---- creation ----

export type Nested = number | boolean | readonly Nested[];

function inferShape(x: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
  }
  return shape;
}

/** A tensor from nested arrays, a typed array (dtype from its type) or a number. */
export function tensor(x: Nested | Storage, opts: { dtype?: DType; shape?: readonly number[] } = {}): Tensor {
  if (ArrayBuffer.isView(x)) {
    const shape = opts.shape ?? [x.length];
    check(numel(shape) === x.length, () => `tensor: shape ${fmt(shape)} needs ${numel(shape)} values, got ${x.length}`);
    const data = opts.dtype === undefined || opts.dtype === dtypeOf(x) ? x : copyAs(x, opts.dtype);
    return new Tensor(data, shape);
  }
  const shape = inferShape(x);
  const flat: (number | boolean)[] = [];
  const walk = (v: Nested, depth: number): void => {
    if (depth === shape.length) {
      check(!Array.isArray(v), () => `tensor: ragged nested array: an array where shape ${fmt(shape)} expects a number`);
      flat.push(v as number | boolean);
      return;
    }
    check(Array.isArray(v) && v.length === shape[depth], () => `tensor: ragged nested array: dim ${depth} should hold ${shape[depth]} entries everywhere (shape ${fmt(shape)} from the first elements)`);
    for (const item of v as readonly Nested[]) walk(item, depth + 1);
  };
  walk(x, 0);
  const dtype = opts.dtype ?? (flat.some((v) => typeof v === 'boolean') ? 'bool' : 'float32');
  const data = allocate(dtype, flat.length);
  const asBool = dtype === 'bool';
  flat.forEach((v, i) => (data[i] = asBool ? +(Number(v) !== 0) : Number(v)));
  const target = opts.shape ?? shape;
  check(numel(target) === flat.length, () => `tensor: shape ${fmt(target)} needs ${numel(target)} values, got ${flat.length}`);
  return new Tensor(data, target);
}

function copyAs(x: Storage, dtype: DType): Storage {
  const out = allocate(dtype, x.length);
  if (dtype === 'bool') for (let i = 0; i < x.length; i++) out[i] = +(x[i] !== 0); // bool storage holds only 0 and 1
  else out.set(x);
  return out;
}

export function full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  check(shape.every((d) => Number.isInteger(d) && d >= 0), () => `full: bad shape ${fmt(shape)}`);
  const data = allocate(dtype, numel(shape));
  if (value !== 0) data.fill(dtype === 'bool' ? 1 : value);
  return new Tensor(data, [...shape]);
}

export const zeros = (shape: readonly number[], dtype: DType = 'float32'): Tensor => full(shape, 0, dtype);
export const ones = (shape: readonly number[], dtype: DType = 'float32'): Tensor => full(shape, 1, dtype);
export const scalar = (v: number, dtype: DType = 'float32'): Tensor => full([], v, dtype);

/** Values start, start+step, … below end, as torch.arange. */
export function arange(start: number, end?: number, step = 1, dtype: DType = 'float32'): Tensor {
  if (end === undefined) [start, end] = [0, start];
  check(step !== 0, 'arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const data = allocate(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}

export const zerosLike = (t: Tensor): Tensor => zeros(t.shape, t.dtype);
export const onesLike = (t: Tensor): Tensor => ones(t.shape, t.dtype);
