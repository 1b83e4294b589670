// Float32 ops take the addon's kernels for the layouts they cover (same shape, bias rows, per-row columns, scalars,
// either operand the small one) and the generic loops otherwise; every layout must agree with float64 arithmetic.
import { test } from 'node:test';
import { Generator, Tensor, add, div, erf, exp, gelu, log, mul, neg, abs, rsqrt, sigmoid, sqrt, sub, tanh } from '../src/tensor/index.ts';
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
