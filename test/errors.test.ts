// Errors are TensorErrors that name the op and the values that did not fit (shapes, axes, indices, dtypes).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  TensorError, tensor, zeros, ones,
  add, mul, sub, div, where, sum, mean, max, argmax, softmax, matmul, reshape, permute, slice, expand, squeeze,
  concat, stack, split, pad, gather, scatterAdd, indexSelect, embedding, conv2d, convTranspose2d, resize,
  layerNorm, crossEntropy, l1Loss, scaledDotProductAttention, dropout, Generator,
} from '../src/tensor/index.ts';

/** Asserts fn throws a TensorError whose message contains every one of `parts`. */
function throwsNaming(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TensorError, `expected a TensorError, got ${String(e)}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} does not mention ${JSON.stringify(p)}`);
    return true;
  });
}

const i32 = (values: number[], shape?: number[]): ReturnType<typeof tensor> =>
  tensor(Int32Array.from(values), { shape: shape ?? [values.length] });

describe('errors name the op and the shapes', () => {
  test('add of (2,3) and (4,) names add and both shapes', () => {
    throwsNaming(() => add(zeros([2, 3]), zeros([4])), 'add', '[2, 3]', '[4]');
    throwsNaming(() => zeros([2, 3]).add(zeros([4])), 'add', '[2, 3]', '[4]');
    throwsNaming(() => mul(zeros([3, 1, 4]), zeros([2, 5])), 'mul', '[3, 1, 4]', '[2, 5]');
    throwsNaming(() => sub(zeros([2]), zeros([3])), 'sub', '[2]', '[3]');
    throwsNaming(() => div(zeros([2]), zeros([3])), 'div', '[2]', '[3]');
    throwsNaming(() => where(tensor([true, false, true]), zeros([2]), 0), 'where', '[3]', '[2]');
  });

  test('matmul with mismatched inner dims names both shapes', () => {
    throwsNaming(() => matmul(zeros([2, 3]), zeros([4, 5])), 'matmul', '[2, 3]', '[4, 5]', 'inner dims 3 and 4');
    throwsNaming(() => matmul(zeros([3]), zeros([4])), 'matmul', '[3]', '[4]');
    throwsNaming(() => matmul(zeros([2, 2, 3]), zeros([3, 3, 2])), 'matmul', '[2, 2, 3]', '[3, 3, 2]', 'batch dims');
    throwsNaming(() => matmul(zeros([]), zeros([3])), 'matmul', '[]', '[3]');
  });

  test('reshape to a wrong size names both shapes and the element count', () => {
    throwsNaming(() => reshape(zeros([2, 3]), [4]), 'reshape', '[2, 3]', '[4]', '6 elements');
    throwsNaming(() => reshape(zeros([2, 3]), [4, -1]), 'reshape', '[2, 3]', '[4, -1]');
    throwsNaming(() => expand(zeros([2, 3]), [4, 3]), 'expand', '[2, 3]', '[4, 3]');
    throwsNaming(() => squeeze(zeros([2, 3]), 0), 'squeeze', '[2, 3]');
  });

  test('conv2d and convTranspose2d mismatches name input and weight shapes', () => {
    throwsNaming(() => conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3])), 'conv2d', '[1, 3, 8, 8]', '[4, 2, 3, 3]');
    throwsNaming(() => conv2d(zeros([1, 4, 8, 8]), zeros([3, 2, 3, 3]), null, { groups: 2 }), 'conv2d', 'groups 2');
    throwsNaming(() => conv2d(zeros([1, 3, 8]), zeros([4, 3, 3, 3])), 'conv2d', '[1, 3, 8]');
    // a kernel larger than the padded map
    throwsNaming(() => conv2d(zeros([1, 1, 2, 2]), zeros([1, 1, 3, 3])), 'conv2d', '3×3', '2×2');
    throwsNaming(() => convTranspose2d(zeros([1, 3, 4, 4]), zeros([2, 5, 2, 2])), 'convTranspose2d', '[1, 3, 4, 4]', '[2, 5, 2, 2]');
    throwsNaming(() => convTranspose2d(zeros([1, 2, 4, 4]), zeros([2, 5, 2, 2]), null, { stride: 2, outputPadding: 2 }),
      'convTranspose2d', 'outputPadding');
  });

  test('a bad axis names the op, the axis and the rank', () => {
    throwsNaming(() => sum(zeros([2, 3]), 2), 'sum', 'axis 2', '2 dims');
    throwsNaming(() => mean(zeros([2, 3]), -3), 'mean', 'axis -3');
    throwsNaming(() => max(zeros([2, 3]), [0, 5]), 'max', 'axis 5');
    throwsNaming(() => argmax(zeros([2, 3]), 4), 'argmax', 'axis 4');
    throwsNaming(() => softmax(zeros([2, 3]), 2), 'softmax', 'axis 2');
    throwsNaming(() => slice(zeros([2, 3]), 3, 0), 'slice', 'axis 3');
    throwsNaming(() => concat([zeros([2, 3]), zeros([2, 3])], 2), 'concat', 'axis 2');
    throwsNaming(() => permute(zeros([2, 3]), [0, 0]), 'permute', '[2, 3]');
    throwsNaming(() => sum(zeros([2, 3]), [1, 1]), 'sum', 'repeated axis');
  });

  test('gather with an out-of-range index names the index value', () => {
    throwsNaming(() => gather(zeros([2, 3]), 1, i32([0, 5], [1, 2])), 'gather', 'index 5', 'size 3');
    throwsNaming(() => gather(zeros([2, 3]), 1, i32([-4], [1, 1])), 'gather', 'index -4');
    throwsNaming(() => gather(zeros([2, 3]), 1, tensor([[0, 1]])), 'gather', 'int32', 'float32');
    throwsNaming(() => gather(zeros([2, 3]), 1, i32([0, 1, 0, 1, 0, 1], [3, 2])), 'gather', '[3, 2]', '[2, 3]');
    throwsNaming(() => scatterAdd(zeros([3]), 0, i32([0, 3]), ones([2])), 'scatterAdd', 'index 3');
    throwsNaming(() => indexSelect(zeros([4, 2]), 0, i32([1, 7])), 'indexSelect', 'index 7', 'size 4');
    throwsNaming(() => embedding(zeros([10, 4]), i32([3, 10])), 'embedding', 'index 10', 'size 10');
  });

  test('crossEntropy with float targets names the dtype', () => {
    throwsNaming(() => crossEntropy(zeros([2, 3]), tensor([0, 1])), 'crossEntropy', 'int32', 'float32', '[2, 3]');
    throwsNaming(() => crossEntropy(zeros([2, 3]), i32([0, 1, 2])), 'crossEntropy', '[2, 3]', '[3]');
    throwsNaming(() => crossEntropy(zeros([2, 3]), i32([0, 1]), { labelSmoothing: 1 }), 'crossEntropy', 'labelSmoothing 1');
  });

  test('other shape checks', () => {
    throwsNaming(() => concat([zeros([2, 3]), zeros([3, 3])], 1), 'concat', '[2, 3]', '[3, 3]');
    throwsNaming(() => stack([zeros([2, 3]), zeros([2, 4])]), 'stack', '[2, 3]', '[2, 4]');
    throwsNaming(() => split(zeros([5, 2]), [2, 2]), 'split', '[2, 2]', '[5, 2]');
    throwsNaming(() => pad(zeros([2, 3]), [1]), 'pad', '[2, 3]');
    throwsNaming(() => l1Loss(zeros([2, 3]), zeros([3, 2])), 'l1Loss', '[2, 3]', '[3, 2]');
    throwsNaming(() => layerNorm(zeros([2, 3]), ones([4]), null), 'layerNorm', '[4]', '[2, 3]');
    throwsNaming(() => scaledDotProductAttention(zeros([1, 2, 4]), zeros([1, 3, 5]), zeros([1, 3, 4])), 'attention', '[1, 2, 4]', '[1, 3, 5]');
    throwsNaming(() => resize(zeros([4]), [2, 2], { method: 'bilinear', convention: 'torch' }), 'resize', '[4]');
    throwsNaming(() => dropout(zeros([2]), 1, new Generator(0)), 'dropout', 'p must be in [0, 1)');
  });
});
