// The autograd engine itself: accumulation, noGrad, detach, reuse, graph release, and flat memory over a training loop.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  Tensor, Generator, tensor, zeros, full, noGrad, isGradEnabled,
  add, mul, exp, sum, mean, matmul, gelu, sub, backendName, withStepScope, untracked,
} from '../src/tensor/index.ts';
import { assertClose } from './helpers.ts';

const f64 = (x: number[]): Tensor => tensor(x, { dtype: 'float64' });
const leaf = (x: number[]): Tensor => f64(x).requireGrad();

describe('autograd', () => {
  test('gradients accumulate over two backward calls into the same leaf', () => {
    const x = leaf([1, 2, 3]);
    sum(mul(x, 2)).backward(); // d/dx Σ2x = 2
    sum(mul(x, x)).backward(); // d/dx Σx² = 2x
    assertClose(x.grad!, f64([4, 6, 8]), 0, 'accumulated');
    x.grad = null;
    sum(mul(x, 3)).backward();
    assertClose(x.grad!, f64([3, 3, 3]), 0, 'after reset');
  });

  test('noGrad records nothing and restores the previous mode, also after a throw', () => {
    const x = leaf([1, 2]);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      return exp(mul(x, x));
    });
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    assert.equal(isGradEnabled(), true);
    noGrad(() => noGrad(() => 0));
    assert.equal(isGradEnabled(), true, 'nested noGrad restores');
    assert.throws(() => noGrad(() => { throw new Error('inside'); }), /inside/);
    assert.equal(isGradEnabled(), true, 'restored after a throw');
    assert.throws(() => sum(y).backward(), /does not require grad/);
  });

  test('a tensor used twice gets the summed gradient', () => {
    const x = leaf([0.5, -1, 2]);
    sum(mul(x, x)).backward(); // 2x
    assertClose(x.grad!, f64([1, -2, 4]), 0, 'x·x');
    const z = leaf([0, 1]);
    sum(add(exp(z), mul(z, 3))).backward(); // eᶻ + 3 through two branches
    assertClose(z.grad!, f64([4, Math.E + 3]), 1e-15, 'two branches');
  });

  test('gradients meeting at a node add up without disturbing the ones they share storage with', () => {
    // h = 3x read by four branches, two of them through add (whose rule hands the same g to both inputs), and the
    // seed (the caller's tensor) must come back unchanged: d/dx Σ(h + h + eʰ + h²)·s = 3·s·(2 + eʰ + 2h)
    for (const dtype of ['float32', 'float64'] as const) {
      const x = tensor([0.5, -1, 2, 0.25], { dtype }).requireGrad();
      const h = mul(x, 3);
      const y = add(add(add(h, h), exp(h)), mul(h, h));
      const seed = tensor([1, 2, -1, 0.5], { dtype });
      y.backward(seed);
      const hv = [1.5, -3, 6, 0.75];
      const s = [1, 2, -1, 0.5];
      assertClose(x.grad!, tensor(hv.map((v, i) => 3 * s[i]! * (2 + Math.exp(v) + 2 * v)), { dtype }), 1e-6, `x ${dtype}`);
      assertClose(seed, tensor(s, { dtype }), 0, `seed ${dtype}`);
    }
  });

  test('gradients summed in place at a node leave the views and branches that share their storage intact', () => {
    // h is read through two reshape views (whose rules hand back views of their g), an add that hands one g to
    // both inputs, and directly; the sums at h run in place only where no other live gradient reads the storage
    for (const dtype of ['float32', 'float64'] as const) {
      const x = tensor([0.5, -1, 2, 0.25, 1, -2], { dtype, shape: [2, 3] }).requireGrad();
      const h = mul(x, 2);
      const c = tensor([1, 2, 3, 4, 5, 6], { dtype, shape: [3, 2] });
      const viaViews = add(sum(mul(h.reshape(3, 2), c)), sum(h.reshape(6)));
      const viaAdd = sum(add(h, h));
      add(add(viaViews, viaAdd), sum(mul(h, h))).backward();
      // d/dh = c (as [2,3]) + 1 + 2 + 2h; d/dx = 2·d/dh
      const hv = [1, -2, 4, 0.5, 2, -4];
      assertClose(x.grad!, tensor(hv.map((v, i) => 2 * (i + 1 + 3 + 2 * v)), { dtype, shape: [2, 3] }), 1e-6, `x ${dtype}`);
    }
  });

  test('a gradient arriving transposed is summed with a contiguous one, in either order', () => {
    // h is read transposed (its gradient arrives as a transposed view) and directly, in both orders of arrival
    const n = 40;
    const c1 = tensor(Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) - 6), { shape: [n, n] });
    const c2 = tensor(Array.from({ length: n * n }, (_, i) => ((i * 5) % 11) - 5), { shape: [n, n] });
    for (const transposedFirst of [true, false]) {
      const x = tensor(Array.from({ length: n * n }, (_, i) => Math.sin(i)), { shape: [n, n] }).requireGrad();
      const h = mul(x, 2);
      const viaT = sum(mul(h.transpose(0, 1), c1));
      const direct = sum(mul(h, c2));
      (transposedFirst ? add(viaT, direct) : add(direct, viaT)).backward();
      const c1v = c1.values();
      const c2v = c2.values();
      const want = Array.from({ length: n * n }, (_, i) => 2 * (c1v[(i % n) * n + Math.floor(i / n)]! + c2v[i]!));
      assertClose(x.grad!, tensor(want, { shape: [n, n] }), 0, `transposed first: ${transposedFirst}`);
    }
  });

  test('detach stops gradients', () => {
    const x = leaf([1, 2, 3]);
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.gradFn, null);
    sum(mul(x, d)).backward(); // the detached factor is a constant: d/dx Σ x·c = c
    assertClose(x.grad!, f64([1, 2, 3]), 0, 'x·detach(x)');
    const y = mul(x, 2);
    assert.equal(y.detach().requiresGrad, false);
    assert.equal(mul(y.detach(), 3).requiresGrad, false);
  });

  test('a second backward through the same graph fails with a clear error', () => {
    const x = leaf([1, 2]);
    const loss = sum(exp(mul(x, x)));
    loss.backward();
    assert.throws(() => loss.backward(), /already used by an earlier backward; run the forward again/);
    // a new forward works
    x.grad = null;
    sum(exp(mul(x, x))).backward();
    assert.ok(x.grad);
  });

  test('requiresGrad propagates from any input; only leaves can be marked', () => {
    const a = leaf([1, 2]);
    const c = f64([3, 4]);
    assert.equal(mul(a, c).requiresGrad, true);
    assert.equal(mul(c, a).requiresGrad, true);
    assert.equal(mul(c, c).requiresGrad, false);
    assert.equal(sum(matmul(a, c)).requiresGrad, true);
    assert.equal(a.slice(0, 1).requiresGrad, true, 'views propagate');
    assert.throws(() => mul(a, 2).requireGrad(), /only a leaf/);
    assert.equal(mul(a, 2).gradFn?.name, 'mul');
  });

  test('leaves get .grad tensors that share no storage', () => {
    const a = leaf([1, 2]);
    const b = leaf([3, 4]);
    sum(add(a, b)).backward(); // the add rule hands the same tensor to both inputs
    assert.notEqual(a.grad!.data, b.grad!.data);
    a.grad!.data[0] = 99;
    assert.deepEqual(b.grad!.toArray(), [1, 1]);
    // backward(g) on a leaf copies g
    const x = leaf([1, 2]);
    const g = f64([5, 6]);
    x.backward(g);
    assert.notEqual(x.grad!.data, g.data);
  });

  test('backward checks the seed gradient shape', () => {
    const x = leaf([1, 2, 3]);
    assert.throws(() => mul(x, 2).backward(f64([1, 2])), /gradient shape \[2\] does not match tensor shape \[3\]/);
  });

  test('intermediates are released: after backward every node has no edges and no rule', () => {
    const x = leaf([1, 2, 3, 4]).reshape(2, 2);
    const w = new Generator(1).normal([2, 3], 0, 1, 'float64').requireGrad();
    const h = matmul(x, w);
    const a = gelu(h);
    const loss = mean(mul(a, a));
    const nodes = [x, h, a, loss];
    for (const t of nodes) assert.ok(t.gradFn && t.gradFn.edges.length > 0, 'graph recorded');
    loss.backward();
    for (const t of nodes) {
      assert.deepEqual(t.gradFn!.edges, [], `${t.gradFn!.name} still holds its edges`);
      assert.equal(t.gradFn!.backward, null, `${t.gradFn!.name} still holds its rule`);
    }
    assert.ok(w.grad);
  });

  test('a float32 leaf used in a float64 op gets a float32 gradient', () => {
    const x = tensor([1, 2]).requireGrad();
    sum(mul(x, f64([3, 4]))).backward();
    assert.equal(x.grad!.dtype, 'float32');
    assert.deepEqual(x.grad!.toArray(), [3, 4]);
    // and a float64 leaf cast to float32 gets float64 back
    const y = leaf([1, 2]);
    sum(mul(y.to('float32'), 2)).backward();
    assert.equal(y.grad!.dtype, 'float64');
    assert.deepEqual(y.grad!.toArray(), [2, 2]);
  });
});

/** A full collection when the runtime allows one (--expose-gc, or the flag switched on at run time). */
function collector(): (() => void) | null {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

test('memory stays flat over 100 steps of a 2-layer MLP with SGD', () => {
  // 64 → 256 → 64, batch 32, float32; loss = mean((mlp(x) − target)²)
  const rng = new Generator(0);
  const [B, C, H] = [32, 64, 256];
  const w1 = rng.normal([C, H], 0, 1 / Math.sqrt(C)).requireGrad();
  const b1 = zeros([H]).requireGrad();
  const w2 = rng.normal([H, C], 0, 1 / Math.sqrt(H)).requireGrad();
  const b2 = zeros([C]).requireGrad();
  const params = [w1, b1, w2, b2];
  const x = rng.normal([B, C]);
  const target = rng.normal([B, C], 0, 0.5);
  const lr = full([], 0.05);
  const gc = collector();
  const measure = (): { rss: number; heap: number } => {
    gc?.();
    const m = process.memoryUsage();
    return { rss: m.rss / 2 ** 20, heap: m.heapUsed / 2 ** 20 };
  };

  let first = NaN;
  let last = NaN;
  let at10 = { rss: 0, heap: 0 };
  for (let step = 1; step <= 100; step++) {
    const h = gelu(add(matmul(x, w1), b1)); // (B, H)
    const y = add(matmul(h, w2), b2); // (B, C)
    const d = sub(y, target);
    const loss = mean(mul(d, d));
    loss.backward();
    noGrad(() => {
      for (const p of params) {
        p.data.set(sub(p, mul(p.grad!, lr)).values());
        p.grad = null;
      }
    });
    if (step === 1) first = loss.item();
    last = loss.item();
    if (step === 10) at10 = measure();
  }
  const at100 = measure();
  console.log(`rss before ${at10.rss.toFixed(1)} MB after ${at100.rss.toFixed(1)} MB; heapUsed before ${at10.heap.toFixed(1)} MB ` +
    `after ${at100.heap.toFixed(1)} MB (steps 10 → 100, gc ${gc ? 'on' : 'unavailable'}, ${backendName} backend); loss ${first.toFixed(4)} → ${last.toFixed(4)}`);
  assert.ok(last < first, `SGD should lower the loss: ${first} → ${last}`);
  assert.ok(at100.rss - at10.rss < 50, `rss grew ${(at100.rss - at10.rss).toFixed(1)} MB over 90 steps`);
  assert.ok(at100.heap - at10.heap < 50, `heapUsed grew ${(at100.heap - at10.heap).toFixed(1)} MB over 90 steps`);
});

test('a chain of adds keeps no activations alive until backward (add saves nothing), exp keeps its output', () => {
  const gc = collector();
  if (gc === null) return; // cannot measure without a collector
  const buffers = (): number => {
    gc();
    gc(); // a second pass frees what the first one's finalisation released
    return process.memoryUsage().arrayBuffers / 2 ** 20;
  };
  const x = new Generator(1).normal([1 << 20]).requireGrad(); // 4 MB
  const before = buffers();
  let y = x;
  for (let i = 0; i < 20; i++) y = add(y, 1); // 20 intermediates of 4 MB that no rule needs
  const held = buffers() - before;
  assert.ok(held < 12, `20 chained adds hold ${held.toFixed(1)} MB until backward (expected only the last output, 4 MB)`);
  let z = x;
  for (let i = 0; i < 5; i++) z = exp(mul(z, 0.1)); // exp's rule needs its output: 5 × 4 MB stay
  assert.ok(buffers() - before - held >= 16, 'exp outputs are kept for backward');
  sum(y).backward();
  assert.deepEqual(x.grad!.values().slice(0, 3), new Float32Array([1, 1, 1]));
});

describe('withStepScope', () => {
  const poisoned = process.env.PIXELLLM_POISON_RECYCLED === '1';
  // sizes no other test allocates, so the shared pool hands back exactly these buffers
  const big = (n: number): Tensor => full([n], 1.5);

  test('the first step only measures: nothing it made is recycled', () => {
    let first: Tensor | null = null;
    withStepScope(() => (first = big(70_011)), () => []);
    assert.equal(first!.values()[0], 1.5);
    assert.notEqual(full([70_011], 0).data.buffer, first!.data.buffer);
  });

  test('a later step\'s buffers go to the pool when it ends (NaN when poisoned), kept and untracked ones stay', () => {
    let made: Tensor | null = null;
    let kept: Tensor | null = null;
    let cached: Tensor | null = null;
    withStepScope(() => {
      made = big(70_001);
      kept = big(70_003);
      cached = untracked(() => big(70_005));
    }, () => [kept!.data]);
    assert.deepEqual([kept!.values()[0], cached!.values()[0]], [1.5, 1.5]);
    if (poisoned) {
      assert.ok(Number.isNaN(made!.values()[0]), 'a recycled buffer is poisoned');
    } else {
      assert.equal(full([70_001], 0).data.buffer, made!.data.buffer, 'the next allocation of that size reuses it');
      assert.notEqual(full([70_003], 0).data.buffer, kept!.data.buffer);
      assert.notEqual(full([70_005], 0).data.buffer, cached!.data.buffer);
    }
  });

  test('after a throw nothing is recycled, and a nested scope leaves recycling to the outer one', () => {
    let thrown: Tensor | null = null;
    assert.throws(() => withStepScope(() => {
      thrown = big(70_007);
      throw new Error('step failed');
    }, () => []), /step failed/);
    assert.equal(thrown!.values()[0], 1.5);
    assert.notEqual(full([70_007], 0).data.buffer, thrown!.data.buffer);
    let inner: Tensor | null = null;
    withStepScope(() => {
      withStepScope(() => (inner = big(70_009)), () => []);
      assert.equal(inner!.values()[0], 1.5, 'the inner scope did not recycle');
    }, () => []);
    if (poisoned) assert.ok(Number.isNaN(inner!.values()[0]));
    else assert.equal(full([70_009], 0).data.buffer, inner!.data.buffer);
  });
});
