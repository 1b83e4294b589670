// Normalisations over the last dim, composed from primitives.
import type { Tensor } from '../tensor.ts';
import { check, fmt } from '../errors.ts';
import { add, mul, rsqrt, sub } from '../ops/elementwise.ts';
import { mean, variance } from '../ops/reduce.ts';

function checkAffine(op: string, x: Tensor, p: Tensor | null): void {
  check(p === null || (p.ndim === 1 && p.shape[0] === x.shape[x.ndim - 1]),
    () => `${op}: parameter of shape ${fmt(p!.shape)} does not match the last dim of ${fmt(x.shape)}`);
}

/** (x − mean) / √(var + eps) · weight + bias over the last dim, with the biased variance as torch. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkAffine('layerNorm', x, weight);
  checkAffine('layerNorm', x, bias);
  let y = mul(sub(x, mean(x, -1, true)), rsqrt(add(variance(x, -1, true, 0), eps)));
  if (weight !== null) y = mul(y, weight);
  if (bias !== null) y = add(y, bias);
  return y;
}

/** x / √(mean(x²) + eps) · weight over the last dim (T5's and Llama's norm: no mean subtraction, no bias). */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps = 1e-6): Tensor {
  checkAffine('rmsNorm', x, weight);
  const y = mul(x, rsqrt(add(mean(mul(x, x), -1, true), eps)));
  return weight === null ? y : mul(y, weight);
}
