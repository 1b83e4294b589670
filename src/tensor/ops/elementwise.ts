// Element-wise primitives, each with its backward rule beside it. Binary ops broadcast as numpy does; the
// gradient of a broadcast operand is summed back to its shape (sumTo).
import { Tensor, full } from '../tensor.ts';
import { allocateUninit, floatOf, isFloat, promote, type DType, type Storage } from '../dtype.ts';
import { record } from '../autograd.ts';
import { broadcastShapes, broadcastStrides, contiguousStrides, numel, repeatLayout, sameShape } from '../shape.ts';
import { backendName, binaryF32, unaryF32 } from '../backend/index.ts';
import type { BinaryOp, UnaryOp } from '../backend/elementwise_native.ts';
import { compact, copyValues, forEachBinaryRun, mapBinary, mapTernary, mapUnary, type View } from '../kernels.ts';
import { check } from '../errors.ts';
import { erf as erfScalar } from '../math.ts';
import { sumTo } from './reduce.ts';

export type Operand = Tensor | number;

const hasNativeKernels = backendName === 'native';

/** A number becomes a 0-d tensor of the other operand's type (a Python scalar does not promote a torch tensor). */
function lift(o: Operand, like: Tensor): Tensor {
  if (o instanceof Tensor) return o;
  const dtype: DType = isFloat(like.dtype) ? like.dtype : Number.isInteger(o) && like.dtype === 'int32' ? 'int32' : 'float32';
  return full([], o, dtype);
}

interface UnaryOptions {
  /** The addon's vector kernel for float32. */
  kernel?: UnaryOp;
  /** Output type (default: x's float type). */
  dtype?: DType;
  /** Whether the gradient rule reads the output y (only then is it kept until backward). */
  savesOutput?: boolean;
}

function unary(name: string, x: Tensor, f: (v: number) => number, grad: ((g: Tensor, y: Tensor) => Tensor) | null,
  opts: UnaryOptions = {}): Tensor {
  const y = new Tensor(unaryValues(x, f, opts.kernel, opts.dtype ?? floatOf(x.dtype)), [...x.shape]);
  if (grad === null) return y;
  const kept = opts.savesOutput ? y : null;
  return record(name, y, [x], (g) => [grad(g, kept!)]);
}

/** f over x's elements, on the addon's vector kernel for float32 when it has one (a strided x copied first). */
export function unaryValues(x: Tensor, f: (v: number) => number, kernel?: UnaryOp, dtype = floatOf(x.dtype)): Storage {
  if (kernel !== undefined && x.dtype === 'float32' && hasNativeKernels) {
    // a strided x is copied first: the copy is far cheaper than the scalar loop over it (erf, exp)
    const src = x.isContiguous ? x : new Tensor(copyValues(x, 'float32'), x.shape);
    const out = allocateUninit('float32', x.size) as Float32Array; // the kernel writes every element
    if (unaryF32(kernel, src.data as Float32Array, src.offset, out, x.size)) return out;
  }
  return mapUnary(x, dtype, f);
}

/** f over the elements of a contiguous tensor's own storage, overwriting them (no graph: the caller owns x). */
export function unaryInPlace(x: Tensor, f: (v: number) => number, kernel?: UnaryOp): Tensor {
  check(x.isContiguous && x.gradFn === null && !x.requiresGrad, 'unaryInPlace: needs a contiguous tensor outside any graph');
  const d = x.data;
  if (!(kernel !== undefined && d instanceof Float32Array && unaryF32(kernel, d, x.offset, d.subarray(x.offset), x.size))) {
    for (let i = x.offset; i < x.offset + x.size; i++) d[i] = f(d[i]!);
  }
  return x;
}

/** The gradient rule for each operand; a rule runs only when its operand needs a gradient. */
type PartialGrad = (g: Tensor, a: Tensor, b: Tensor, y: Tensor) => Tensor;
type BinaryGrad = [PartialGrad, PartialGrad];

/**
 * A broadcasting binary op. `saves` names what its gradient rules read ('a', 'b', 'y' for the output): only
 * those stay alive until backward, so add and sub keep no activations at all.
 */
function binary(name: string, ao: Operand, bo: Operand, dtype: (a: DType, b: DType) => DType,
  f: (x: number, y: number) => number, grad: BinaryGrad | null, kernel?: BinaryOp, saves = ''): Tensor {
  const a = ao instanceof Tensor ? ao : lift(ao, bo as Tensor);
  const b = lift(bo, a);
  const shape = broadcastShapes(name, a.shape, b.shape);
  const outType = dtype(a.dtype, b.dtype);
  const y = new Tensor(binaryValues(a, b, shape, outType, f, kernel), shape);
  if (grad === null) return y;
  const kept = { a: saves.includes('a') ? a : null, b: saves.includes('b') ? b : null, y: saves.includes('y') ? y : null };
  const [needA, needB, shapeA, shapeB] = [a.requiresGrad, b.requiresGrad, a.shape, b.shape];
  return record(name, y, [a, b], (g) => [
    needA ? sumTo(grad[0](g, kept.a!, kept.b!, kept.y!), shapeA) : null,
    needB ? sumTo(grad[1](g, kept.a!, kept.b!, kept.y!), shapeB) : null,
  ]);
}

/** a ∘ b over the broadcast `shape`, reading each operand as the smaller block it repeats. */
function binaryValues(a: View, b: View, shape: number[], outType: DType, f: (x: number, y: number) => number,
  kernel?: BinaryOp): Storage {
  const A = compact(a);
  const B = compact(b);
  const inner = broadcastShapes('binary', A.shape, B.shape);
  if (numel(inner) < numel(shape)) {
    // both operands repeat (a broadcast gradient times a bias, say): compute the block once, then repeat it
    const block = binaryValues(A, B, inner, outType, f, kernel);
    const strides = broadcastStrides(inner, contiguousStrides(inner), shape);
    return copyValues({ data: block, shape, strides, offset: 0, isContiguous: false }, outType);
  }
  return (kernel !== undefined && (nativeBinary(kernel, A, B, shape, outType) ?? nativeBinaryRuns(kernel, A, B, shape, outType)))
    || mapBinary(A, B, shape, outType, f);
}

/**
 * Runs shorter than this go through the TypeScript loop: below it the call into the addon costs more than it saves
 * (a call is a few hundred nanoseconds; the loop does a float every nanosecond or so).
 */
const MIN_NATIVE_RUN = 256;

type RunLoop = (y: Float32Array, o: number, len: number, a: Float32Array, pa: number, ia: number, b: Float32Array, pb: number, ib: number) => void;
// one function per op, so that each loop is monomorphic and needs no call per element
const RUN_LOOPS: Record<BinaryOp, RunLoop> = {
  add: (y, o, len, a, pa, ia, b, pb, ib) => { for (let j = 0; j < len; j++) y[o + j] = a[pa + j * ia]! + b[pb + j * ib]!; },
  sub: (y, o, len, a, pa, ia, b, pb, ib) => { for (let j = 0; j < len; j++) y[o + j] = a[pa + j * ia]! - b[pb + j * ib]!; },
  mul: (y, o, len, a, pa, ia, b, pb, ib) => { for (let j = 0; j < len; j++) y[o + j] = a[pa + j * ia]! * b[pb + j * ib]!; },
  div: (y, o, len, a, pa, ia, b, pb, ib) => { for (let j = 0; j < len; j++) y[o + j] = a[pa + j * ia]! / b[pb + j * ib]!; },
};

/**
 * Float32 layouts that are not one block (a bias over channels of a batch, a mask broadcast over heads, a transposed
 * operand): the addon per long run where both operands read contiguously or one is constant along the run, a
 * loop for the op otherwise. null without the addon.
 */
function nativeBinaryRuns(op: BinaryOp, A: View, B: View, shape: number[], outType: DType): Storage | null {
  if (!hasNativeKernels || outType !== 'float32' || !(A.data instanceof Float32Array) || !(B.data instanceof Float32Array)) return null;
  const out = allocateUninit('float32', numel(shape)) as Float32Array; // every run writes its elements
  const [a, b] = [A.data, B.data];
  const loop = RUN_LOOPS[op];
  forEachBinaryRun(A, B, shape, (o, len, pa, ia, pb, ib) => {
    if (len >= MIN_NATIVE_RUN && ia === 1 && (ib === 1 || ib === 0)) binaryF32(op, a, pa, b, pb, out, 1, len, ib === 1 ? 'same' : 'scalar', false, o);
    else if (len >= MIN_NATIVE_RUN && ia === 0 && ib === 1) binaryF32(op, b, pb, a, pa, out, 1, len, 'scalar', true, o);
    else loop(out, o, len, a, pa, ia, b, pb, ib);
  });
  return out;
}

/**
 * The addon's result for the float32 layouts it covers: one operand spans the output contiguously, the other is
 * the same, a scalar, a repeated trailing block or one value per leading block; null for anything else.
 */
function nativeBinary(op: BinaryOp, A: View, B: View, shape: number[], outType: DType): Storage | null {
  const n = numel(shape);
  if (outType !== 'float32' || !(A.data instanceof Float32Array) || !(B.data instanceof Float32Array) || n === 0) return null;
  const swap = !sameShape(A.shape, shape);
  const [big, small] = swap ? [B, A] : [A, B];
  if (!sameShape(big.shape, shape) || !big.isContiguous || !small.isContiguous) return null;
  const layout = repeatLayout(small.shape, shape);
  if (layout === null) return null;
  const out = allocateUninit('float32', n) as Float32Array; // the kernel writes every element
  const count = numel(small.shape);
  const rows = layout === 'row' ? n / count : layout === 'column' ? count : 1; // (rows, cols) view of the output
  const ok = binaryF32(op, big.data as Float32Array, big.offset, small.data as Float32Array, small.offset, out, rows, n / rows, layout, swap);
  return ok ? out : null;
}

const keep = promote;
const toFloat = (a: DType, b: DType): DType => floatOf(promote(a, b));
const toBool = (): DType => 'bool';

export const add = (a: Operand, b: Operand): Tensor =>
  binary('add', a, b, keep, (x, y) => x + y, [(g) => g, (g) => g], 'add');

export const sub = (a: Operand, b: Operand): Tensor =>
  binary('sub', a, b, keep, (x, y) => x - y, [(g) => g, (g) => neg(g)], 'sub');

export const mul = (a: Operand, b: Operand): Tensor =>
  binary('mul', a, b, keep, (x, y) => x * y, [(g, _x, y) => mul(g, y), (g, x) => mul(g, x)], 'mul', 'ab');

// d(a/b) = g/b, −g·a/b² = −g·y/b
export const div = (a: Operand, b: Operand): Tensor =>
  binary('div', a, b, toFloat, (x, y) => x / y, [(g, _x, y) => div(g, y), (g, _x, y, q) => neg(div(mul(g, q), y))], 'div', 'by');

/** a^b; d/da = b·a^(b−1), d/db = a^b·ln a. */
export function pow(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') {
    const p = b;
    // d x^0 = 0 everywhere (pow(0, −1)·0 would give NaN at 0)
    return unary('pow', a, (x) => x ** p, (g) => (p === 0 ? mul(g, 0) : mul(g, mul(pow(a, p - 1), p))));
  }
  return binary('pow', a, b, toFloat, (x, y) => x ** y,
    [(g, x, y) => mul(g, mul(y, pow(x, sub(y, 1)))), (g, x, _y, out) => mul(g, mul(out, log(x)))], undefined, 'aby');
}

export const neg = (x: Tensor): Tensor => unary('neg', x, (v) => -v, (g) => neg(g), { kernel: 'neg', dtype: x.dtype });
export const exp = (x: Tensor): Tensor => unary('exp', x, Math.exp, (g, y) => mul(g, y), { kernel: 'exp', savesOutput: true });
export const log = (x: Tensor): Tensor => unary('log', x, Math.log, (g) => div(g, x), { kernel: 'log' });
// d√x = 1/(2√x)
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, Math.sqrt, (g, y) => div(g, mul(y, 2)), { kernel: 'sqrt', savesOutput: true });
// d x^(−1/2) = −½ x^(−3/2) = −½ y³
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x, (v) => 1 / Math.sqrt(v), (g, y) => mul(g, mul(pow(y, 3), -0.5)), { kernel: 'rsqrt', savesOutput: true });
// d tanh = 1 − y²
export const tanh = (x: Tensor): Tensor => unary('tanh', x, Math.tanh, (g, y) => mul(g, sub(1, mul(y, y))), { kernel: 'tanh', savesOutput: true });
// d sin = cos, d cos = −sin
export const sin = (x: Tensor): Tensor => unary('sin', x, Math.sin, (g) => mul(g, cos(x)));
export const cos = (x: Tensor): Tensor => unary('cos', x, Math.cos, (g) => neg(mul(g, sin(x))));
// d erf = 2/√π · e^(−x²)
export const erf = (x: Tensor): Tensor =>
  unary('erf', x, erfScalar, (g) => mul(g, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))), { kernel: 'erf' });
// dσ = σ(1 − σ)
export const sigmoid = (x: Tensor): Tensor =>
  unary('sigmoid', x, (v) => 1 / (1 + Math.exp(-v)), (g, y) => mul(g, mul(y, sub(1, y))), { kernel: 'sigmoid', savesOutput: true });
// d|x| = sign x (0 at 0, as torch)
export const abs = (x: Tensor): Tensor => unary('abs', x, Math.abs, (g) => mul(g, sign(x)), { kernel: 'abs', dtype: x.dtype });
export const sign = (x: Tensor): Tensor => unary('sign', x, Math.sign, null, { dtype: x.dtype });

/** Clamps into [min, max]; the gradient passes where min ≤ x ≤ max, as torch does. */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  check(!(min > max), () => `clamp: min ${min} is greater than max ${max}`);
  if (min === 0 && max === Infinity && x.dtype === 'float32' && hasNativeKernels) return relu(x);
  const y = new Tensor(mapUnary(x, x.dtype, (v) => (v < min ? min : v > max ? max : v)), [...x.shape]);
  // g·[min ≤ x ≤ max] in one pass (a product, so a NaN or infinite g still gives NaN where x is clamped, as torch)
  return record('clamp', y, [x], (g) => [new Tensor(mapBinary(g, x, x.shape, g.dtype, (gv, xv) => gv * +(xv >= min && xv <= max)), [...x.shape])]);
}

/** clamp(x, 0) of float32 on the addon: max(x, 0) keeping NaN, and g·[x ≥ 0] as its gradient (clamp's). */
function relu(x: Tensor): Tensor {
  const y = new Tensor(unaryValues(x, (v) => (v < 0 ? 0 : v), 'relu'), [...x.shape]);
  return record('clamp', y, [x], (g) => [mul(g, new Tensor(unaryValues(x, (v) => +(v >= 0), 'reluGrad'), [...x.shape]))]);
}

/** Converts the element type; gradients flow back in the source's float type. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const y = new Tensor(mapUnary(x, dtype, dtype === 'bool' ? (v) => (v !== 0 ? 1 : 0) : dtype === 'int32' ? Math.trunc : (v) => v), [...x.shape]);
  const from = x.dtype;
  return isFloat(from) && isFloat(dtype) ? record('cast', y, [x], (g) => [cast(g, from)]) : y;
}

// comparisons give bool tensors and no gradient
export const eq = (a: Operand, b: Operand): Tensor => binary('eq', a, b, toBool, (x, y) => +(x === y), null);
export const ne = (a: Operand, b: Operand): Tensor => binary('ne', a, b, toBool, (x, y) => +(x !== y), null);
export const lt = (a: Operand, b: Operand): Tensor => binary('lt', a, b, toBool, (x, y) => +(x < y), null);
export const le = (a: Operand, b: Operand): Tensor => binary('le', a, b, toBool, (x, y) => +(x <= y), null);
export const gt = (a: Operand, b: Operand): Tensor => binary('gt', a, b, toBool, (x, y) => +(x > y), null);
export const ge = (a: Operand, b: Operand): Tensor => binary('ge', a, b, toBool, (x, y) => +(x >= y), null);
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => binary('logicalAnd', a, b, toBool, (x, y) => +(x !== 0 && y !== 0), null);
export const logicalNot = (a: Tensor): Tensor => new Tensor(mapUnary(a, 'bool', (v) => +(v === 0)), [...a.shape]);
/** Element-wise larger value; NaN wins, and ties split the gradient evenly, as torch. */
export const maximum = (a: Operand, b: Operand): Tensor =>
  binary('maximum', a, b, keep, (x, y) => (x > y || Number.isNaN(x) ? x : y), [(g, x, y) => mul(g, winner(x, y)), (g, x, y) => mul(g, winner(y, x))], undefined, 'ab');

/** Element-wise smaller value; NaN wins, and ties split the gradient evenly, as torch. */
export const minimum = (a: Operand, b: Operand): Tensor =>
  binary('minimum', a, b, keep, (x, y) => (x < y || Number.isNaN(x) ? x : y), [(g, x, y) => mul(g, winner(y, x)), (g, x, y) => mul(g, winner(x, y))], undefined, 'ab');

/** 1 where x > y, ½ where they tie, 0 elsewhere: x's share of a maximum's gradient. */
const winner = (x: Tensor, y: Tensor): Tensor => where(gt(x, y), 1, where(eq(x, y), 0.5, 0));

/** cond ? a : b element-wise, all three broadcast together. */
export function where(cond: Tensor, ao: Operand, bo: Operand): Tensor {
  const a = ao instanceof Tensor ? ao : lift(ao, bo instanceof Tensor ? bo : cond);
  const b = lift(bo, a);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  const y = new Tensor(mapTernary(cond, a, b, shape, promote(a.dtype, b.dtype), (c, x, z) => (c !== 0 ? x : z)), shape);
  const [needA, needB, shapeA, shapeB] = [a.requiresGrad, b.requiresGrad, a.shape, b.shape]; // keep cond only
  return record('where', y, [a, b], (g) => [
    needA ? sumTo(where(cond, g, 0), shapeA) : null,
    needB ? sumTo(where(cond, 0, g), shapeB) : null,
  ]);
}
