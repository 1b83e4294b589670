// Training losses.
import { Tensor } from '../tensor.ts';
import { check, fmt } from '../errors.ts';
import { sameShape } from '../shape.ts';
import { abs, add, div, mul, ne, sub } from '../ops/elementwise.ts';
import { mean, sum } from '../ops/reduce.ts';
import { gather } from '../ops/indexing.ts';
import { reshape } from '../ops/view.ts';
import { logSoftmax } from './activations.ts';

export interface CrossEntropyOptions {
  /** ε: the target keeps 1 − ε and each of the other V − 1 classes gets ε/(V − 1), as GRiT and PixelLLM do. */
  labelSmoothing?: number;
  /** Targets equal to this take no part (torch's default −100). */
  ignoreIndex?: number;
}

/** Mean cross-entropy of logits (N, V) against int32 targets (N) over the targets that are not ignored. */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const eps = opts.labelSmoothing ?? 0;
  const ignore = opts.ignoreIndex ?? -100;
  check(logits.ndim === 2 && targets.ndim === 1 && targets.shape[0] === logits.shape[0] && targets.dtype === 'int32',
    () => `crossEntropy: logits must be (N, V) and targets int32 (N); got ${fmt(logits.shape)} and ${targets.dtype} ${fmt(targets.shape)}`);
  const V = logits.shape[1]!;
  check(eps >= 0 && eps < 1 && V > 1, () => `crossEntropy: labelSmoothing ${eps} must be in [0, 1) with at least 2 classes (V = ${V})`);
  const bad = targets.toArray().find((t) => t !== ignore && (t < 0 || t >= V));
  check(bad === undefined, () => `crossEntropy: target ${bad} is not a class in [0, ${V}) nor ignoreIndex ${ignore}`);
  const keep = ne(targets, ignore).to(logits.dtype); // (N)
  const safe = mul(targets, ne(targets, ignore).to('int32')); // ignored rows read class 0, then get weight 0
  const lp = logSoftmax(logits, -1); // (N, V)
  const picked = reshape(gather(lp, 1, reshape(safe, [-1, 1])), [-1]); // (N)
  // −[(1 − ε)·log p_t + ε/(V − 1)·Σ_{c≠t} log p_c]
  const others = sub(sum(lp, -1), picked);
  const perRow = mul(add(mul(picked, 1 - eps), mul(others, eps / (V - 1))), -1);
  return div(sum(mul(perRow, keep)), Math.max(1, sum(keep).item()));
}

/** Mean absolute difference. */
export function l1Loss(pred: Tensor, target: Tensor): Tensor {
  check(sameShape(pred.shape, target.shape),
    () => `l1Loss: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} differ in shape`);
  return mean(abs(sub(pred, target)));
}
