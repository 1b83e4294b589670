// For each op family, cases whose answer is known in closed form; the math is in the comment beside each.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Tensor, Generator, tensor, full, zeros, ones, arange,
  add, sub, mul, div, pow, exp, log, sqrt, rsqrt, tanh, erf, sigmoid, sin, cos, abs, clamp, where,
  sum, mean, max, min, argmax, variance,
  matmul, reshape, transpose, slice, expand, concat, stack, split, pad,
  gather, scatterAdd, indexSelect, embedding, unfold, fold, conv2d, convTranspose2d, resize,
  softmax, logSoftmax, gelu, silu, quickGelu, layerNorm, rmsNorm, crossEntropy, l1Loss,
  scaledDotProductAttention, causalMask, dropout,
} from '../src/tensor/index.ts';
import { assertClose } from './helpers.ts';

const f64 = (x: Parameters<typeof tensor>[0]): Tensor => tensor(x, { dtype: 'float64' });
const i32 = (values: number[], shape?: number[]): Tensor => tensor(Int32Array.from(values), { shape: shape ?? [values.length] });
const near = (actual: number, expected: number, tol: number, label: string): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${label}: ${actual} vs ${expected} (tol ${tol})`);

describe('closed form: element-wise', () => {
  test('arithmetic and broadcasting', () => {
    // [[1,2],[3,4]] + [10,20] adds the row to each row
    assertClose(add(f64([[1, 2], [3, 4]]), f64([10, 20])), f64([[11, 22], [13, 24]]), 0, 'add');
    assertClose(sub(f64([5, 7]), 2), f64([3, 5]), 0, 'sub');
    assertClose(mul(f64([[1], [2]]), f64([3, 4])), f64([[3, 4], [6, 8]]), 0, 'outer product by broadcast');
    assertClose(div(1, f64([2, 4, 8])), f64([0.5, 0.25, 0.125]), 0, 'div');
    // 2³ = 8, 9^½ = 3, 4^(−1) = ¼
    assertClose(pow(f64([2, 9, 4]), f64([3, 0.5, -1])), f64([8, 3, 0.25]), 1e-15, 'pow');
  });

  test('unary functions at known points', () => {
    // e⁰ = 1, ln e = 1, √4 = 2, 1/√4 = ½, tanh 0 = 0, tanh ∞ = 1, σ(0) = ½
    assertClose(exp(f64([0, 1])), f64([1, Math.E]), 1e-15, 'exp');
    assertClose(log(f64([1, Math.E])), f64([0, 1]), 1e-15, 'log');
    assertClose(sqrt(f64([4, 2])), f64([2, Math.SQRT2]), 1e-15, 'sqrt');
    assertClose(rsqrt(f64([4, 2])), f64([0.5, Math.SQRT1_2]), 1e-15, 'rsqrt');
    assertClose(tanh(f64([0, Infinity, -Infinity])), f64([0, 1, -1]), 0, 'tanh');
    assertClose(sigmoid(f64([0, Infinity, -Infinity])), f64([0.5, 1, 0]), 0, 'sigmoid');
    // sin 0 = 0, sin π/2 = 1, sin π/6 = ½; cos 0 = 1, cos π = −1, cos π/3 = ½
    assertClose(sin(f64([0, Math.PI / 2, Math.PI / 6])), f64([0, 1, 0.5]), 1e-15, 'sin');
    assertClose(cos(f64([0, Math.PI, Math.PI / 3])), f64([1, -1, 0.5]), 1e-15, 'cos');
    assertClose(abs(f64([-2, 0, 3])), f64([2, 0, 3]), 0, 'abs');
    assertClose(clamp(f64([-2, 0.3, 3]), -1, 1), f64([-1, 0.3, 1]), 0, 'clamp');
    assertClose(where(tensor([true, false]), f64([1, 2]), f64([3, 4])), f64([1, 4]), 0, 'where');
  });

  test('erf: erf(0) = 0, erf(±∞) = ±1, odd, and table values', () => {
    // values from Abramowitz & Stegun table 7.1 (and mpmath to 16 digits)
    const x = [0, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 4, -1, -2.5, 6.5, Infinity, -Infinity];
    const want = [0, 0.1124629160182849, 0.5204998778130465, 0.8427007929497149, 0.9661051464753108, 0.9953222650189527,
      0.9995930479825550, 0.9999779095030014, 0.9999999845827421, -0.8427007929497149, -0.9995930479825550, 1, 1, -1];
    assertClose(erf(f64(x)), f64(want), 1e-14, 'erf float64');
    assertClose(erf(tensor(x)), tensor(want), 1e-6, 'erf float32');
  });

  test('gradients: d/dx Σx² = 2x, d/dx Σeˣ = eˣ, d/dx Σ ln x = 1/x', () => {
    const x = f64([0.5, -1, 2]).requireGrad();
    sum(mul(x, x)).backward();
    assertClose(x.grad!, f64([1, -2, 4]), 1e-15, 'Σx²');
    const y = f64([0, 1]).requireGrad();
    sum(exp(y)).backward();
    assertClose(y.grad!, f64([1, Math.E]), 1e-15, 'Σeˣ');
    const z = f64([0.5, 4]).requireGrad();
    sum(log(z)).backward();
    assertClose(z.grad!, f64([2, 0.25]), 1e-15, 'Σ ln x');
  });

  test('clamp passes the gradient inside [min, max] and at the bounds, as torch; a NaN gradient stays NaN outside', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = tensor([-2, -1, 0.3, 1, 3], { dtype }).requireGrad();
      clamp(x, -1, 1).backward(tensor([5, 6, 7, 8, 9], { dtype }));
      assertClose(x.grad!, tensor([0, 6, 7, 8, 0], { dtype }), 0, `clamp gradient ${dtype}`);
      const r = tensor([-1, 0, 2], { dtype }).requireGrad(); // relu as clamp(0): 0 passes
      clamp(r, 0).backward(tensor([NaN, 1, 1], { dtype }));
      assert.ok(Number.isNaN(r.grad!.values()[0]!), 'NaN·0 is NaN');
      assertClose(r.grad!.slice(0, 1), tensor([1, 1], { dtype }), 0, `relu gradient ${dtype}`);
    }
  });
});

describe('closed form: reductions', () => {
  // t = [[[0,1,2,3],[4,5,6,7],[8,9,10,11]], [[12,…,15],[16,…,19],[20,…,23]]]
  const t = reshape(arange(24, undefined, 1, 'float64'), [2, 3, 4]);

  test('sum and mean over all, last, middle and several axes', () => {
    // Σ 0..23 = 276, mean 11.5
    assert.equal(sum(t).item(), 276);
    assert.equal(mean(t).item(), 11.5);
    // over the middle axis: column sums x + (x+4) + (x+8) = 3x + 12; over [0, 2]: (16j + 6) + (16j + 54) = 32j + 60
    assertClose(sum(t, 1), f64([[12, 15, 18, 21], [48, 51, 54, 57]]), 0, 'sum middle');
    assertClose(mean(t, -1, true), f64([[[1.5], [5.5], [9.5]], [[13.5], [17.5], [21.5]]]), 0, 'mean last keepdim');
    assertClose(sum(t, [0, 2]), f64([60, 92, 124]), 0, 'sum [0, 2]');
  });

  test('max, min, argmax first of ties', () => {
    assertClose(max(t, 1), f64([[8, 9, 10, 11], [20, 21, 22, 23]]), 0, 'max middle');
    assertClose(min(t, [1, 2], true), f64([[[0]], [[12]]]), 0, 'min [1, 2]');
    // argmax returns the first index of the largest value, as torch
    assert.deepEqual(argmax(tensor([[1, 3, 3], [2, 2, 1]]), 1).toArray(), [1, 0]);
    assert.equal(argmax(tensor([1, 5, 5, 2])).item(), 1);
    assert.equal(argmax(tensor([1, 5, 5, 2])).dtype, 'int32');
  });

  test('max gradient shares ties evenly', () => {
    // amax of [1, 3, 3]: the gradient ½ goes to each of the two maxima
    const x = f64([1, 3, 3]).requireGrad();
    max(x).backward();
    assertClose(x.grad!, f64([0, 0.5, 0.5]), 0, 'max ties');
  });

  test('var of [1,2,3,4] is 5/3 with correction 1 and 1.25 with correction 0', () => {
    // mean 2.5, Σ(x − 2.5)² = 5
    near(variance(f64([1, 2, 3, 4])).item(), 5 / 3, 1e-15, 'var correction 1');
    near(variance(f64([1, 2, 3, 4]), undefined, false, 0).item(), 1.25, 1e-15, 'var correction 0');
    near(f64([1, 2, 3, 4]).var(0, false, 0).item(), 1.25, 1e-15, 'Tensor.var');
    // each row of t is 4 consecutive numbers: var 5/3
    assertClose(variance(t, -1), full([2, 3], 5 / 3, 'float64'), 1e-15, 'var rows');
  });
});

describe('closed form: matmul', () => {
  test('known small matrices', () => {
    // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]
    assertClose(matmul(tensor([[1, 2], [3, 4]]), tensor([[5, 6], [7, 8]])), tensor([[19, 22], [43, 50]]), 0, '2×2');
    assertClose(matmul(f64([[1, 2], [3, 4]]), f64([[5, 6], [7, 8]])), f64([[19, 22], [43, 50]]), 0, '2×2 float64');
    // [1,2,3]·[4,5,6] = 32
    assert.equal(matmul(tensor([1, 2, 3]), tensor([4, 5, 6])).item(), 32);
    // Aᵀ through a transposed view: [[1,3],[2,4]]·[1,1] = [4,6]
    assertClose(matmul(transpose(tensor([[1, 2], [3, 4]])), tensor([1, 1])), tensor([4, 6]), 0, 'Aᵀ·1');
  });

  test('identity and batch broadcast', () => {
    const eye = tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    const x = new Generator(1).normal([2, 4, 3]);
    assertClose(matmul(x, eye), x, 1e-6, 'x·I');
    // (2,1,2,2)·(3,2,2): batch dims broadcast to (2,3); scaling matrices k·I give k·a
    const a = reshape(arange(8), [2, 1, 2, 2]);
    const k = mul(reshape(tensor([1, 0, 0, 1]), [1, 2, 2]), reshape(tensor([1, 2, 3]), [3, 1, 1]));
    const y = matmul(a, k);
    assert.deepEqual([...y.shape], [2, 3, 2, 2]);
    assertClose(y, mul(a, reshape(tensor([1, 2, 3]), [3, 1, 1])), 0, 'k·I batch');
  });
});

describe('closed form: views, join, split, pad', () => {
  test('views', () => {
    const x = reshape(arange(6), [2, 3]); // [[0,1,2],[3,4,5]]
    assert.deepEqual(transpose(x).tolist(), [[0, 3], [1, 4], [2, 5]]);
    assert.deepEqual(slice(arange(10), 0, 1, 8, 3).toArray(), [1, 4, 7]);
    assert.deepEqual(slice(arange(5), 0, -2).toArray(), [3, 4]);
    assert.deepEqual(expand(tensor([[1], [2]]), [2, 3]).tolist(), [[1, 1, 1], [2, 2, 2]]);
    assert.deepEqual(x.permute(1, 0).reshape(6).toArray(), [0, 3, 1, 4, 2, 5]);
  });

  test('concat, stack, split, pad', () => {
    const a = tensor([[1, 2]]);
    const b = tensor([[3, 4]]);
    assert.deepEqual(concat([a, b], 0).tolist(), [[1, 2], [3, 4]]);
    assert.deepEqual(concat([a, b], 1).tolist(), [[1, 2, 3, 4]]);
    assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])], 1).tolist(), [[1, 3], [2, 4]]);
    const parts = split(arange(5), 2);
    assert.deepEqual(parts.map((p) => p.toArray()), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(split(arange(5), [1, 4]).map((p) => p.toArray()), [[0], [1, 2, 3, 4]]);
    // [left, right] = [1, 2] pads the last dim
    assert.deepEqual(pad(tensor([[1, 2]]), [1, 2]).tolist(), [[0, 1, 2, 0, 0]]);
    // [left, right, top, bottom] = [0, 1, 1, 0] with value 9
    assert.deepEqual(pad(tensor([[1, 2]]), [0, 1, 1, 0], 9).tolist(), [[9, 9, 9], [1, 2, 9]]);
  });
});

describe('closed form: indexing', () => {
  test('gather (the torch.gather docs example)', () => {
    // out[i][j] = x[i][index[i][j]]: [[1,2],[3,4]] with [[0,0],[1,0]] → [[1,1],[4,3]]
    assert.deepEqual(gather(tensor([[1, 2], [3, 4]]), 1, i32([0, 0, 1, 0], [2, 2])).tolist(), [[1, 1], [4, 3]]);
    // along dim 0: out[i][j] = x[index[i][j]][j]
    assert.deepEqual(gather(tensor([[1, 2], [3, 4]]), 0, i32([1, 0], [1, 2])).tolist(), [[3, 2]]);
  });

  test('scatterAdd accumulates repeated indices', () => {
    // out[index[i]] += src[i]: indices [0,1,0,2] with src [1,2,3,4] → [1+3, 2, 4]
    assert.deepEqual(scatterAdd(zeros([3]), 0, i32([0, 1, 0, 2]), tensor([1, 2, 3, 4])).toArray(), [4, 2, 4]);
    // 2-D along dim 1 onto ones: row 0 gets 10 at 1 and 20 at 1; row 1 gets 30 at 0 and 40 at 2
    assert.deepEqual(scatterAdd(ones([2, 3]), 1, i32([1, 1, 0, 2], [2, 2]), tensor([[10, 20], [30, 40]])).tolist(),
      [[1, 31, 1], [31, 1, 41]]);
  });

  test('indexSelect and embedding', () => {
    const w = tensor([[0, 0.5], [1, 1.5], [2, 2.5]]);
    assert.deepEqual(indexSelect(w, 0, i32([2, 0, 2])).tolist(), [[2, 2.5], [0, 0.5], [2, 2.5]]);
    assert.deepEqual(indexSelect(w, 1, i32([1])).tolist(), [[0.5], [1.5], [2.5]]);
    assert.deepEqual(embedding(w, i32([1, 2, 0, 1], [2, 2])).tolist(), [[[1, 1.5], [2, 2.5]], [[0, 0.5], [1, 1.5]]]);
  });

  test('embedding gradient counts how often each row is used', () => {
    // ids [1, 1, 2]: row 1 used twice, row 0 never
    const w = zeros([3, 2], 'float64').requireGrad();
    sum(embedding(w, i32([1, 1, 2]))).backward();
    assertClose(w.grad!, f64([[0, 0], [2, 2], [1, 1]]), 0, 'embedding grad');
  });
});

describe('closed form: convolution', () => {
  test('conv2d with a 1×1 identity kernel is the input', () => {
    const x = new Generator(2).normal([2, 3, 4, 5]);
    const eye = reshape(tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), [3, 3, 1, 1]);
    assertClose(conv2d(x, eye), x, 1e-6, 'identity conv');
  });

  test('conv2d of ones with a 3×3 ones kernel, padding 1, counts the in-map neighbours', () => {
    // corners see 4 pixels, edges 6, the centre 9; bias adds 0.5
    const y = conv2d(ones([1, 1, 3, 3]), ones([1, 1, 3, 3]), tensor([0.5]), { padding: 1 });
    assertClose(y, tensor([[[[4.5, 6.5, 4.5], [6.5, 9.5, 6.5], [4.5, 6.5, 4.5]]]]), 0, 'neighbour counts');
    // stride 2 keeps the corners
    assertClose(conv2d(ones([1, 1, 3, 3]), ones([1, 1, 3, 3]), null, { padding: 1, stride: 2 }), tensor([[[[4, 4], [4, 4]]]]), 0, 'stride 2');
  });

  test('grouped conv2d: each group sees only its own channels', () => {
    // groups 2, kernel 1×1 weights [2] and [3]: channel c is scaled by its own weight
    const x = reshape(arange(8), [1, 2, 2, 2]);
    const y = conv2d(x, reshape(tensor([2, 3]), [2, 1, 1, 1]), null, { groups: 2 });
    assertClose(y, reshape(tensor([0, 2, 4, 6, 12, 15, 18, 21]), [1, 2, 2, 2]), 0, 'groups');
  });

  test('convTranspose2d kernel 2 stride 2 with a ones kernel places each value in a 2×2 block', () => {
    // a 1×1 map of value 3 becomes a 2×2 block of 3s
    assertClose(convTranspose2d(full([1, 1, 1, 1], 3), ones([1, 1, 2, 2]), null, { stride: 2 }), full([1, 1, 2, 2], 3), 0, '1×1 map');
    // a 2×2 map becomes nearest-neighbour upsampling, plus the bias
    const y = convTranspose2d(tensor([[[[1, 2], [3, 4]]]]), ones([1, 1, 2, 2]), tensor([10]), { stride: 2 });
    assertClose(y, tensor([[[[11, 11, 12, 12], [11, 11, 12, 12], [13, 13, 14, 14], [13, 13, 14, 14]]]]), 0, '2×2 map');
  });

  test('fold of unfold: non-overlapping windows are the identity, overlapping ones count coverage', () => {
    const x = new Generator(3).normal([1, 2, 4, 4]);
    const win = { kernel: [2, 2] as [number, number], stride: 2 };
    assertClose(fold(unfold(x, win), [4, 4], win), x, 0, 'non-overlapping');
    // 3×3 windows with padding 1 over a 3×3 map cover each pixel once per window holding it: the neighbour counts
    const w3 = { kernel: [3, 3] as [number, number], padding: 1 };
    assertClose(fold(unfold(ones([1, 1, 3, 3]), w3), [3, 3], w3), tensor([[[[4, 6, 4], [6, 9, 6], [4, 6, 4]]]]), 0, 'overlap');
  });
});

describe('closed form: resize', () => {
  const conventions = [
    { method: 'bilinear', convention: 'torch' },
    { method: 'bicubic', convention: 'torch' },
    { method: 'bilinear', convention: 'jax' },
    { method: 'bicubic', convention: 'jax' },
    { method: 'bicubic', convention: 'jax', antialias: false },
  ] as const;

  test('identity when the size is unchanged; constant maps stay constant', () => {
    const x = new Generator(4).normal([1, 2, 3, 5]);
    for (const opts of conventions) {
      assertClose(resize(x, [3, 5], opts), x, 1e-6, `identity ${JSON.stringify(opts)}`);
      // every interpolation row sums to 1
      assertClose(resize(full([1, 1, 4, 6], 2.5), [7, 3], opts), full([1, 1, 7, 3], 2.5), 1e-6, `constant ${JSON.stringify(opts)}`);
    }
  });

  test('channels last resizes dims −3 and −2 exactly as the channels-first layout does', () => {
    const x = new Generator(6).normal([2, 5, 4, 3], 0, 1, 'float64'); // (B, H, W, C)
    for (const opts of conventions) {
      for (const size of [[7, 3], [5, 2], [3, 4]] as [number, number][]) {
        const want = resize(x.permute(0, 3, 1, 2), size, opts).permute(0, 2, 3, 1);
        assertClose(resize(x, size, { ...opts, channelsLast: true }), want, 1e-12, `${JSON.stringify(opts)} to ${size}`);
      }
    }
  });

  test('torch bilinear 2× upsampling of [0, 1] is [0, ¼, ¾, 1]', () => {
    // align_corners=False: source x = (o + ½)/2 − ½ = −¼, ¼, ¾, 1¼, clamped to [0, 1]
    const y = resize(reshape(f64([0, 1]), [1, 2]), [1, 4], { method: 'bilinear', convention: 'torch' });
    assertClose(y, f64([[0, 0.25, 0.75, 1]]), 1e-15, 'bilinear 2×');
  });

  test('jax bilinear antialiased 2× downsampling averages with a triangle of width 4', () => {
    // output 0 samples at x = ½: weights ∝ 1 − |½ − i|/2 over i = 0..3 → ¾, ¾, ¼, 0 (normalised by 7/4)
    const y = resize(reshape(f64([0, 1, 2, 3]), [1, 4]), [1, 2], { method: 'bilinear', convention: 'jax' });
    assertClose(y, f64([[(0.75 * 0 + 0.75 * 1 + 0.25 * 2) / 1.75, (0.25 * 1 + 0.75 * 2 + 0.75 * 3) / 1.75]]), 1e-15, 'antialias');
  });
});

describe('closed form: activations and norms', () => {
  test('softmax of equal logits is uniform 1/n; softmax([0, ln 2]) = [⅓, ⅔]', () => {
    assertClose(softmax(full([2, 5], 3.7)), full([2, 5], 0.2), 1e-7, 'uniform');
    assertClose(softmax(f64([0, Math.LN2])), f64([1 / 3, 2 / 3]), 1e-15, 'ln 2');
    // along a middle axis: (2,3,1) with equal values over axis 1
    assertClose(softmax(full([2, 3, 1], -1, 'float64'), 1), full([2, 3, 1], 1 / 3, 'float64'), 1e-15, 'middle axis');
    // log softmax = x − log Σ eˣ: equal logits give −ln n
    assertClose(logSoftmax(full([4], 100, 'float64')), full([4], -Math.log(4), 'float64'), 1e-15, 'logSoftmax');
    // a large shift does not overflow
    assertClose(softmax(f64([1000, 1000 + Math.LN2])), f64([1 / 3, 2 / 3]), 1e-12, 'shift');
  });

  test('layerNorm of [1,2,3] with unit weight is [−√1.5, 0, √1.5] (with eps)', () => {
    // mean 2, biased variance 2/3: (x − 2)/√(2/3 + eps)
    const s = 1 / Math.sqrt(2 / 3 + 1e-5);
    assertClose(layerNorm(f64([[1, 2, 3]]), ones([3], 'float64'), zeros([3], 'float64')), f64([[-s, 0, s]]), 1e-14, 'layerNorm');
    near(s, Math.sqrt(1.5), 1e-4, '√1.5');
    // weight scales, bias shifts
    assertClose(layerNorm(f64([1, 2, 3]), f64([2, 2, 2]), f64([1, 1, 1])), f64([1 - 2 * s, 1, 1 + 2 * s]), 1e-14, 'affine');
  });

  test('rmsNorm of [3, 4] divides by √((9 + 16)/2)', () => {
    const r = Math.sqrt(12.5 + 1e-6);
    assertClose(rmsNorm(f64([3, 4]), f64([1, 2])), f64([3 / r, 8 / r]), 1e-14, 'rmsNorm');
  });

  test('gelu, silu, quickGelu at known points', () => {
    // gelu(x) = x·Φ(x): Φ(0) = ½, Φ(1) = 0.8413447460685429, Φ(−1) = 0.15865525393145707
    assertClose(gelu(f64([0, 1, -1, 10, -10])), f64([0, 0.8413447460685429, -0.15865525393145707, 10, -0]), 1e-14, 'gelu erf');
    // the tanh form is within 1e-3 of the exact one
    assertClose(gelu(f64([0, 1, -1, 2]), 'tanh'), gelu(f64([0, 1, -1, 2])), 1e-3, 'gelu tanh');
    near(gelu(f64([1]), 'tanh').item(), 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715)), 1e-15, 'gelu tanh at 1');
    // silu(x) = x·σ(x): silu(0) = 0, silu(ln 3) = ln 3 · ¾
    assertClose(silu(f64([0, Math.log(3)])), f64([0, 0.75 * Math.log(3)]), 1e-15, 'silu');
    // quickGelu(x) = x·σ(1.702x)
    assertClose(quickGelu(f64([0, 1])), f64([0, 1 / (1 + Math.exp(-1.702))]), 1e-15, 'quickGelu');
  });
});

describe('closed form: losses', () => {
  test('cross-entropy of uniform logits is log V regardless of smoothing', () => {
    const targets = i32([0, 3, 4, 1]);
    for (const labelSmoothing of [0, 0.1, 0.5]) {
      near(crossEntropy(full([4, 5], 0.3, 'float64'), targets, { labelSmoothing }).item(), Math.log(5), 1e-14, `ε ${labelSmoothing}`);
    }
  });

  test('cross-entropy of known logits, with smoothing and an ignored row', () => {
    // logits [0, ln 3], target 1: −log(3/4)
    near(crossEntropy(f64([[0, Math.log(3)]]), i32([1])).item(), -Math.log(0.75), 1e-15, 'plain');
    // ε = 0.1 puts 0.9 on the target and 0.1 on the other class: −(0.9 log ¾ + 0.1 log ¼)
    near(crossEntropy(f64([[0, Math.log(3)]]), i32([1]), { labelSmoothing: 0.1 }).item(),
      -(0.9 * Math.log(0.75) + 0.1 * Math.log(0.25)), 1e-15, 'smoothed');
    // the ignored row (−100) neither adds loss nor counts in the mean
    near(crossEntropy(f64([[0, Math.log(3)], [50, -50]]), i32([1, -100])).item(), -Math.log(0.75), 1e-15, 'ignored');
    // the gradient w.r.t. logits is softmax − onehot, divided by the rows that count
    const logits = f64([[0, Math.log(3)], [1, 2]]).requireGrad();
    crossEntropy(logits, i32([1, -100])).backward();
    assertClose(logits.grad!, f64([[0.25, -0.25], [0, 0]]), 1e-15, 'grad');
  });

  test('l1Loss is the mean absolute difference', () => {
    // |1 − 0| + |−2 − 0| + |3 − 3| + |0.5 − 1| = 3.5, over 4
    near(l1Loss(f64([[1, -2], [3, 0.5]]), f64([[0, 0], [3, 1]])).item(), 3.5 / 4, 1e-15, 'l1');
  });
});

describe('closed form: attention', () => {
  test('when all keys are equal, every query returns the mean of v', () => {
    const q = new Generator(5).normal([1, 2, 3, 4], 0, 1, 'float64');
    const k = expand(new Generator(6).normal([1, 2, 1, 4], 0, 1, 'float64'), [1, 2, 5, 4]);
    const v = new Generator(7).normal([1, 2, 5, 3], 0, 1, 'float64');
    assertClose(scaledDotProductAttention(q, k, v), expand(mean(v, 2, true), [1, 2, 3, 3]), 1e-14, 'mean of v');
  });

  test('causal: the first query attends only to itself; the last sees every key', () => {
    const g = new Generator(8);
    const [q, k, v] = [g.normal([1, 4, 2], 0, 1, 'float64'), g.normal([1, 4, 2], 0, 1, 'float64'), g.normal([1, 4, 3], 0, 1, 'float64')];
    const y = scaledDotProductAttention(q, k, v, { causal: true });
    assertClose(slice(y, 1, 0, 1), slice(v, 1, 0, 1), 1e-15, 'row 0 = v[0]');
    assertClose(slice(y, 1, 3, 4), slice(scaledDotProductAttention(q, k, v), 1, 3, 4), 1e-15, 'last row unmasked');
    // the mask itself: 0 on and below the diagonal, −∞ above
    assert.deepEqual(causalMask(2, 3).tolist(), [[0, 0, -Infinity], [0, 0, 0]]);
  });

  test('a padding mask that leaves one key returns that key\'s value', () => {
    const g = new Generator(9);
    const q = g.normal([2, 3, 2], 0, 1, 'float64');
    const k = g.normal([2, 4, 2], 0, 1, 'float64');
    const v = g.normal([2, 4, 3], 0, 1, 'float64');
    const mask = reshape(f64([-Infinity, -Infinity, 0, -Infinity]), [1, 1, 4]);
    assertClose(scaledDotProductAttention(q, k, v, { mask }), expand(slice(v, 1, 2, 3), [2, 3, 3]), 1e-15, 'one key');
  });

  test('scale 0 averages v uniformly', () => {
    // softmax of all-zero scores is uniform
    const g = new Generator(10);
    const v = g.normal([1, 3, 2], 0, 1, 'float64');
    const y = scaledDotProductAttention(g.normal([1, 2, 4], 0, 1, 'float64'), g.normal([1, 3, 4], 0, 1, 'float64'), v, { scale: 0 });
    assertClose(y, expand(mean(v, 1, true), [1, 2, 2]), 1e-15, 'uniform');
  });
});

describe('closed form: randomness', () => {
  test('dropout keeps about 1 − p, scales by 1/(1 − p), is seeded, and is the identity when not training', () => {
    const p = 0.3;
    const x = full([100_000], 2);
    const y = dropout(x, p, new Generator(11));
    const v = y.values();
    let kept = 0;
    for (let i = 0; i < v.length; i++) {
      if (v[i] !== 0) {
        kept++;
        near(v[i]!, 2 / (1 - p), 1e-6, 'kept value');
      }
    }
    // the kept fraction has std √(p(1 − p)/n) ≈ 0.0014; allow 7σ
    near(kept / v.length, 1 - p, 0.01, 'kept fraction');
    assert.deepEqual(dropout(x, p, new Generator(11)).values(), v, 'same seed, same mask');
    assert.notDeepEqual(dropout(x, p, new Generator(12)).values(), v, 'another seed, another mask');
    assert.equal(dropout(x, p, new Generator(11), false), x, 'identity when not training');
    assert.equal(dropout(x, 0, new Generator(11)), x, 'identity at p = 0');
  });

  test('Generator.normal has mean ≈ 0 and std ≈ 1 over 1e5 samples and is reproducible', () => {
    const a = new Generator(42).normal([100_000], 0, 1, 'float64');
    const m = mean(a).item();
    const s = Math.sqrt(variance(a).item());
    // standard error of the mean is 1/√n ≈ 0.0032; of the std ≈ 0.0022
    near(m, 0, 0.02, 'mean');
    near(s, 1, 0.02, 'std');
    assert.deepEqual(new Generator(42).normal([100_000], 0, 1, 'float64').values(), a.values(), 'reproducible');
    assert.notDeepEqual(new Generator(43).normal([10]).values(), new Generator(42).normal([10]).values(), 'seed matters');
    // mean and std arguments shift and scale
    const b = new Generator(1).normal([100_000], 3, 0.5, 'float64');
    near(mean(b).item(), 3, 0.01, 'shifted mean');
    near(Math.sqrt(variance(b).item()), 0.5, 0.01, 'scaled std');
  });

  test('Generator.uniform lies in [low, high) with mean ≈ (low + high)/2; randint in [low, high)', () => {
    const u = new Generator(5).uniform([100_000], -1, 3, 'float64');
    near(mean(u).item(), 1, 0.02, 'uniform mean');
    assert.ok(min(u).item() >= -1 && max(u).item() < 3, 'uniform range');
    const r = new Generator(5).randint([10_000], 2, 5);
    assert.equal(r.dtype, 'int32');
    assert.ok(min(r).item() === 2 && max(r).item() === 4, 'randint covers [2, 5)');
  });
});
