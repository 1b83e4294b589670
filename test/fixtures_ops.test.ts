// Every composite and resize against ../shared/fixtures/dev/ops (made by torch and jax in float64):
// forward values and d Σ(y·R)/dx. Shapes come from the fixture, so any seed or size of it passes.
import { test } from 'node:test';
import {
  Tensor, crossEntropy, gelu, layerNorm, logSoftmax, mul, quickGelu, resize, rmsNorm, silu, softmax, sum,
  type ResizeOptions,
} from '../src/tensor/index.ts';
import { assertClose, loadFixture, need } from './helpers.ts';

const fx = loadFixture('ops');
const leaf = (key: string): Tensor => need(fx, key).detach().contiguous().requireGrad();

/** y = f(x); checks y and d Σ(y·R)/d(inputs) against `<name>.y` and the named gradient keys. */
function checkOp(name: string, f: (x: Tensor) => Tensor, params: Record<string, Tensor> = {}): void {
  const x = leaf('x');
  const y = f(x);
  assertClose(y, need(fx, `${name}.y`), 1e-4, `${name}.y`);
  sum(mul(y, need(fx, 'R'))).backward();
  assertClose(x.grad!, need(fx, `${name}.dx`), 1e-3, `${name}.dx`);
  for (const [key, p] of Object.entries(params)) assertClose(p.grad!, need(fx, `${name}.${key}`), 1e-3, `${name}.${key}`);
}

test('gelu (erf) matches torch', () => checkOp('gelu_erf', (x) => gelu(x)));
test('gelu (tanh) matches torch', () => checkOp('gelu_tanh', (x) => gelu(x, 'tanh')));
test('silu matches torch', () => checkOp('silu', silu));
test('quick_gelu matches torch', () => checkOp('quick_gelu', quickGelu));
test('softmax over the last axis matches torch', () => checkOp('softmax_last', (x) => softmax(x, -1)));
test('softmax over a middle axis matches torch', () => checkOp('softmax_mid', (x) => softmax(x, 1)));
test('log_softmax matches torch', () => checkOp('log_softmax_last', (x) => logSoftmax(x, -1)));

test('layer norm matches torch (eps 1e-6), with weight and bias gradients', () => {
  const w = leaf('ln.w');
  const b = leaf('ln.b');
  checkOp('ln', (x) => layerNorm(x, w, b, 1e-6), { dw: w, db: b });
});

test('RMS norm matches torch (weight ln.w, eps 1e-6)', () => {
  const w = leaf('ln.w');
  checkOp('rms', (x) => rmsNorm(x, w, 1e-6), { dw: w });
});

test('cross-entropy with label smoothing 0.1 over V−1 classes matches torch', () => {
  const logits = leaf('ce.logits');
  const loss = crossEntropy(logits, need(fx, 'ce.target'), { labelSmoothing: 0.1 });
  assertClose(loss.reshape(1), need(fx, 'ce.loss'), 1e-4, 'ce.loss');
  loss.backward();
  assertClose(logits.grad!, need(fx, 'ce.dlogits'), 1e-3, 'ce.dlogits');
});

// keys look like resize.torch_bicubic_27 or resize.jax_bicubic_16_antialias; the size comes from the tensor
const resizeKeys = [...fx.keys()].filter((k) => k.startsWith('resize.') && k !== 'resize.in');
for (const key of resizeKeys) {
  test(`${key} matches the reference`, () => {
    const [convention, method] = key.slice('resize.'.length).split('_') as [ResizeOptions['convention'], ResizeOptions['method']];
    const want = need(fx, key);
    const opts: ResizeOptions = { method, convention, antialias: convention === 'jax' ? true : undefined };
    const got = resize(need(fx, 'resize.in'), [want.shape.at(-2)!, want.shape.at(-1)!], opts);
    assertClose(got, want, 1e-4, key);
  });
}
