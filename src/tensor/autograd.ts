// Reverse-mode autograd over a graph of nodes. A node points at its inputs' nodes, never at the input tensors,
// so an intermediate tensor's storage lives only as long as something holds the tensor or a backward rule saved
// it (add saves nothing, mul saves its operands, exp its output), as in torch.
import type { Tensor } from './tensor.ts';
import type { DType } from './dtype.ts';
import { check, fmt } from './errors.ts';
import { isFloat } from './dtype.ts';
import { sameShape } from './shape.ts';

/** Turns the gradient of an op's output into gradients of its inputs (null where an input needs none). */
export type BackwardFn = (grad: Tensor) => (Tensor | null)[];

/** What backward needs to know of an input: where its gradient goes, and the shape and type it must have. */
interface Edge {
  node: GradFn;
  shape: readonly number[];
  dtype: DType;
}

/**
 * The node that made a tensor (or, for a leaf that requires grad, the node that accumulates into its .grad).
 * Its edges and rule are dropped once backward has run them.
 */
export interface GradFn {
  name: string;
  edges: (Edge | null)[];
  backward: BackwardFn | null;
  /** Set on the accumulating node of a leaf. */
  leaf?: Tensor;
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

const accumulators = new WeakMap<Tensor, GradFn>();

/** The node of a tensor that requires grad: the op that made it, or its leaf accumulator. */
function nodeOf(t: Tensor): GradFn {
  if (t.gradFn !== null) return t.gradFn;
  let node = accumulators.get(t);
  if (node === undefined) {
    node = { name: 'leaf', edges: [], backward: null, leaf: t };
    accumulators.set(t, node);
  }
  return node;
}

/** Links `out` to its inputs when any of them needs a gradient; returns `out`. */
export function record(name: string, out: Tensor, inputs: Tensor[], backward: BackwardFn): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = {
      name,
      edges: inputs.map((t) => (t.requiresGrad ? { node: nodeOf(t), shape: t.shape, dtype: t.dtype } : null)),
      backward,
    };
  }
  return out;
}

/** Nodes reachable from `root`, ordered so that every node comes before the nodes of its inputs. */
function topoOrder(root: GradFn): GradFn[] {
  const order: GradFn[] = [];
  const seen = new Set<GradFn>();
  const stack: [GradFn, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [n, expanded] = stack.pop()!;
    if (expanded) {
      order.push(n);
      continue;
    }
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push([n, true]);
    for (const e of n.edges) if (e !== null && !seen.has(e.node)) stack.push([e.node, false]);
  }
  return order.reverse();
}

/**
 * Reverse-mode sweep from `root`. Leaves accumulate into `.grad`; every node's edges and saved values are
 * released as soon as its rule has run, so a second call needs a new forward.
 */
export function runBackward(root: Tensor, grad: Tensor): void {
  check(root.requiresGrad, 'backward: the tensor does not require grad (no input of the graph has requiresGrad = true)');
  check(sameShape(grad.shape, root.shape), () => `backward: gradient shape ${fmt(grad.shape)} does not match tensor shape ${fmt(root.shape)}`);
  const start = nodeOf(root);
  const pending = new Map<GradFn, Tensor>([[start, grad]]);
  // how many pending gradients read each storage: a leaf may adopt a gradient's storage only when it is the sole
  // reader (rules return new tensors or views of their g, never saved forward tensors)
  const readers = new Map<Tensor['data'], number>([[grad.data, 2]]); // the caller's seed is never adopted
  const hand = (t: Tensor): Tensor => {
    readers.set(t.data, (readers.get(t.data) ?? 0) + 1);
    return t;
  };
  noGrad(() => {
    for (const node of topoOrder(start)) {
      const g = pending.get(node);
      pending.delete(node);
      if (g === undefined) continue;
      if (node.leaf !== undefined) {
        const t = node.leaf;
        // optimisers update .grad in place, so it must not share storage with anything else
        const owned = readers.get(g.data) === 1 && g.isContiguous && g.offset === 0 && g.data.length === g.size;
        t.grad = t.grad === null ? (owned ? g.detach() : g.clone()) : t.grad.add(g);
        continue;
      }
      check(node.backward !== null, () => `backward: the graph through ${node.name} was already used by an earlier backward; run the forward again`);
      const grads = node.backward(g);
      node.backward = null;
      node.edges.forEach((e, i) => {
        const raw = grads[i];
        if (e === null || raw === null || raw === undefined) return;
        // an op that promoted a float32 input to float64 hands back a float64 gradient; the input keeps its own dtype, as torch
        const gi = isFloat(e.dtype) && raw.dtype !== e.dtype ? raw.to(e.dtype) : raw;
        check(sameShape(gi.shape, e.shape), () => `backward of ${node.name}: gradient ${fmt(gi.shape)} for input ${i} of shape ${fmt(e.shape)}`);
        const prev = pending.get(e.node);
        pending.set(e.node, hand(prev === undefined ? gi : prev.add(gi)));
      });
      node.edges = [];
    }
  });
}
