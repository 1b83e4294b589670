// conv2d and convTranspose2d (built on unfold/fold and one product) against the textbook sums computed directly in
// float64, on random shapes with stride, padding, dilation, groups and maps that the window overhangs, and fold
// as the adjoint of unfold (⟨unfold(x), c⟩ = ⟨x, fold(c)⟩). Their gradients are checked in gradcheck.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, Tensor, add, conv2d, convTranspose2d, fold, mul, sum, unfold, zeros, type Window } from '../src/tensor/index.ts';
import { assertClose } from './helpers.ts';

type Pair = [number, number];

/** y[b, o, y, x] = bias[o] + Σ_{c in o's group, i, j} x[b, c, y·s − p + i·d, x·s − p + j·d]·w[o, c, i, j]. */
function directConv(x: Tensor, w: Tensor, bias: Tensor | null, s: Pair, p: Pair, d: Pair, groups: number): Tensor {
  const [B, C, H, W] = x.shape as number[] as [number, number, number, number];
  const [O, Cg, kh, kw] = w.shape as number[] as [number, number, number, number];
  const oh = Math.floor((H + 2 * p[0] - d[0] * (kh - 1) - 1) / s[0]) + 1;
  const ow = Math.floor((W + 2 * p[1] - d[1] * (kw - 1) - 1) / s[1]) + 1;
  const [xv, wv] = [x.values(), w.values()];
  const out = zeros([B, O, oh, ow], 'float64');
  for (let b = 0; b < B; b++) for (let o = 0; o < O; o++) for (let yy = 0; yy < oh; yy++) for (let xx = 0; xx < ow; xx++) {
    let acc = bias === null ? 0 : bias.values()[o]!;
    const g = Math.floor(o / (O / groups));
    for (let c = 0; c < Cg; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const ih = yy * s[0] - p[0] + i * d[0];
      const iw = xx * s[1] - p[1] + j * d[1];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      acc += xv[((b * C + g * Cg + c) * H + ih) * W + iw]! * wv[((o * Cg + c) * kh + i) * kw + j]!;
    }
    out.data[((b * O + o) * oh + yy) * ow + xx] = acc;
  }
  return out;
}

/** y[b, o, yi·s − p + i·d, xi·s − p + j·d] += x[b, c, yi, xi]·w[c, o, i, j], cropped to the output (plus outputPadding). */
function directConvTranspose(x: Tensor, w: Tensor, s: Pair, p: Pair, op: Pair, d: Pair): Tensor {
  const [B, Cin, H, W] = x.shape as number[] as [number, number, number, number];
  const [, O, kh, kw] = w.shape as number[] as [number, number, number, number];
  const Ho = (H - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1;
  const Wo = (W - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1;
  const [xv, wv] = [x.values(), w.values()];
  const out = zeros([B, O, Ho, Wo], 'float64');
  for (let b = 0; b < B; b++) for (let c = 0; c < Cin; c++) for (let yi = 0; yi < H; yi++) for (let xi = 0; xi < W; xi++) {
    for (let o = 0; o < O; o++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const oy = yi * s[0] - p[0] + i * d[0];
      const ox = xi * s[1] - p[1] + j * d[1];
      if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo) continue;
      out.data[((b * O + o) * Ho + oy) * Wo + ox] += xv[((b * Cin + c) * H + yi) * W + xi]! * wv[((c * O + o) * kh + i) * kw + j]!;
    }
  }
  return out;
}

interface ConvCase { x: number[]; w: number[]; stride: Pair; padding: Pair; dilation: Pair; groups: number }

const convCases: ConvCase[] = [
  { x: [2, 3, 7, 6], w: [4, 3, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 }, // SAM's neck / the proposal head
  { x: [1, 4, 9, 8], w: [6, 2, 3, 2], stride: [2, 3], padding: [2, 1], dilation: [1, 2], groups: 2 }, // everything uneven
  { x: [2, 2, 5, 5], w: [3, 2, 1, 1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 }, // 1×1: a plain product
  { x: [1, 3, 4, 4], w: [3, 1, 5, 5], stride: [1, 1], padding: [3, 3], dilation: [1, 1], groups: 3 }, // padding wider than the map's edge taps
  { x: [1, 2, 8, 8], w: [2, 2, 4, 4], stride: [4, 4], padding: [0, 0], dilation: [1, 1], groups: 1 }, // a patch embedding
];

test('conv2d equals the direct sum (stride, padding, dilation, groups)', () => {
  convCases.forEach((c, k) => {
    const g = new Generator(30 + k);
    const x = g.normal(c.x, 0, 1, 'float64');
    const w = g.normal(c.w, 0, 1, 'float64');
    const bias = g.normal([c.w[0]!], 0, 1, 'float64');
    const got = conv2d(x, w, bias, { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
    assertClose(got, directConv(x, w, bias, c.stride, c.padding, c.dilation, c.groups), 1e-12, `case ${k}`);
    // float32 takes the addon's product when it is in use
    const got32 = conv2d(x.to('float32'), w.to('float32'), bias.to('float32'), { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups });
    assertClose(got32, directConv(x, w, bias, c.stride, c.padding, c.dilation, c.groups).to('float32'), 1e-5, `case ${k} float32`);
  });
});

test('convTranspose2d equals the direct scatter (stride, padding, outputPadding, dilation)', () => {
  const cases: { x: number[]; w: number[]; stride: Pair; padding: Pair; outputPadding: Pair; dilation: Pair }[] = [
    { x: [2, 3, 4, 5], w: [3, 2, 2, 2], stride: [2, 2], padding: [0, 0], outputPadding: [0, 0], dilation: [1, 1] }, // SAM's upscaling
    { x: [1, 2, 3, 4], w: [2, 3, 3, 2], stride: [2, 3], padding: [1, 1], outputPadding: [1, 2], dilation: [1, 1] },
    { x: [1, 2, 3, 3], w: [2, 2, 3, 3], stride: [1, 1], padding: [2, 1], outputPadding: [0, 0], dilation: [2, 1] },
  ];
  cases.forEach((c, k) => {
    const g = new Generator(50 + k);
    const x = g.normal(c.x, 0, 1, 'float64');
    const w = g.normal(c.w, 0, 1, 'float64');
    const got = convTranspose2d(x, w, null, { stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation });
    assertClose(got, directConvTranspose(x, w, c.stride, c.padding, c.outputPadding, c.dilation), 1e-12, `case ${k}`);
  });
});

test('fold is the adjoint of unfold: ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩', () => {
  const wins: [number[], Window][] = [
    [[2, 3, 6, 7], { kernel: [3, 3], padding: 1 }],
    [[1, 2, 9, 5], { kernel: [2, 3], stride: [3, 2], padding: [1, 2], dilation: [2, 1] }],
    [[1, 1, 4, 4], { kernel: [5, 5], padding: 2 }],
  ];
  wins.forEach(([shape, win], k) => {
    const g = new Generator(70 + k);
    const x = g.normal(shape, 0, 1, 'float64');
    const cols = unfold(x, win);
    const c = g.normal(cols.shape, 0, 1, 'float64');
    const lhs = sum(mul(cols, c)).item();
    const rhs = sum(mul(x, fold(c, [shape[2]!, shape[3]!], win))).item();
    assert.ok(Math.abs(lhs - rhs) <= 1e-10 * Math.max(1, Math.abs(lhs)), `case ${k}: ${lhs} vs ${rhs}`);
  });
});

test('the weight gradient of a batch is the sum of its images\' gradients (float32 and float64)', () => {
  // big enough that each image's weight product is accumulated into one buffer (not stored and summed)
  const c = { w: [32, 8, 3, 3] };
  const opts = { padding: 1, groups: 2 };
  const g = new Generator(90);
  const [x, w, up] = [g.normal([3, 16, 20, 20], 0, 1, 'float64'), g.normal(c.w, 0, 1, 'float64'), g.normal([3, 32, 20, 20], 0, 1, 'float64')];
  const weightGrad = (xs: Tensor, ups: Tensor, dtype: 'float32' | 'float64'): Tensor => {
    const wd = w.detach().to(dtype).requireGrad(); // a fresh leaf each time
    sum(mul(conv2d(xs.to(dtype), wd, null, opts), ups.to(dtype))).backward();
    return wd.grad!;
  };
  // one image at a time: a batch of one sums nothing
  let want = zeros(c.w, 'float64');
  for (let b = 0; b < 3; b++) want = add(want, weightGrad(x.slice(0, b, b + 1), up.slice(0, b, b + 1), 'float64'));
  assertClose(weightGrad(x, up, 'float64'), want, 1e-12, 'float64');
  assertClose(weightGrad(x, up, 'float32'), want.to('float32'), 1e-5, 'float32');
});
