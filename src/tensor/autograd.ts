// Reverse-mode autograd over a graph of nodes. A node points at its inputs' nodes, never at the input tensors,
// so an intermediate tensor's storage lives only as long as something holds the tensor or a backward rule saved
// it (add saves nothing, mul saves its operands, exp its output), as in torch.
import type { Tensor } from './tensor.ts';
import type { DType } from './dtype.ts';
import { check, fmt } from './errors.ts';
import { isFloat, recycle, withSpareBuffers } from './dtype.ts';
import { sameShape } from './shape.ts';
import { STRIDED, binaryF32 } from './backend/index.ts';
import { stridedF32 } from './kernels.ts';

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
  // How many live gradients read each buffer. A pending gradient that is the sole reader of its buffer may be
  // summed into in place, a leaf may adopt it, and a buffer nothing reads any more is recycled for the rest of the
  // pass. This holds because rules return new tensors or views of their g, never saved forward tensors, and keep
  // no reference to g once they return.
  const readers = new Map<ArrayBufferLike, number>([[grad.data.buffer, 2]]); // the caller's seed is never written
  const hand = (t: Tensor): Tensor => {
    readers.set(t.data.buffer, (readers.get(t.data.buffer) ?? 0) + 1);
    return t;
  };
  const unread = (t: Tensor): boolean => (readers.get(t.data.buffer) ?? 0) === 0;
  const release = (t: Tensor): void => {
    readers.set(t.data.buffer, readers.get(t.data.buffer)! - 1);
    if (unread(t)) recycle(t.data);
  };
  const spansStorage = (t: Tensor): boolean => t.isContiguous && t.offset === 0 && t.data.length === t.size;
  const owned = (t: Tensor): boolean => readers.get(t.data.buffer) === 1 && spansStorage(t);
  withSpareBuffers(() => noGrad(() => {
    for (const node of topoOrder(start)) {
      const g = pending.get(node);
      pending.delete(node);
      if (g === undefined) continue;
      if (node.leaf !== undefined) {
        const t = node.leaf;
        // optimisers update .grad in place, so it must not share storage with anything else; a second backward
        // sums into it in place, as torch does
        if (t.grad === null && owned(g)) {
          t.grad = g.detach();
          continue;
        }
        if (t.grad === null) t.grad = g.clone();
        else if (!addInPlace(t.grad, g)) t.grad = t.grad.add(g);
        release(g);
        continue;
      }
      check(node.backward !== null, () => `backward: the graph through ${node.name} was already used by an earlier backward; run the forward again`);
      const grads = node.backward(g);
      node.backward = null;
      const summed: Tensor[] = []; // gradients added into another: recycled once every edge has been handed its own
      node.edges.forEach((e, i) => {
        const raw = grads[i];
        if (e === null || raw === null || raw === undefined) return;
        // an op that promoted a float32 input to float64 hands back a float64 gradient; the input keeps its own dtype, as torch
        const gi = isFloat(e.dtype) && raw.dtype !== e.dtype ? raw.to(e.dtype) : raw;
        check(sameShape(gi.shape, e.shape), () => `backward of ${node.name}: gradient ${fmt(gi.shape)} for input ${i} of shape ${fmt(e.shape)}`);
        const prev = pending.get(e.node);
        if (prev === undefined) {
          pending.set(e.node, hand(gi));
        } else if (owned(prev) && addInPlace(prev, gi)) {
          summed.push(gi);
        } else if (unread(gi) && spansStorage(gi) && !grads.some((o, j) => j !== i && o?.data.buffer === gi.data.buffer) && addInPlace(gi, prev)) {
          // the sum lands in the new gradient's own buffer (a + b = b + a exactly), which no other edge is handed
          pending.set(e.node, hand(gi));
          release(prev);
        } else {
          pending.set(e.node, hand(prev.add(gi)));
          release(prev);
          summed.push(gi);
        }
      });
      node.edges = [];
      release(g);
      for (const t of summed) if (unread(t)) recycle(t.data);
    }
  }));
}

/**
 * acc += g for a contiguous float acc and a g of its shape and type: on the addon for float32 (g may be any strided
 * view there, a transposed gradient say), in TypeScript for contiguous float64; false where the caller must add
 * out of place.
 */
function addInPlace(acc: Tensor, g: Tensor): boolean {
  if (!isFloat(acc.dtype) || acc.dtype !== g.dtype || !acc.isContiguous || !sameShape(acc.shape, g.shape)) return false;
  const [a, b, n] = [acc.data, g.data, acc.size];
  if (a instanceof Float32Array && b instanceof Float32Array) {
    if (g.isContiguous) return binaryF32('add', a, acc.offset, b, g.offset, a, 1, n, 'same', false, acc.offset);
    return stridedF32(g, a, acc.offset, STRIDED.addToFlat);
  }
  if (!g.isContiguous) return false;
  for (let i = 0, o = acc.offset, p = g.offset; i < n; i++) a[o + i] += b[p + i]!;
  return true;
}
