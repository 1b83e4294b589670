// Float64 central-difference checks of every op that has a backward rule (see helpers.ts gradcheck).
// Shapes are tiny: each check runs two forward passes per input element.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Tensor, Generator, tensor, full,
  add, sub, mul, div, pow, neg, exp, log, sqrt, rsqrt, tanh, erf, sigmoid, sin, cos, abs, clamp, cast, where, maximum, minimum,
  sum, mean, max, min, variance, sumTo,
  matmul, reshape, flatten, permute, transpose, slice, expand, squeeze, unsqueeze, contiguous, clone,
  concat, stack, split, pad, gather, scatterAdd, indexSelect, embedding,
  unfold, fold, conv2d, convTranspose2d, resize, type ResizeOptions,
  softmax, logSoftmax, gelu, silu, quickGelu, layerNorm, rmsNorm, crossEntropy, l1Loss,
  scaledDotProductAttention, relPosAttention,
} from '../src/tensor/index.ts';
import { gradcheck, leaf64 } from './helpers.ts';

let seed = 100;
/** A float64 leaf with values uniform in [lo, hi); each call draws from a new seed. */
const u = (shape: number[], lo = -1, hi = 1): Tensor => leaf64(new Generator(seed++).uniform(shape, lo, hi, 'float64'));
/** A float64 leaf with standard normal values. */
const n = (shape: number[]): Tensor => leaf64(new Generator(seed++).normal(shape, 0, 1, 'float64'));
/** Magnitudes in [0.2, 1) with random signs: away from 0 for abs, sign-sensitive rules and divisors. */
function awayFromZero(shape: number[]): Tensor {
  const t = u(shape, 0.2, 1);
  const g = new Generator(seed++);
  const d = t.data as Float64Array;
  for (let i = 0; i < d.length; i++) if (g.next() < 0.5) d[i] = -d[i]!;
  return t;
}
const i32 = (values: number[], shape?: number[]): Tensor => tensor(Int32Array.from(values), { shape: shape ?? [values.length] });

describe('gradcheck: element-wise', () => {
  test('add, sub, mul, div on equal shapes', () => {
    gradcheck(add, [n([2, 3]), n([2, 3])]);
    gradcheck(sub, [n([2, 3]), n([2, 3])]);
    gradcheck(mul, [n([2, 3]), n([2, 3])]);
    gradcheck(div, [n([2, 3]), awayFromZero([2, 3])]);
  });

  test('binary ops broadcast (3,1,4) with (2,4)', () => {
    for (const op of [add, sub, mul]) gradcheck(op, [n([3, 1, 4]), n([2, 4])]);
    gradcheck(div, [n([3, 1, 4]), awayFromZero([2, 4])]);
    gradcheck(div, [n([2, 4]), awayFromZero([3, 1, 4])]);
  });

  test('binary ops with a 0-d tensor and a (1,) tensor', () => {
    for (const op of [add, sub, mul]) {
      gradcheck(op, [n([2, 3]), n([])]);
      gradcheck(op, [n([]), n([2, 3])]);
      gradcheck(op, [n([2, 3]), n([1])]);
    }
    gradcheck(div, [n([2, 3]), awayFromZero([1])]);
    gradcheck(div, [n([1]), awayFromZero([2, 3])]);
  });

  test('binary ops with number operands', () => {
    gradcheck((x) => add(x, 2.5), [n([2, 3])]);
    gradcheck((x) => add(2.5, x), [n([2, 3])]);
    gradcheck((x) => sub(1, x), [n([2, 3])]);
    gradcheck((x) => mul(3, x), [n([2, 3])]);
    gradcheck((x) => div(x, 0.7), [n([2, 3])]);
    gradcheck((x) => div(2, x), [awayFromZero([2, 3])]);
  });

  test('pow with a number exponent (positive base)', () => {
    for (const p of [2, 3, 0.5, -1.5]) gradcheck((x) => pow(x, p), [u([2, 3], 0.5, 2)]);
  });

  test('pow with a tensor exponent (positive base), grad of base and exponent, broadcast', () => {
    gradcheck(pow, [u([2, 3], 0.5, 2), n([2, 3])]);
    gradcheck(pow, [u([3, 1, 2], 0.5, 2), n([4, 1])]);
    // exponent without grad: only the base rule runs
    const e = new Generator(seed++).uniform([2, 3], -1, 1, 'float64');
    gradcheck((x) => pow(x, e), [u([2, 3], 0.5, 2)]);
  });

  test('unary math: neg, exp, log, sqrt, rsqrt, tanh, sigmoid', () => {
    gradcheck(neg, [n([2, 3])]);
    gradcheck(exp, [n([2, 3])]);
    gradcheck(log, [u([2, 3], 0.3, 3)]);
    gradcheck(sqrt, [u([2, 3], 0.3, 3)]);
    gradcheck(rsqrt, [u([2, 3], 0.3, 3)]);
    gradcheck(tanh, [u([2, 3], -2, 2)]);
    gradcheck(sigmoid, [u([2, 3], -4, 4)]);
  });

  test('sin and cos over several periods (SAM random Fourier features reach hundreds of radians)', () => {
    gradcheck(sin, [u([3, 4], -12, 12)]);
    gradcheck(cos, [u([3, 4], -12, 12)]);
  });

  test('erf on both series and continued-fraction ranges', () => {
    gradcheck(erf, [u([3, 4], -2.4, 2.4)]);
    gradcheck(erf, [tensorLeaf([-4, -3, -2.6, 2.6, 3, 4, 5.5, 0.01])]);
  });

  test('abs away from 0, clamp away from the bounds', () => {
    gradcheck(abs, [awayFromZero([3, 4])]);
    // values at least 0.05 from the bounds −0.5 and 0.5
    const x = tensorLeaf([-0.9, -0.55, -0.3, 0, 0.2, 0.45, 0.7, 1.5]);
    gradcheck((t) => clamp(t, -0.5, 0.5), [x]);
    gradcheck((t) => clamp(t, -0.5), [x]);
    gradcheck((t) => clamp(t, undefined, 0.5), [x]);
  });

  test('cast float64 → float64 is the identity path', () => {
    gradcheck((x) => mul(cast(x, 'float64'), 3), [n([2, 3])]);
  });

  test('where, grad of both branches, broadcast', () => {
    const cond = tensor([[true, false, true], [false, false, true]]);
    gradcheck((a, b) => where(cond, a, b), [n([2, 3]), n([2, 3])]);
    gradcheck((a, b) => where(cond, a, b), [n([1, 3]), n([2, 1])]);
    gradcheck((a) => where(cond, a, 0.5), [n([2, 3])]);
    gradcheck((b) => where(cond, -1, b), [n([3])]);
  });

  test('maximum and minimum (no ties)', () => {
    gradcheck(maximum, [n([2, 3]), n([2, 3])]);
    gradcheck(minimum, [n([2, 3]), n([3])]);
  });
});

/** A float64 leaf from a flat list of values. */
function tensorLeaf(values: number[], shape?: number[]): Tensor {
  return leaf64(tensor(Float64Array.from(values), { shape: shape ?? [values.length] }));
}

describe('gradcheck: reductions over (2,3,4)', () => {
  const axesCases: [string, number | number[] | undefined][] = [['all', undefined], ['last', -1], ['middle', 1], ['[0, 2]', [0, 2]]];
  const ops: [string, (x: Tensor, axes: number | number[] | undefined, keepdim: boolean) => Tensor][] = [
    ['sum', sum],
    ['mean', mean],
    ['max', max],
    ['min', min],
    ['var correction 0', (x, a, k) => variance(x, a, k, 0)],
    ['var correction 1', (x, a, k) => variance(x, a, k, 1)],
  ];
  for (const [name, op] of ops) {
    test(name, () => {
      for (const [, axes] of axesCases) {
        for (const keepdim of [false, true]) gradcheck((x) => op(x, axes, keepdim), [u([2, 3, 4])]);
      }
    });
  }

  test('max and min of a non-contiguous view', () => {
    gradcheck((x) => max(transpose(x, 0, 2), 1), [u([2, 3, 4])]);
    gradcheck((x) => min(permute(x, [1, 0, 2]), [0, 2], true), [u([2, 3, 4])]);
  });

  test('sumTo', () => {
    gradcheck((x) => sumTo(x, [3, 1]), [n([2, 3, 4])]);
    gradcheck((x) => sumTo(x, [4]), [n([2, 3, 4])]);
  });
});

describe('gradcheck: matmul', () => {
  test('2-D', () => gradcheck(matmul, [n([3, 4]), n([4, 2])]));
  test('batched 3-D', () => gradcheck(matmul, [n([2, 3, 4]), n([2, 4, 2])]));
  test('broadcast batch dims (2,1,3,4)·(5,4,2)', () => gradcheck(matmul, [n([2, 1, 3, 4]), n([5, 4, 2])]));
  // b's gradient sums over two leading dims (one missing, one of size 1)
  test('broadcast over leading dims (3,2,2,3,4)·(1,2,4,2)', () => gradcheck(matmul, [n([3, 2, 2, 3, 4]), n([1, 2, 4, 2])]));
  test('3-D · 2-D and 2-D · 3-D', () => {
    gradcheck(matmul, [n([2, 3, 4]), n([4, 2])]);
    gradcheck(matmul, [n([3, 4]), n([2, 4, 2])]);
  });
  test('vectors: 1-D·2-D, 2-D·1-D, 1-D·1-D, 1-D·3-D, 3-D·1-D', () => {
    gradcheck(matmul, [n([4]), n([4, 3])]);
    gradcheck(matmul, [n([3, 4]), n([4])]);
    gradcheck(matmul, [n([4]), n([4])]);
    gradcheck(matmul, [n([4]), n([2, 4, 3])]);
    gradcheck(matmul, [n([2, 3, 4]), n([4])]);
  });
  test('transposed-view inputs', () => {
    gradcheck((a, b) => matmul(transpose(a), b), [n([4, 3]), n([4, 2])]);
    gradcheck((a, b) => matmul(a, transpose(b)), [n([3, 4]), n([2, 4])]);
    gradcheck((a, b) => matmul(transpose(a), transpose(b)), [n([4, 3]), n([2, 4])]);
    gradcheck((a, b) => matmul(transpose(a, 1, 2), b), [n([2, 4, 3]), n([2, 4, 2])]);
    // a permuted view whose last two dims are neither row- nor column-major
    gradcheck((a, b) => matmul(permute(a, [1, 0, 2]), b), [n([3, 2, 4]), n([4, 2])]);
    gradcheck((a, b) => matmul(slice(a, 1, 0, 8, 2), b), [n([3, 8]), n([4, 2])]);
  });
});

describe('gradcheck: views and copies', () => {
  test('reshape (contiguous and of a transposed view), flatten', () => {
    gradcheck((x) => reshape(x, [4, -1]), [n([2, 3, 2])]);
    gradcheck((x) => reshape(transpose(x), [6]), [n([2, 3])]);
    gradcheck((x) => flatten(x, 1, 2), [n([2, 2, 3, 2])]);
    gradcheck((x) => flatten(x), [n([2, 3])]);
  });
  test('permute, transpose', () => {
    gradcheck((x) => permute(x, [2, 0, 1]), [n([2, 3, 4])]);
    gradcheck((x) => transpose(x, 0, 2), [n([2, 3, 4])]);
  });
  test('slice with a step and a negative start', () => {
    gradcheck((x) => slice(x, 1, 1, 6, 2), [n([2, 7])]);
    gradcheck((x) => slice(x, -1, -3), [n([2, 3, 5])]);
    gradcheck((x) => slice(x, 0, -4, -1, 2), [n([6, 2])]);
    gradcheck((x) => slice(slice(x, 1, 1, undefined, 2), 1, 1), [n([2, 8])]);
  });
  test('expand, squeeze, unsqueeze', () => {
    gradcheck((x) => expand(x, [2, 3, 4]), [n([3, 1])]);
    gradcheck((x) => expand(x, [2, -1, 4]), [n([1, 3, 1])]);
    gradcheck((x) => squeeze(x, 1), [n([2, 1, 3])]);
    gradcheck((x) => squeeze(x), [n([1, 2, 1, 3])]);
    gradcheck((x) => unsqueeze(x, 1), [n([2, 3])]);
    gradcheck((x) => unsqueeze(x, -1), [n([2, 3])]);
  });
  test('contiguous, clone', () => {
    gradcheck((x) => contiguous(transpose(x)), [n([2, 3])]);
    gradcheck((x) => contiguous(x), [n([2, 3])]);
    gradcheck((x) => clone(permute(x, [1, 2, 0])), [n([2, 3, 2])]);
  });
});

describe('gradcheck: join, split, pad', () => {
  test('concat along a middle axis', () => {
    gradcheck((a, b, c) => concat([a, b, c], 1), [n([2, 1, 3]), n([2, 2, 3]), n([2, 3, 3])]);
    gradcheck((a, b) => concat([transpose(a, 0, 1), b], -1), [n([3, 2]), n([2, 2])]);
  });
  test('stack', () => {
    gradcheck((a, b) => stack([a, b], 1), [n([2, 3]), n([2, 3])]);
    gradcheck((a, b) => stack([a, b], -1), [n([2, 3]), n([2, 3])]);
  });
  test('split (sizes and equal pieces), rejoined in a different order', () => {
    gradcheck((x) => concat(split(x, [1, 3], 1).reverse(), 1), [n([2, 4, 2])]);
    gradcheck((x) => {
      const [a, b, c] = split(x, 2, -1) as [Tensor, Tensor, Tensor];
      return concat([mul(a, 2), exp(b), c], -1);
    }, [n([2, 5])]);
  });
  test('pad', () => {
    gradcheck((x) => pad(x, [1, 2]), [n([2, 3])]);
    gradcheck((x) => pad(x, [1, 0, 2, 1], 0.5), [n([1, 2, 2, 3])]);
    gradcheck((x) => pad(transpose(x), [0, 1, 1, 1]), [n([3, 2])]);
  });
});

describe('gradcheck: indexing', () => {
  test('gather with repeated indices', () => {
    const index = i32([0, 2, 2, 1, 1, 3], [2, 3]);
    gradcheck((x) => gather(x, 1, index), [n([2, 4])]);
    gradcheck((x) => gather(x, 0, i32([1, 0, 1, 1, 1, 0], [3, 2])), [n([2, 2])]);
    gradcheck((x) => gather(transpose(x), 1, index), [n([4, 2])]);
  });
  test('scatterAdd: grad w.r.t. x and src, repeated indices', () => {
    const index = i32([0, 2, 0, 1, 1, 1], [2, 3]);
    gradcheck((x, src) => scatterAdd(x, 1, index, src), [n([2, 4]), n([2, 3])]);
    gradcheck((x, src) => scatterAdd(x, 0, i32([2, 2, 0, 2], [2, 2]), src), [n([3, 2]), n([2, 2])]);
    // src larger than index: the elements no index reads get zero gradient
    gradcheck((x, src) => scatterAdd(x, 1, i32([3, 0, 3, 1], [2, 2]), src), [n([2, 4]), n([3, 3])]);
  });
  test('indexSelect on dims 0 and 1 with repeats', () => {
    gradcheck((x) => indexSelect(x, 0, i32([2, 0, 2])), [n([3, 2])]);
    gradcheck((x) => indexSelect(x, 1, i32([1, 1, 0, 3])), [n([2, 4, 2])]);
  });
  test('embedding', () => {
    gradcheck((w) => embedding(w, i32([3, 0, 3, 1, 2, 0], [2, 3])), [n([4, 3])]);
  });
});

describe('gradcheck: convolution', () => {
  test('unfold and fold', () => {
    const win = { kernel: [2, 3] as [number, number], stride: [2, 1] as [number, number], padding: 1 };
    gradcheck((x) => unfold(x, win), [n([1, 2, 4, 3])]);
    // fold of unfold's output shape: (B, C·kh·kw, L) with L = 3·3 for a 4×3 map
    gradcheck((c) => fold(c, [4, 3], win), [n([1, 12, 9])]);
    gradcheck((x) => unfold(x, { kernel: [2, 2], dilation: 2 }), [n([1, 1, 4, 4])]);
  });
  test('conv2d: stride 2, padding 1, groups 2, bias', () => {
    gradcheck((x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1, groups: 2 }), [n([2, 4, 5, 4]), n([4, 2, 3, 3]), n([4])]);
  });
  test('conv2d: 1×1, dilation, no bias', () => {
    gradcheck((x, w) => conv2d(x, w), [n([1, 3, 2, 3]), n([2, 3, 1, 1])]);
    gradcheck((x, w) => conv2d(x, w, null, { dilation: 2, padding: [1, 0] }), [n([1, 2, 5, 5]), n([2, 2, 2, 2])]);
  });
  test('convTranspose2d: kernel 2, stride 2, padding 0, bias (SAM upscaling)', () => {
    gradcheck((x, w, b) => convTranspose2d(x, w, b, { stride: 2 }), [n([2, 3, 2, 3]), n([3, 2, 2, 2]), n([2])]);
  });
  test('convTranspose2d: kernel 3, stride 2, padding 1, outputPadding 1, bias', () => {
    gradcheck((x, w, b) => convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }), [n([1, 2, 3, 2]), n([2, 3, 3, 3]), n([3])]);
  });
});

describe('gradcheck: resize', () => {
  const cases: [string, ResizeOptions][] = [
    ['torch bilinear', { method: 'bilinear', convention: 'torch' }],
    ['torch bicubic', { method: 'bicubic', convention: 'torch' }],
    ['jax bicubic antialias', { method: 'bicubic', convention: 'jax', antialias: true }],
    ['jax bicubic no antialias', { method: 'bicubic', convention: 'jax', antialias: false }],
    ['jax bilinear antialias', { method: 'bilinear', convention: 'jax' }],
  ];
  for (const [name, opts] of cases) {
    test(`${name}, up and down`, () => {
      gradcheck((x) => resize(x, [6, 7], opts), [n([1, 2, 3, 4])]);
      gradcheck((x) => resize(x, [3, 2], opts), [n([1, 2, 5, 4])]);
    });
  }
  test('channels last (…, H, W, C), one axis kept', () => {
    gradcheck((x) => resize(x, [4, 2], { method: 'bicubic', convention: 'jax', channelsLast: true }), [n([2, 3, 5, 2])]);
    gradcheck((x) => resize(x, [3, 6], { method: 'bilinear', convention: 'torch', channelsLast: true }), [n([3, 5, 2])]);
  });
});

describe('gradcheck: activations and norms', () => {
  test('softmax and logSoftmax on the last and a middle axis', () => {
    for (const f of [softmax, logSoftmax]) {
      gradcheck((x) => f(x, -1), [n([2, 3, 4])]);
      gradcheck((x) => f(x, 1), [n([2, 3, 4])]);
    }
  });
  test('layerNorm with weight and bias, rmsNorm with weight', () => {
    gradcheck((x, w, b) => layerNorm(x, w, b), [n([2, 3, 4]), n([4]), n([4])]);
    gradcheck((x) => layerNorm(x, null, null, 1e-3), [n([3, 5])]);
    gradcheck((x, w) => rmsNorm(x, w), [n([2, 3, 4]), n([4])]);
  });
  test('gelu (erf and tanh), silu, quickGelu', () => {
    gradcheck((x) => gelu(x), [u([3, 4], -3, 3)]);
    gradcheck((x) => gelu(x, 'tanh'), [u([3, 4], -3, 3)]);
    gradcheck(silu, [u([3, 4], -3, 3)]);
    gradcheck(quickGelu, [u([3, 4], -3, 3)]);
  });
});

describe('gradcheck: losses', () => {
  test('crossEntropy with labelSmoothing 0.1 and an ignored index', () => {
    gradcheck((l) => crossEntropy(l, i32([2, -100, 0, 4]), { labelSmoothing: 0.1 }), [n([4, 5])]);
    gradcheck((l) => crossEntropy(l, i32([1, 3, 3, 0]), { labelSmoothing: 0.1, ignoreIndex: 3 }), [n([4, 5])]);
    gradcheck((l) => crossEntropy(l, i32([1, 0, 2])), [n([3, 3])]);
  });
  test('l1Loss away from ties', () => {
    const target = u([2, 3]);
    const pred = leaf64(add(target.detach(), awayFromZero([2, 3]).detach()));
    gradcheck(l1Loss, [pred, target]);
  });
});

describe('gradcheck: scaledDotProductAttention', () => {
  // q (B, nh, Tq, hs), k (B, nh, Tk, hs), v (B, nh, Tk, hv)
  const qkv = (Tq: number, Tk: number): Tensor[] => [n([1, 2, Tq, 3]), n([1, 2, Tk, 3]), n([1, 2, Tk, 2])];

  test('no mask', () => gradcheck((q, k, v) => scaledDotProductAttention(q, k, v), qkv(3, 4)));

  test('additive padding mask (last key blocked with −∞)', () => {
    const mask = tensor(Float64Array.from([0, 0, 0, -Infinity, 0, 0, -Infinity, -Infinity]), { shape: [2, 1, 1, 4] });
    gradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { mask }), [n([2, 2, 3, 3]), n([2, 2, 4, 3]), n([2, 2, 4, 2])]);
  });

  test('causal, square and with more keys than queries', () => {
    gradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { causal: true }), qkv(3, 3));
    gradcheck((q, k, v) => scaledDotProductAttention(q, k, v, { causal: true }), qkv(2, 4));
  });

  test('relative-position-bias-like additive mask requiring grad, custom scale', () => {
    gradcheck((q, k, v, bias) => scaledDotProductAttention(q, k, v, { mask: bias, scale: 1 }), [...qkv(3, 4), n([2, 3, 4])]);
    gradcheck((q, k, v, bias) => scaledDotProductAttention(q, k, v, { mask: bias, scale: 0.3, causal: true }), [...qkv(3, 3), n([1, 2, 3, 3])]);
  });

  test('head sizes from transposed views (B, T, nh, hs) → (B, nh, T, hs)', () => {
    gradcheck((q, k, v) => scaledDotProductAttention(transpose(q, 1, 2), transpose(k, 1, 2), transpose(v, 1, 2)),
      [n([1, 3, 2, 3]), n([1, 4, 2, 3]), n([1, 4, 2, 3])]);
  });
});

test('gradcheck: relPosAttention (SAM decomposed relative positions), query grid 2×3, key grid 3×2', () => {
  // q (B, nh, 6, hs), k (B, nh, 6, hs), v (B, nh, 6, hv), relH (H 2, Hk 3, hs), relW (W 3, Wk 2, hs)
  gradcheck((q, k, v, rh, rw) => relPosAttention(q, k, v, rh, rw),
    [n([1, 2, 6, 3]), n([1, 2, 6, 3]), n([1, 2, 6, 2]), n([2, 3, 3]), n([3, 2, 3])]);
});

test('gradcheck: mul by a constant 0-d tensor', () => {
  const c = full([], 1.5, 'float64');
  gradcheck((x) => mul(x, c), [n([2, 2])]);
});

test('gradcheck itself fails on a wrong rule', () => {
  // x·detach(x) has derivative 2x but the graph only sees x·c
  assert.throws(() => gradcheck((x) => mul(x, x.detach()), [u([3], 0.5, 1)]), /analytic .* vs numeric/);
});
