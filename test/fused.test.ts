// The fused paths: linear (x·Wᵀ + b in one product, optionally GELU), scaledMatmul (s·a·b with s inside the product)
// and the 4-D attention: reference values from the compositions they replace, float64 finite differences, and a
// case by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Generator, add, full, gelu, linear, matmul, mul, noGrad, scaledDotProductAttention, scaledMatmul, softmax, tensor, transpose,
} from '../src/tensor/index.ts';
import { assertClose, gradcheck, leaf64 } from './helpers.ts';

const g = new Generator(11);

test('linear by hand: [1, 2]·[[1, 0], [1, 1], [0, 2]]ᵀ + [0.5, 0, −1] = [1.5, 3, 3]', () => {
  const y = linear(tensor([[1, 2]]), tensor([[1, 0], [1, 1], [0, 2]]), tensor([0.5, 0, -1]));
  assert.deepEqual(y.toArray(), [1.5, 3, 3]);
});

test('linear equals x·Wᵀ + b on float32, with and without a bias, for 1-D to 4-D inputs and a transposed input', () => {
  const w = g.normal([7, 5]);
  const b = g.normal([7]);
  for (const shape of [[5], [3, 5], [2, 3, 5], [2, 1, 4, 5]]) {
    const x = g.normal(shape);
    assertClose(linear(x, w, b), add(matmul(x, transpose(w)), b), 1e-6, `bias ${JSON.stringify(shape)}`);
    assertClose(linear(x, w), matmul(x, transpose(w)), 1e-6, `no bias ${JSON.stringify(shape)}`);
  }
  const xt = transpose(g.normal([5, 4])); // (4, 5), not contiguous
  assertClose(linear(xt, w, b), add(matmul(xt, transpose(w)), b), 1e-6, 'transposed input');
  const wt = transpose(g.normal([5, 7])); // a (7, 5) weight stored transposed
  assertClose(linear(xt, wt, b), add(matmul(xt, transpose(wt)), b), 1e-6, 'transposed weight');
});

test('linear gradients by finite differences (input, weight and bias; batch dims summed)', () => {
  gradcheck((x, w, b) => linear(x, w, b), [leaf64(g.normal([2, 3, 4])), leaf64(g.normal([5, 4])), leaf64(g.normal([5]))]);
  gradcheck((x, w) => linear(x, w), [leaf64(g.normal([3, 4])), leaf64(g.normal([2, 4]))]);
});

test('scaledMatmul equals s·(a·b), with broadcast batch dims; its gradients by finite differences', () => {
  const a = g.normal([2, 3, 4, 5]);
  const b = g.normal([3, 5, 6]);
  assertClose(scaledMatmul(a, b, 0.125), mul(matmul(a, b), 0.125), 1e-6, 'forward');
  gradcheck((x, y) => scaledMatmul(x, y, -0.7), [leaf64(g.normal([2, 3, 4])), leaf64(g.normal([4, 2]))]);
  gradcheck((x, y) => scaledMatmul(x, transpose(y), 0.3), [leaf64(g.normal([2, 3, 4])), leaf64(g.normal([2, 5, 4]))]);
});

test('linear with a fused GELU equals gelu(linear): in place without a graph, composed with one', () => {
  const x = g.normal([2, 3, 5]);
  const w = g.normal([7, 5]);
  const b = g.normal([7]);
  for (const [act, approximate] of [['gelu', 'none'], ['gelu_tanh', 'tanh']] as const) {
    const want = gelu(add(matmul(x, transpose(w)), b), approximate);
    assertClose(noGrad(() => linear(x, w, b, act)), want, 1e-6, `${act} without a graph`);
    assertClose(linear(x, w.detach().requireGrad(), b, act), want, 1e-6, `${act} with a graph`);
  }
  gradcheck((x_, w_, b_) => linear(x_, w_, b_, 'gelu'), [leaf64(g.normal([3, 4])), leaf64(g.normal([2, 4])), leaf64(g.normal([2]))]);
});

test('fused 4-D attention equals softmax(s·q·kᵀ + mask)·v composed, and is a view with heads interleaved', () => {
  const [q, k, v] = [g.normal([2, 3, 4, 8]), g.normal([2, 3, 6, 8]), g.normal([2, 3, 6, 5])];
  const mask = g.normal([2, 1, 4, 6]);
  const y = scaledDotProductAttention(q, k, v, { mask, scale: 0.4 });
  const want = matmul(softmax(add(mul(matmul(q, transpose(k)), 0.4), mask), -1), v);
  assertClose(y, want, 1e-5, 'attention');
  assert.deepEqual(y.strides, [4 * 3 * 5, 5, 3 * 5, 1]); // (B, nh, Tq, hv) over (B, Tq, nh, hv) storage
});

test('outputs allocated without a zero fill are fully written: large K = 0 products are zeros', () => {
  // 256 × 128 floats is above the size where allocateUninit skips the zero fill
  const big = (shape: number[]) => full(shape, 0);
  assert.ok(matmul(big([256, 0]), big([0, 128])).toArray().every((v) => v === 0));
  assert.ok(linear(big([256, 0]), big([128, 0])).toArray().every((v) => v === 0));
  assert.deepEqual(linear(big([256, 0]), big([128, 0]), full([128], 2)).toArray().slice(0, 3), [2, 2, 2]);
});
