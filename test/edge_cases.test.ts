// Edge cases a review found, kept as regressions: empty dims, NaN propagation, index bounds, integer dtypes,
// bool storage, input validation, and the safetensors reader/writer on good and malformed files.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Tensor, TensorError, tensor, zeros, full, matmul, softmax, conv2d, convTranspose2d, gather, embedding, crossEntropy,
  neg, abs, maximum, minimum, expand, split, randn, sum, mul, pow, layerNorm, concat,
} from '../src/tensor/index.ts';
import { readSafetensors, writeSafetensors, SafetensorsError } from '../src/nn/safetensors.ts';
import { assertClose } from './helpers.ts';

const i32 = (v: number[], shape?: number[]) => tensor(Int32Array.from(v), { shape: shape ?? [v.length] });

test('empty dims: matmul with an empty batch or K = 0, softmax over an empty axis, conv of an empty batch', () => {
  assert.deepEqual(matmul(zeros([0, 2, 3]), zeros([0, 3, 4])).shape, [0, 2, 4]);
  // K = 0: a sum over nothing is 0
  assertClose(matmul(zeros([2, 3, 0]), zeros([0, 4])), zeros([2, 3, 4]), 0, 'K = 0');
  assert.deepEqual(softmax(zeros([2, 0])).shape, [2, 0]);
  assert.deepEqual(conv2d(zeros([0, 2, 4, 4]), randn([3, 2, 3, 3], 1)).shape, [0, 3, 2, 2]);
  assert.throws(() => convTranspose2d(randn([1, 2, 1, 1], 0), randn([2, 3, 1, 1], 1), null, { padding: 1 }),
    /convTranspose2d: a 1×1 input with padding 1×1 gives an empty -1×-1 output/);
});

test('matmul propagates NaN through zero coefficients on every backend (0·NaN = NaN, as BLAS)', () => {
  const y = matmul(tensor([[0, 1], [0, 0]]), tensor([[NaN, Infinity], [1, 2]]));
  assert.ok(y.toArray().every(Number.isNaN), `got ${y.toArray()}`);
});

test('indices out of range, negative ones included, are errors that name the op and the index', () => {
  const x = tensor([[1, 2, 3]]);
  assert.throws(() => gather(x, 1, i32([-1, 0], [1, 2])), /gather: index -1 is out of range for dim 1 of size 3/);
  assert.throws(() => embedding(randn([4, 2], 0), i32([-1])), /embedding: index -1 is out of range/);
  assert.throws(() => crossEntropy(randn([2, 5], 0), i32([-1, 0])), /crossEntropy: target -1 is not a class in \[0, 5\)/);
  assert.throws(() => crossEntropy(randn([2, 5], 0), i32([5, 0])), /crossEntropy: target 5/);
  // the ignored index is fine
  assert.ok(Number.isFinite(crossEntropy(randn([2, 5], 0), i32([-100, 0])).item()));
});

test('neg and abs keep integer dtypes (index arithmetic stays usable)', () => {
  assert.equal(neg(i32([1, -2])).dtype, 'int32');
  assert.deepEqual(abs(i32([1, -2])).toArray(), [1, 2]);
});

test('maximum/minimum propagate NaN and split the gradient evenly on ties, as torch', () => {
  assert.ok(maximum(tensor([NaN, 1]), tensor([1, NaN])).toArray().every(Number.isNaN));
  assert.ok(minimum(tensor([NaN, 1]), tensor([1, NaN])).toArray().every(Number.isNaN));
  const a = tensor([1, 2, 3]).requireGrad();
  const b = tensor([1, 5, 0]).requireGrad();
  sum(maximum(a, b)).backward();
  assert.deepEqual(a.grad!.toArray(), [0.5, 0, 1]);
  assert.deepEqual(b.grad!.toArray(), [0.5, 1, 0]);
});

test('bool storage holds only 0 and 1 whatever it is made from', () => {
  assert.deepEqual(tensor([2, 0.5, 0], { dtype: 'bool' }).toArray(), [1, 1, 0]);
  assert.deepEqual(tensor(new Float32Array([0.5, 256, 0]), { dtype: 'bool' }).toArray(), [1, 1, 0]);
  assert.deepEqual(full([2], 2, 'bool').toArray(), [1, 1]);
});

test('creation and view arguments are checked', () => {
  assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), /tensor: shape \[2, 2\] needs 4 values, got 3/);
  assert.throws(() => tensor([[1, 2], [3, [4]]] as never), /ragged/);
  assert.throws(() => expand(tensor([1, 2, 3]), [-1, 3]), TensorError);
  assert.throws(() => split(tensor([1, 2, 3]), 0), /split: piece size must be a positive integer/);
  assert.throws(() => tensor([1, 2, 3, 4]).slice(0, 1.5), /slice: start 1.5/);
});

const dir = mkdtempSync(join(tmpdir(), 'pixelllm-st-'));

test('safetensors round trip keeps dtypes, shapes, values and metadata', () => {
  const path = join(dir, 'round.safetensors');
  const tensors: Record<string, Tensor> = {
    'a.weight': randn([3, 4], 1),
    'b.f64': randn([2], 2, 'float64'),
    ids: i32([1, -7, 2 ** 30]),
    mask: tensor([true, false, true]),
    scalar: full([], 3.5),
    view: randn([4, 3], 3).transpose(),
  };
  writeSafetensors(path, tensors, { format: 'pt' });
  const back = readSafetensors(path);
  assert.deepEqual([...back.keys()].sort(), Object.keys(tensors).sort());
  for (const [k, t] of Object.entries(tensors)) {
    const r = back.get(k)!;
    assert.equal(r.dtype, t.dtype, k);
    assert.deepEqual(r.shape, t.shape, k);
    assert.deepEqual(r.toArray(), t.toArray(), k);
  }
});

/** A safetensors file with the given header object and `data` bytes after it. */
function craft(name: string, header: unknown, data = new Uint8Array(8)): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([len, json, data]));
  return path;
}

test('safetensors reader: malformed files fail with the file and key named', () => {
  const cases: [string, unknown, RegExp][] = [
    ['json.st', '{not json', /header is not valid JSON/],
    ['null.st', 'null', /header is not a JSON object/],
    ['neg-offset.st', { a: { dtype: 'U8', shape: [4], data_offsets: [-4, 0] } }, /tensor a: entry .* needs dtype, a shape/],
    ['neg-shape.st', { a: { dtype: 'F32', shape: [-1, -2], data_offsets: [0, 8] } }, /tensor a: entry/],
    ['no-offsets.st', { a: { dtype: 'F32', shape: [2] } }, /tensor a: entry/],
    ['dtype.st', { a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, /tensor a: dtype C64 is not supported/],
    ['size.st', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, /tensor a: offsets \[0, 8\] do not hold 3 F32 values/],
    ['past-end.st', { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, /tensor a: offsets \[0, 16\]/],
  ];
  for (const [file, header, message] of cases) {
    const path = craft(file, header);
    assert.throws(() => readSafetensors(path), (e: Error) => e instanceof SafetensorsError && message.test(e.message) && e.message.includes(path),
      `${file}: expected ${message}`);
  }
  const truncated = join(dir, 'short.st');
  writeFileSync(truncated, Buffer.from([1, 2, 3]));
  assert.throws(() => readSafetensors(truncated), /too short/);
  const big = craft('i64.st', { a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, Buffer.from(new BigInt64Array([2n ** 40n]).buffer));
  assert.throws(() => readSafetensors(big), /tensor a: int64 value 1099511627776 does not fit int32/);
  const u8 = readSafetensors(craft('u8.st', { a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, Buffer.from([255, 7])));
  assert.equal(u8.get('a')!.dtype, 'int32');
  assert.deepEqual(u8.get('a')!.toArray(), [255, 7]);
});

test('safetensors writer refuses the reserved name __metadata__', () => {
  assert.throws(() => writeSafetensors(join(dir, 'meta.st'), { __metadata__: zeros([1]) }), /reserves it/);
});

test('backward on a non-scalar needs an explicit gradient, as torch', () => {
  const x = tensor([1, 2]).requireGrad();
  assert.throws(() => mul(x, 2).backward(), /a gradient can be implied only for a one-element output, this one has shape \[2\]/);
  mul(x, 2).backward(tensor([1, 3]));
  assert.deepEqual(x.grad!.toArray(), [2, 6]);
});

test('pow(x, 0) has gradient 0, also at x = 0', () => {
  const x = tensor([0, 2]).requireGrad();
  sum(pow(x, 0)).backward();
  assert.deepEqual(x.grad!.toArray(), [0, 0]);
});

test('layer norm of zero rows runs forward and backward (parameter gradients are zeros)', () => {
  const x = zeros([0, 8]).requireGrad();
  const w = full([8], 1).requireGrad();
  const b = zeros([8]).requireGrad();
  layerNorm(x, w, b).sum().backward();
  assert.deepEqual(w.grad!.toArray(), new Array(8).fill(0));
  assert.deepEqual(b.grad!.toArray(), new Array(8).fill(0));
});

test('copies of permuted, sliced, stepped and broadcast views read every element where the strides say', () => {
  // x[i, j, k, l] = 1000i + 100j + 10k + l, so each copied value names the element it came from
  const x = new Tensor(Float32Array.from({ length: 2 * 3 * 4 * 5 }, (_, f) => {
    const [i, j, k, l] = [Math.floor(f / 60), Math.floor(f / 20) % 3, Math.floor(f / 5) % 4, f % 5];
    return 1000 * i + 100 * j + 10 * k + l;
  }), [2, 3, 4, 5]);
  const view = x.permute(2, 0, 3, 1).slice(0, 1, 4, 2).slice(2, 1, 5); // (2, 2, 4, 3): k ∈ {1, 3}, l ∈ 1..4
  const got = view.contiguous().toArray();
  let at = 0;
  for (const k of [1, 3]) for (let i = 0; i < 2; i++) for (let l = 1; l < 5; l++) for (let j = 0; j < 3; j++) {
    assert.equal(got[at++], 1000 * i + 100 * j + 10 * k + l, `element ${at - 1}`);
  }
  // a broadcast row and a transposed copy into a slice of a concat result
  assert.deepEqual(expand(tensor([[1], [2]]), [2, 3]).transpose().contiguous().toArray(), [1, 2, 1, 2, 1, 2]);
  assert.deepEqual(concat([tensor([[9], [8]]), tensor([[1, 2], [3, 4]]).transpose()], 1).toArray(), [9, 1, 3, 8, 2, 4]);
});
