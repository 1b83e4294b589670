// The training step's kernels that have both an addon and a TypeScript path (the suite runs once per backend):
// AdamW and gradient clipping against a direct evaluation of torch's formulas, strided copies both ways, and
// convolution (im2col/col2im, the 1×1 shortcut) against a naive loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, clipGradNorm } from '../src/nn/optim.ts';
import { Tensor, conv2d, randn, sum, mul } from '../src/tensor/index.ts';

const f32 = Math.fround;

test('AdamW over 5000 values gives exactly the float32 roundings of torch.optim.AdamW\'s update', () => {
  const n = 5000;
  const p = randn([n], 1);
  const start = Float32Array.from(p.values());
  const opt = new AdamW([['w', p.requireGrad()]], { lr: 0.01, betas: [0.9, 0.95], eps: 1e-6, weightDecay: 0.1, lrScale: () => 0.5 });
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  const want = Float32Array.from(start);
  for (let step = 1; step <= 2; step++) {
    const g = randn([n], 10 + step);
    p.grad = g;
    opt.update();
    const lr = 0.01 * 0.5;
    const [bc1, bc2Sqrt, keep] = [1 - 0.9 ** step, Math.sqrt(1 - 0.95 ** step), 1 - lr * 0.1];
    const gv = g.values();
    for (let i = 0; i < n; i++) {
      m[i] = 0.9 * m[i]! + (1 - 0.9) * gv[i]!;
      v[i] = 0.95 * v[i]! + (1 - 0.95) * gv[i]! * gv[i]!;
      want[i] = want[i]! * keep - ((lr / bc1) * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + 1e-6);
    }
  }
  const got = p.values();
  for (let i = 0; i < n; i++) assert.equal(got[i], want[i], `value ${i}: ${got[i]} vs ${want[i]}`);
  assert.notEqual(got[0], start[0]);
});

test('clipGradNorm: the global norm of 3 gradients (one of 10007 values) and the scaling by its float32 factor', () => {
  const grads = [randn([10007], 3).mul(0.05), randn([13], 4), randn([2, 9], 5)];
  const params = grads.map((g, i) => {
    const t = randn(g.shape, 20 + i).requireGrad();
    t.grad = g;
    return t;
  });
  const before = grads.map((g) => Float32Array.from(g.values()));
  let exact = 0;
  for (const b of before) for (const x of b) exact += x * x;
  const norm = clipGradNorm(params, 1);
  assert.ok(Math.abs(norm - Math.sqrt(exact)) <= 1e-12 * Math.sqrt(exact), `norm ${norm} vs ${Math.sqrt(exact)}`);
  const c = f32(1 / (norm + 1e-6));
  params.forEach((t, k) => t.grad!.values().forEach((x, i) => assert.equal(x, f32(before[k]![i]! * c), `grad ${k}[${i}]`)));
});

test('a permuted view of 20 000 values copies to the values at the permuted indices', () => {
  const [A, B, C, D] = [7, 33, 5, 17];
  const x = randn([A, B, C, D], 7);
  const xv = x.values();
  const y = x.permute(2, 0, 3, 1).contiguous(); // (C, A, D, B)
  const yv = y.values();
  for (let c = 0; c < C; c++) for (let a = 0; a < A; a++) for (let d = 0; d < D; d++) for (let b = 0; b < B; b++) {
    assert.equal(yv[((c * A + a) * D + d) * B + b], xv[((a * B + b) * C + c) * D + d]);
  }
});

test('the gradient of a strided slice lands on the sliced positions only', () => {
  const x = randn([4, 600, 3], 8).requireGrad();
  const w = randn([4, 120, 3], 9);
  sum(mul(x.slice(1, 10, 250, 2), w)).backward(); // rows 10, 12, …, 248
  const g = x.grad!.values();
  const wv = w.values();
  for (let a = 0; a < 4; a++) for (let r = 0; r < 600; r++) for (let c = 0; c < 3; c++) {
    const inSlice = r >= 10 && r < 250 && (r - 10) % 2 === 0;
    const want = inSlice ? wv[(a * 120 + (r - 10) / 2) * 3 + c]! : 0;
    assert.equal(g[(a * 600 + r) * 3 + c], want, `[${a}, ${r}, ${c}]`);
  }
});

/** conv2d by its definition: y[b, o, i, j] = bias[o] + Σ w[o, c, u, v]·x[b, c, i·s − p + u·d, j·s − p + v·d]. */
function naiveConv(x: Tensor, w: Tensor, bias: Tensor, s: number, p: number, d: number): { y: Float64Array; shape: number[] } {
  const [B, C, H, W] = x.shape as number[] as [number, number, number, number];
  const [O, , kh, kw] = w.shape as number[] as [number, number, number, number];
  const oh = Math.floor((H + 2 * p - d * (kh - 1) - 1) / s) + 1;
  const ow = Math.floor((W + 2 * p - d * (kw - 1) - 1) / s) + 1;
  const [xv, wv, bv] = [x.values(), w.values(), bias.values()];
  const y = new Float64Array(B * O * oh * ow);
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let acc = bv[o]!;
    for (let c = 0; c < C; c++) for (let u = 0; u < kh; u++) for (let v = 0; v < kw; v++) {
      const [r, q] = [i * s - p + u * d, j * s - p + v * d];
      if (r >= 0 && r < H && q >= 0 && q < W) acc += wv[((o * C + c) * kh + u) * kw + v]! * xv[((b * C + c) * H + r) * W + q]!;
    }
    y[((b * O + o) * oh + i) * ow + j] = acc;
  }
  return { y, shape: [B, O, oh, ow] };
}

for (const [kernel, stride, padding, dilation] of [[3, 2, 1, 1], [3, 1, 2, 2], [1, 1, 0, 1]] as const) {
  test(`conv2d ${kernel}×${kernel}, stride ${stride}, padding ${padding}, dilation ${dilation}: forward by definition, input gradient as the adjoint`, () => {
    const x = randn([2, 5, 11, 9], 30).requireGrad();
    const w = randn([4, 5, kernel, kernel], 31).mul(0.3);
    const bias = randn([4], 32);
    const y = conv2d(x, w, bias, { stride, padding, dilation });
    const want = naiveConv(x, w, bias, stride, padding, dilation);
    assert.deepEqual(y.shape, want.shape);
    y.values().forEach((v, i) => assert.ok(Math.abs(v - want.y[i]!) < 1e-4, `y[${i}] ${v} vs ${want.y[i]}`));
    // ⟨conv(x), r⟩ is linear in x, so its gradient is the adjoint applied to r: check ⟨∇x, e⟩ = ⟨conv(x + e) − conv(x), r⟩
    const r = randn(y.shape, 33);
    sum(mul(y, r)).backward();
    const e = randn(x.shape, 34);
    const shifted = naiveConv(new Tensor(Float32Array.from(x.values(), (v, i) => v + e.values()[i]!), x.shape), w, bias, stride, padding, dilation);
    let lhs = 0;
    let rhs = 0;
    x.grad!.values().forEach((g, i) => (lhs += g * e.values()[i]!));
    r.values().forEach((rv, i) => (rhs += rv * (shifted.y[i]! - want.y[i]!)));
    assert.ok(Math.abs(lhs - rhs) < 1e-3 * Math.max(1, Math.abs(rhs)), `⟨∇x, e⟩ ${lhs} vs ${rhs}`);
  });
}

test('clamp(x, 0) (ReLU, on the addon for float32): NaN stays NaN, and the gradient is 1 from 0 up', () => {
  const n = 3000;
  const x = randn([n], 40);
  const xv = x.values();
  xv[0] = 0;
  xv[1] = Number.NaN;
  xv[2] = -0.5;
  const xg = x.requireGrad();
  const y = xg.clamp(0);
  const g = randn([n], 41);
  y.backward(g);
  const [yv, dx, gv] = [y.values(), xg.grad!.values(), g.values()];
  assert.ok(Number.isNaN(yv[1]!));
  for (let i = 0; i < n; i++) {
    if (i === 1) continue;
    assert.equal(yv[i], xv[i]! < 0 ? 0 : xv[i], `y[${i}]`);
    assert.ok(dx[i] === (xv[i]! >= 0 ? gv[i] : 0), `dx[${i}] = ${dx[i]}`); // === : g·0 is −0 for a negative g, as in torch
  }
  assert.ok(dx[1] === 0); // NaN is outside [0, ∞), as torch's clamp backward
});
