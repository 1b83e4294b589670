// Shared test tools: the fixture folder, tensor comparison that reports where it failed, float64 gradient checks.
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor, Generator, mul, sum, noGrad } from '../src/tensor/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';

const repo = resolve(fileURLToPath(import.meta.url), '../..');

/** The reference fixtures: $PIXELLLM_FIXTURES, by default ../shared/fixtures/dev beside the repository. */
export function fixturesDir(): string {
  const dir = process.env.PIXELLLM_FIXTURES ?? join(repo, '../shared/fixtures/dev');
  assert.ok(existsSync(dir), `fixture folder ${dir} not found; set PIXELLLM_FIXTURES to the folder made by make_fixtures.py`);
  return dir;
}

export function loadFixture(name: string, file = 'io.safetensors'): Map<string, Tensor> {
  return readSafetensors(join(fixturesDir(), name, file));
}

/** The tensor stored under `key`, or a failure naming the key and the file. */
export function need(fx: Map<string, Tensor>, key: string): Tensor {
  const t = fx.get(key);
  assert.ok(t, `fixture has no tensor ${key} (has: ${[...fx.keys()].join(', ')})`);
  return t;
}

/**
 * Asserts |actual − expected| ≤ tol · scale element-wise, scale = max(floor, max finite |expected|) (equal infinities and NaN
 * match): relative to the tensor's own scale, with a small floor for tensors that are zero in exact arithmetic (the
 * gradient of a key bias) where only float32 noise remains. On failure reports the max difference, where it is, and
 * the first differing values.
 */
export function assertClose(actual: Tensor, expected: Tensor, tol = 1e-4, label = 'tensor', floor = 1e-4): void {
  assert.deepEqual([...actual.shape], [...expected.shape], `${label}: shape ${JSON.stringify(actual.shape)} vs expected ${JSON.stringify(expected.shape)}`);
  const a = actual.values();
  const e = expected.values();
  let scale = floor;
  for (let i = 0; i < e.length; i++) if (Number.isFinite(e[i]!)) scale = Math.max(scale, Math.abs(e[i]!));
  let worst = -1;
  let worstDiff = 0;
  const bad: string[] = [];
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(a[i]! - e[i]!);
    if (!(d <= tol * scale) && !(a[i] === e[i]) && !(Number.isNaN(a[i]!) && Number.isNaN(e[i]!))) {
      if (bad.length < 5) bad.push(`[${unravel(i, expected.shape)}] ${a[i]} vs ${e[i]}`);
      if (!(d <= worstDiff)) {
        worstDiff = d;
        worst = i;
      }
    }
  }
  assert.ok(worst < 0, `${label}: max |diff| ${worstDiff} at [${unravel(worst, expected.shape)}] exceeds ${tol} × scale ${scale}; first differing: ${bad.join('; ')}`);
}

function unravel(i: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return idx.join(', ');
}

/** A float64 copy of t that requires grad. */
export const leaf64 = (t: Tensor): Tensor => t.to('float64').detach().contiguous().requireGrad();

/**
 * Checks the analytic gradient of L = Σ f(inputs) · R (R fixed random) against central differences in float64,
 * for every input that requires grad. Inputs must be float64 leaves (see leaf64). Central differences with
 * eps 1e-6 are exact to ~1e-9 here, so tol 1e-6 (relative to max(1, |numeric|)) catches any wrong rule.
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { eps?: number; tol?: number; seed?: number } = {}): void {
  const eps = opts.eps ?? 1e-6;
  const tol = opts.tol ?? 1e-6;
  for (const x of inputs) assert.ok(x.dtype !== 'float32', 'gradcheck: use float64 inputs (leaf64) or integer index inputs');
  const out = f(...inputs);
  const R = new Generator(opts.seed ?? 7).normal(out.shape, 0, 1, 'float64');
  inputs.forEach((x) => (x.grad = null));
  sum(mul(out, R)).backward();
  const loss = (): number => noGrad(() => sum(mul(f(...inputs), R)).item());
  inputs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    assert.ok(x.grad, `gradcheck: input ${k} got no gradient`);
    const g = x.grad.values();
    const data = x.data as Float64Array;
    for (let i = 0; i < x.size; i++) {
      const keep = data[i]!;
      data[i] = keep + eps;
      const up = loss();
      data[i] = keep - eps;
      const down = loss();
      data[i] = keep;
      const numeric = (up - down) / (2 * eps);
      const scale = Math.max(1, Math.abs(numeric));
      assert.ok(Math.abs(numeric - g[i]!) <= tol * scale,
        `gradcheck: input ${k} element [${unravel(i, x.shape)}]: analytic ${g[i]} vs numeric ${numeric}`);
    }
  });
}

/**
 * Every `grad.<key>` of a fixture against the parameter `<key>` (after `rename`, e.g. peft's names), and one fixture
 * gradient for each of `params` (the model's parameters, or the trainable ones).
 */
export function assertGradients(params: [string, Tensor][], fixture: Map<string, Tensor>, tol = 1e-3, rename = (key: string) => key): void {
  const byKey = new Map(params);
  const gradKeys = [...fixture.keys()].filter((k) => k.startsWith('grad.'));
  assert.deepEqual(gradKeys.map((k) => rename(k.slice('grad.'.length))).sort(), [...byKey.keys()].sort(), 'one fixture gradient for each parameter');
  for (const key of gradKeys) {
    const p = byKey.get(rename(key.slice('grad.'.length)))!;
    assert.ok(p.grad, `no gradient for ${key}`);
    assertClose(p.grad, need(fixture, key), tol, key);
  }
}
