// relPosAttention (SAM's attention with decomposed relative positions): a hand-computed case, the composition
// against plain attention, and the addon's fused kernel against the float64 composition on strided views, odd
// grids, query and key grids of different sizes, head sizes and key counts that cross the GEMM blocks, one and
// two threads. Its gradients are checked in gradcheck.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, Tensor, backendName, getThreads, noGrad, relPosAttention, scaledDotProductAttention, setThreads, softmax, tensor, zeros } from '../src/tensor/index.ts';
import { loadNative } from '../src/tensor/backend/native.ts';
import { assertClose } from './helpers.ts';

const f64 = (x: number[][][]): Tensor => tensor(x, { dtype: 'float64' });

test('one query, keys on a 1×2 grid: the column terms shift the scores by q·relW', () => {
  // q = (1, 0), keys 0, so q·k = 0; relW[0] = [(1, 0), (0, 0)] gives scores (1, 0) and weights (e, 1)/(e + 1)
  const q = f64([[[1, 0]]]);
  const k = f64([[[0, 0], [0, 0]]]);
  const v = f64([[[2, 0], [0, 4]]]);
  const relH = f64([[[0, 0]]]); // (H 1, Hk 1, hs 2)
  const relW = f64([[[1, 0], [0, 0]]]); // (W 1, Wk 2, hs 2)
  const e = Math.E;
  assertClose(relPosAttention(q, k, v, relH, relW), f64([[[2 * e / (e + 1), 4 / (e + 1)]]]), 1e-12, 'out');
});

test('with zero tables it is plain scaled dot-product attention', () => {
  const g = new Generator(4);
  const [q, k, v] = [g.normal([2, 6, 5], 0, 1, 'float64'), g.normal([2, 12, 5], 0, 1, 'float64'), g.normal([2, 12, 3], 0, 1, 'float64')];
  assertClose(relPosAttention(q, k, v, zeros([2, 3, 5], 'float64'), zeros([3, 4, 5], 'float64'), { scale: 0.7 }),
    scaledDotProductAttention(q, k, v, { scale: 0.7 }), 1e-12, 'out');
});

interface Case { B: number; nh: number; H: number; W: number; Hk: number; Wk: number; hs: number; hv: number }

/** q, k, v as strided views of one (B, T, 3, nh, hs) projection, as SAM's qkv layer lays them out. */
function inputs(c: Case, seed: number): Tensor[] {
  const g = new Generator(seed);
  const Tq = c.H * c.W;
  const Tk = c.Hk * c.Wk;
  const proj = (T: number, hs: number) => g.normal([c.B, T, 3, c.nh, hs]);
  const view = (t: Tensor, i: number) => t.slice(2, i, i + 1).squeeze(2).transpose(1, 2); // (B, nh, T, hs)
  return [view(proj(Tq, c.hs), 0), view(proj(Tk, c.hs), 1), view(proj(Tk, c.hv), 2),
    g.normal([c.H, c.Hk, c.hs], 0, 0.5), g.normal([c.W, c.Wk, c.hs], 0, 0.5)];
}

const cases: Case[] = [
  { B: 3, nh: 2, H: 5, W: 7, Hk: 5, Wk: 7, hs: 8, hv: 8 }, // SAM-like windows, odd grid
  { B: 1, nh: 1, H: 20, W: 21, Hk: 20, Wk: 21, hs: 16, hv: 24 }, // one item: rows split over threads; several row blocks; keys cross kc
  { B: 2, nh: 3, H: 3, W: 5, Hk: 4, Wk: 2, hs: 300, hv: 5 }, // query and key grids differ; head size crosses kc
];

const native = loadNative();
for (const threads of [1, 2]) {
  test(`the addon's fused kernel equals the float64 composition (${threads} thread${threads > 1 ? 's' : ''})`, { skip: backendName !== 'native' || native === null ? 'the addon is not in use' : false }, () => {
    const before = getThreads();
    setThreads(threads);
    try {
      cases.forEach((c, i) => {
        const [q, k, v, rh, rw] = inputs(c, 10 + i) as [Tensor, Tensor, Tensor, Tensor, Tensor];
        const fused = noGrad(() => relPosAttention(q, k, v, rh, rw));
        const reference = relPosAttention(...([q, k, v, rh, rw].map((t) => t.to('float64')) as [Tensor, Tensor, Tensor, Tensor, Tensor]));
        assertClose(fused, reference.to('float32'), 2e-5, `case ${i} ${JSON.stringify(c)}`);
      });
      // no batch dims, and keys broadcast along their rows (stride 0: the kernel gets a copy)
      const [q, k, v, rh, rw] = inputs(cases[0]!, 20).map((t, i) => (i < 3 ? t.slice(0, 0, 1).slice(1, 0, 1).squeeze(0).squeeze(0) : t)) as Tensor[];
      const kb = k!.slice(0, 0, 1).expand(k!.shape[0]!, k!.shape[1]!);
      const fused = noGrad(() => relPosAttention(q!, kb, v!, rh!, rw!));
      assertClose(fused, relPosAttention(...([q!, kb, v!, rh!, rw!].map((t) => t.to('float64')) as [Tensor, Tensor, Tensor, Tensor, Tensor])).to('float32'), 2e-5, 'unbatched');
    } finally {
      setThreads(before);
    }
  });
}

test('the fused kernel lays heads inside rows: (B, nh, T, hv) whose transpose(1, 2) is contiguous', { skip: backendName !== 'native' ? 'the addon is not in use' : false }, () => {
  const [q, k, v, rh, rw] = inputs(cases[0]!, 3) as [Tensor, Tensor, Tensor, Tensor, Tensor];
  const out = noGrad(() => relPosAttention(q, k, v, rh, rw));
  assert.ok(out.transpose(1, 2).isContiguous);
});

test('the addon checks its arguments', { skip: native === null ? 'the addon is not built' : false }, () => {
  const a = new Float32Array(16);
  assert.throws(() => native!.relPosAttentionF32(a, new Int32Array([0]), 2, a, new Int32Array([0, 0]), 2, a, new Int32Array([0]), 2,
    a, new Int32Array([0]), 2, a, a, 2, 2, 2, 2, 2, 2, 1), /one offset per item/);
  assert.throws(() => native!.relPosAttentionF32(a, new Int32Array([9]), 2, a, new Int32Array([0]), 2, a, new Int32Array([0]), 2,
    a, new Int32Array([0]), 2, a, a, 2, 2, 2, 2, 2, 2, 1), /too short/);
});

/** The scores composed from generic broadcasting ops, as SAM's reference writes them: the gradients' independent reference. */
function composed(q: Tensor, k: Tensor, v: Tensor, relH: Tensor, relW: Tensor): Tensor {
  const [H, Hk, hs] = relH.shape as [number, number, number];
  const [W, Wk] = relW.shape as [number, number];
  const batch = q.shape.slice(0, -2);
  const rq = q.reshape(...batch, H, W, hs);
  const termH = rq.matmul(relH.transpose(1, 2)); // (…, H, W, Hk)
  const termW = rq.transpose(-3, -2).matmul(relW.transpose(1, 2)).transpose(-3, -2); // (…, H, W, Wk)
  const scores = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(hs)).reshape(...batch, H, W, Hk, Wk).add(termH.unsqueeze(-1)).add(termW.unsqueeze(-2));
  return softmax(scores.reshape(...batch, H * W, Hk * Wk), -1).matmul(v);
}

test('gradients in float32 and float64 match the composition from generic ops', () => {
  const c = cases[0]!;
  const base = inputs(c, 40).map((t) => t.to('float64').contiguous());
  const up = new Generator(41).normal([c.B, c.nh, c.H * c.W, c.hv], 0, 1, 'float64');
  const grads = (dtype: 'float32' | 'float64', f: typeof composed): Tensor[] => {
    const leaves = base.map((t) => t.detach().to(dtype).requireGrad());
    const [q, k, v, rh, rw] = leaves as [Tensor, Tensor, Tensor, Tensor, Tensor];
    f(q, k, v, rh, rw).mul(up.to(dtype)).sum().backward();
    return leaves.map((t) => t.grad!);
  };
  const want = grads('float64', composed);
  const names = ['q', 'k', 'v', 'relH', 'relW'];
  grads('float64', relPosAttention).forEach((g, i) => assertClose(g, want[i]!, 1e-10, `${names[i]} float64`));
  grads('float32', relPosAttention).forEach((g, i) => assertClose(g, want[i]!.to('float32'), 1e-4, `${names[i]} float32`));
});
