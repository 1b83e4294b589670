// Activations and softmax. Softmax, log-softmax and GELU are fused primitives with their own backward rules
// (bench/ops.ts measured the compositions 20–100× slower than PyTorch); SiLU and quick-GELU stay compositions.
import { Tensor } from '../tensor.ts';
import { allocateUninit, floatOf, type FloatStorage } from '../dtype.ts';
import { record } from '../autograd.ts';
import { normAxis } from '../shape.ts';
import { erf as erfScalar } from '../math.ts';
import { mul, sigmoid, unaryInPlace, unaryValues } from '../ops/elementwise.ts';
import { contiguous, transpose } from '../ops/view.ts';
import { rowKernels } from '../backend/index.ts';

/** The contiguous storage of x's elements as `dtype` (a view of x's storage when it already is that). */
export function rowsOf(x: Tensor, dtype = floatOf(x.dtype)): FloatStorage {
  const c = contiguous(x.detach().to(dtype));
  return c.data.subarray(c.offset, c.offset + c.size) as FloatStorage;
}

function softmaxLike(name: string, x: Tensor, axis: number, log: boolean): Tensor {
  const ax = normAxis(name, axis, x.ndim);
  // other axes: move it last, normalise rows, move it back (the transposes carry their own gradients)
  if (ax !== x.ndim - 1) return transpose(softmaxLike(name, transpose(x, ax, -1), -1, log), ax, -1);
  const cols = x.shape[ax]!;
  const rows = cols === 0 ? 0 : x.size / cols;
  const shape = x.shape;
  const dtype = floatOf(x.dtype);
  const Y = allocateUninit(dtype, x.size) as FloatStorage;
  rowKernels(dtype).softmaxForward(rowsOf(x), Y, rows, cols, log);
  // the rule keeps the output values only (as torch's softmax backward)
  return record(name, new Tensor(Y, [...shape]), [x], (g) => {
    const dx = allocateUninit(dtype, Y.length) as FloatStorage;
    rowKernels(dtype).softmaxBackward(Y, rowsOf(g, dtype), dx, rows, cols, log);
    return [new Tensor(dx, [...shape])];
  });
}

/** exp(x − max) / Σ exp(x − max) along `axis`. */
export const softmax = (x: Tensor, axis = -1): Tensor => softmaxLike('softmax', x, axis, false);

/** x − max − log Σ exp(x − max) along `axis`. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => softmaxLike('logSoftmax', x, axis, true);

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const GELU = {
  none: { f: (v: number) => geluErf(v), kernel: 'geluErf', df: (v: number) => dGeluErf(v), dKernel: 'geluErfGrad' },
  tanh: { f: (v: number) => geluTanh(v), kernel: 'geluTanh', df: (v: number) => dGeluTanh(v), dKernel: 'geluTanhGrad' },
} as const;

/** GELU: x·Φ(x) = ½x(1 + erf(x/√2)), or with approximate 'tanh' ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  const k = GELU[approximate];
  const y = new Tensor(unaryValues(x, k.f, k.kernel), [...x.shape]);
  return record('gelu', y, [x], (g) => [mul(g, new Tensor(unaryValues(x, k.df, k.dKernel), [...x.shape]))]);
}

/** GELU written over a contiguous tensor's own values, for a result nothing else holds and no graph needs. */
export function geluInPlace(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return unaryInPlace(x, GELU[approximate].f, GELU[approximate].kernel);
}

const geluErf = (v: number): number => 0.5 * v * (1 + erfScalar(v * Math.SQRT1_2));
// d/dx x·Φ(x) = Φ(x) + x·φ(x)
const dGeluErf = (v: number): number => 0.5 * (1 + erfScalar(v * Math.SQRT1_2)) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
const geluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
// with t = tanh(u), u = √(2/π)(x + 0.044715x³): ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)
function dGeluTanh(v: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
  return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
}

/** x·σ(x) (also called swish). */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));

/** x·σ(1.702x), CLIP's approximation of GELU. */
export const quickGelu = (x: Tensor): Tensor => mul(x, sigmoid(mul(x, 1.702)));
