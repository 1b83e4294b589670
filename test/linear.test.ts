// linear (x·Wᵀ + b in one product) and scaledMatmul (s·a·b with s inside the product): reference values from the
// compositions they replace, float64 finite differences, and a case by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, add, linear, matmul, mul, scaledMatmul, tensor, transpose } from '../src/tensor/index.ts';
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
