import type { Tensor } from './tensor.ts';
import { check, fmt } from './errors.ts';
import { isFloat } from './dtype.ts';

/** Turns the gradient of an op's output into gradients of its inputs (null where an input needs none). */
export type BackwardFn = (grad: Tensor) => (Tensor | null)[];

/** The node that made a tensor: the op's inputs and its backward rule, both dropped once backward has run. */
export interface GradFn {
  name: string;
  inputs: Tensor[];
  backward: BackwardFn | null;
}

let gradEnabled = true;

export const isGradEnabled = (): boolean => gradEnabled;

/** Runs `fn` without recording a graph (inference, optimiser updates, backward rules themselves). */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = before;
  }
}

/** Links `out` to its inputs when any of them needs a gradient; returns `out`. */
export function record(name: string, out: Tensor, inputs: Tensor[], backward: BackwardFn): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { name, inputs, backward };
  }
  return out;
}

/** Nodes reachable from `root`, ordered so that every tensor comes before the inputs it was made from. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const input of t.gradFn?.inputs ?? []) if (input.requiresGrad && !seen.has(input)) stack.push([input, false]);
  }
  return order.reverse();
}

/**
 * Reverse-mode sweep from `root`. Leaves (tensors with requiresGrad and no gradFn) accumulate into `.grad`;
 * every node's inputs and saved values are released as soon as its rule has run, so a second call needs a new forward.
 */
export function runBackward(root: Tensor, grad: Tensor): void {
  check(root.requiresGrad, 'backward: the tensor does not require grad (no input of the graph has requiresGrad = true)');
  check(grad.shape.length === root.shape.length && grad.shape.every((d, i) => d === root.shape[i]),
    () => `backward: gradient shape ${fmt(grad.shape)} does not match tensor shape ${fmt(root.shape)}`);
  const pending = new Map<Tensor, Tensor>([[root, grad]]);
  noGrad(() => {
    for (const t of topoOrder(root)) {
      const g = pending.get(t);
      pending.delete(t);
      if (g === undefined) continue;
      const fn = t.gradFn;
      if (fn === null) {
        // a copy: a rule may hand the same tensor to several inputs, and optimisers update .grad in place
        t.grad = t.grad === null ? g.clone() : t.grad.add(g);
        continue;
      }
      check(fn.backward !== null, () => `backward: the graph through ${fn.name} was already used by an earlier backward; run the forward again`);
      const grads = fn.backward(g);
      fn.backward = null;
      fn.inputs.forEach((input, i) => {
        const raw = grads[i];
        if (raw === null || raw === undefined || !input.requiresGrad) return;
        // an op that promoted a float32 input to float64 hands back a float64 gradient; the input keeps its own dtype, as torch
        const gi = isFloat(input.dtype) && raw.dtype !== input.dtype ? raw.to(input.dtype) : raw;
        check(gi.shape.length === input.shape.length && gi.shape.every((d, k) => d === input.shape[k]),
          () => `backward of ${fn.name}: gradient ${fmt(gi.shape)} for input ${i} of shape ${fmt(input.shape)}`);
        const prev = pending.get(input);
        pending.set(input, prev === undefined ? gi : prev.add(gi));
      });
      fn.inputs = [];
    }
  });
}
