import type { Tensor } from '../tensor.ts';
import type { Generator } from '../random.ts';
import { check } from '../errors.ts';
import { div, ge, mul } from '../ops/elementwise.ts';

/** Zeroes each element with probability p and scales the rest by 1/(1 − p); identity when not training. */
export function dropout(x: Tensor, p: number, rng: Generator, training = true): Tensor {
  check(p >= 0 && p < 1, () => `dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const keep = ge(rng.uniform(x.shape, 0, 1, x.dtype), p).to(x.dtype);
  return div(mul(x, keep), 1 - p);
}
