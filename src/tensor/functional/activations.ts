// Activations and softmax as compositions of primitives: their gradients follow from the primitives' rules.
import type { Tensor } from '../tensor.ts';
import { noGrad } from '../autograd.ts';
import { add, exp, erf, log, mul, sigmoid, sub, div, tanh } from '../ops/elementwise.ts';
import { max, sum } from '../ops/reduce.ts';

/** exp(x − max) / Σ exp(x − max); the max is a constant shift, so it carries no gradient. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const e = exp(sub(x, noGrad(() => max(x, axis, true))));
  return div(e, sum(e, axis, true));
}

/** x − max − log Σ exp(x − max). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const shifted = sub(x, noGrad(() => max(x, axis, true)));
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}

/** GELU: ½x(1 + erf(x/√2)), or with approximate 'tanh' ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  const inner = approximate === 'tanh'
    ? tanh(mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI)))
    : erf(mul(x, Math.SQRT1_2));
  return mul(mul(x, 0.5), add(inner, 1));
}

/** x·σ(x) (also called swish). */
export const silu = (x: Tensor): Tensor => mul(x, sigmoid(x));

/** x·σ(1.702x), CLIP's approximation of GELU. */
export const quickGelu = (x: Tensor): Tensor => mul(x, sigmoid(mul(x, 1.702)));
