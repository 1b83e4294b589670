// Float32 ops take the addon's kernels for the layouts they cover (same shape, bias rows, per-row columns, scalars,
// either operand the small one) and the generic loops otherwise; every layout must agree with float64 arithmetic.
import { test } from 'node:test';
import {
  Generator, Tensor, add, div, erf, exp, gelu, log, mul, neg, abs, rsqrt, sigmoid, sqrt, sub, tanh,
  conv2d, convTranspose2d, scaledDotProductAttention,
} from '../src/tensor/index.ts';
import { assertClose } from './helpers.ts';

const rng = new Generator(3);
const shapes: [number[], number[]][] = [
  [[4, 5, 6], [4, 5, 6]], // same
  [[4, 5, 6], [6]], // bias row
  [[4, 5, 6], [5, 6]], // trailing block
  [[4, 5, 6], [4, 1, 1]], // one value per leading block
  [[4, 5, 6], [4, 5, 1]], // one value per row
  [[4, 5, 6], [1]], // scalar tensor
  [[4, 5, 6], [4, 1, 6]], // neither: the generic loop
  [[6], [4, 5, 6]], // the small operand on the left
  [[4, 5, 1], [4, 5, 6]],
  [[3, 1], [1, 7]], // both broadcast
  [[2, 100003], [100003]], // large enough for the threaded kernels
];

for (const [sa, sb] of shapes) {
  test(`float32 add/sub/mul/div of ${JSON.stringify(sa)} and ${JSON.stringify(sb)} agree with float64`, () => {
    const a = rng.normal(sa);
    const b = rng.uniform(sb, 0.5, 2); // away from 0 for div
    for (const op of [add, sub, mul, div]) {
      assertClose(op(a, b), op(a.to('float64'), b.to('float64')).to('float32'), 1e-6, `${op.name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
    }
  });
}

test('float32 binary ops on views and with number operands agree with float64', () => {
  const a = rng.normal([6, 8]);
  const t = a.transpose(); // not contiguous: the generic loop
  for (const op of [add, sub, mul, div]) {
    assertClose(op(t, 1.5), op(t.to('float64'), 1.5).to('float32'), 1e-6, `${op.name} view, number`);
    assertClose(op(2.5, a.slice(0, 1, 5)), op(2.5, a.slice(0, 1, 5).to('float64')).to('float32'), 1e-6, `${op.name} number, slice`);
  }
});

test('float32 unary ops and GELU agree with float64 over a wide range', () => {
  const x = rng.uniform([3, 4099], -9, 9);
  const pos = rng.uniform([3, 4099], 1e-3, 50);
  const cases: [string, (t: Tensor) => Tensor, Tensor][] = [
    ['exp', exp, x], ['tanh', tanh, x], ['erf', erf, x], ['sigmoid', sigmoid, x], ['neg', neg, x], ['abs', abs, x],
    ['log', log, pos], ['sqrt', sqrt, pos], ['rsqrt', rsqrt, pos],
    ['gelu', (t) => gelu(t), x], ['gelu tanh', (t) => gelu(t, 'tanh'), x],
  ];
  for (const [name, f, input] of cases) assertClose(f(input), f(input.to('float64')).to('float32'), 2e-6, name);
});

test('float32 GELU gradients agree with float64', () => {
  for (const approximate of ['none', 'tanh'] as const) {
    const x32 = rng.uniform([5, 301], -6, 6).requireGrad();
    const x64 = x32.to('float64').detach().requireGrad();
    gelu(x32, approximate).sum().backward();
    gelu(x64, approximate).sum().backward();
    assertClose(x32.grad!, x64.grad!.to('float32'), 2e-6, `gelu ${approximate} grad`);
  }
});

test('float32 matmul agrees with float64 for every layout the kernel reads in place or copies', () => {
  const a = rng.normal([3, 5, 7]);
  const b = rng.normal([3, 7, 4]);
  const cases: [string, Tensor, Tensor][] = [
    ['batched', a, b],
    ['transposed A view', rng.normal([3, 7, 5]).transpose(), b],
    ['transposed B view', a, rng.normal([3, 4, 7]).transpose()],
    ['broadcast batch', rng.normal([2, 1, 5, 7]), rng.normal([3, 7, 4])],
    ['expanded batch', rng.normal([1, 5, 7]).expand(3, 5, 7), b],
    ['stepped slice', rng.normal([3, 10, 7]).slice(1, 0, 10, 2), b],
    ['3-D times 2-D', a, rng.normal([7, 4])],
    ['one row (GEMV)', rng.normal([1, 300]), rng.normal([300, 257])],
    ['one column', rng.normal([257, 300]), rng.normal([300, 1])],
    ['vector · matrix', rng.normal([7]), rng.normal([7, 4])],
    ['matrix · vector', rng.normal([5, 7]), rng.normal([7])],
    ['large enough to thread', rng.normal([130, 257]), rng.normal([257, 129])],
  ];
  for (const [name, x, y] of cases) {
    assertClose(x.matmul(y), x.to('float64').matmul(y.to('float64')).to('float32'), 1e-5, `matmul ${name}`);
  }
});

test('float32 conv2d, conv_transpose2d and attention agree with float64', () => {
  const x = rng.normal([2, 4, 9, 9]);
  const w = rng.normal([6, 2, 3, 3]);
  const wt = rng.normal([4, 3, 2, 2]);
  const f64 = (t: Tensor) => t.to('float64');
  assertClose(conv2d(x, w, null, { stride: 2, padding: 1, groups: 2 }),
    conv2d(f64(x), f64(w), null, { stride: 2, padding: 1, groups: 2 }).to('float32'), 1e-5, 'conv2d');
  assertClose(convTranspose2d(x, wt, null, { stride: 2 }), convTranspose2d(f64(x), f64(wt), null, { stride: 2 }).to('float32'), 1e-5, 'convTranspose2d');
  const [q, k, v] = [rng.normal([2, 3, 5, 8]), rng.normal([2, 3, 6, 8]), rng.normal([2, 3, 6, 4])];
  const bias = rng.normal([3, 5, 6]);
  assertClose(scaledDotProductAttention(q, k, v, { mask: bias, causal: true }),
    scaledDotProductAttention(f64(q), f64(k), f64(v), { mask: f64(bias), causal: true }).to('float32'), 1e-5, 'attention');
});
