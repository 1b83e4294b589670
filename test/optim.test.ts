// AdamW, gradient clipping and the cosine schedule against torch (test/data/optim_cases.json, made by
// scripts/reference/make_optim_cases.py): 6 steps of a tanh regression with clipping, decay exemption and a 0.5 lr scale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AdamW, clipGradNorm } from '../src/nn/optim.ts';
import { cosineWithWarmup } from '../src/nn/schedule.ts';
import { Tensor, tensor, matmul } from '../src/tensor/index.ts';

interface Cases {
  init: { w: number[]; b: number[] };
  x: number[];
  steps: { mult: number; loss: number; norm: number; w: number[]; b: number[] }[];
}
const cases: Cases = JSON.parse(readFileSync(new URL('./data/optim_cases.json', import.meta.url), 'utf8'));

const near = (a: number[], e: number[], tol: number, what: string) =>
  a.forEach((v, i) => assert.ok(Math.abs(v - e[i]) <= tol * Math.max(1, Math.abs(e[i])), `${what}[${i}]: ${v} vs ${e[i]}`));

test('AdamW + clip_grad_norm_ + cosine warm-up follow torch step by step', () => {
  const w = new Tensor(Float32Array.from(cases.init.w), [3, 4]).requireGrad();
  const b = new Tensor(Float32Array.from(cases.init.b), [4]).requireGrad();
  const x = new Tensor(Float32Array.from(cases.x), [5, 3]);
  const opt = new AdamW([['layer.weight', w], ['layer.bias', b]], {
    lr: 0.05, betas: [0.9, 0.95], eps: 1e-6, weightDecay: 0.1, noDecay: ['*.bias'], lrScale: (k) => (k.endsWith('bias') ? 0.5 : 1),
  });
  cases.steps.forEach((ref, step) => {
    const mult = cosineWithWarmup(step, 2, 6);
    assert.ok(Math.abs(mult - ref.mult) < 1e-12, `schedule at ${step}: ${mult} vs ${ref.mult}`);
    opt.lr = 0.05 * mult;
    opt.zeroGrad();
    const loss = matmul(x, w).add(b).tanh().pow(2).sum().mul(10);
    loss.backward();
    near([loss.item()], [ref.loss], 1e-5, `loss at ${step}`);
    near([clipGradNorm([w, b], 1)], [ref.norm], 1e-5, `norm at ${step}`);
    opt.update();
    near(w.toArray(), ref.w, 2e-5, `w after step ${step}`);
    near(b.toArray(), ref.b, 2e-5, `b after step ${step}`);
  });
});

test('optimizer state round-trips and resumes identically', () => {
  const make = () => tensor([1, -2, 3]).requireGrad();
  const run = (p: Tensor, opt: AdamW, n: number) => {
    for (let i = 0; i < n; i++) {
      opt.zeroGrad();
      p.pow(3).sum().backward();
      opt.update();
    }
  };
  const a = make();
  const optA = new AdamW([['p', a]], { lr: 0.1 });
  run(a, optA, 5);
  const b = make();
  const optB = new AdamW([['p', b]], { lr: 0.1 });
  run(b, optB, 2);
  const saved = optB.stateDict();
  const c = new Tensor(Float32Array.from(b.values()), [3]).requireGrad();
  const optC = new AdamW([['p', c]], { lr: 0.1 });
  optC.loadStateDict({ step: saved.step, tensors: new Map([...saved.tensors].map(([k, t]) => [k, t.clone()])) });
  run(c, optC, 3);
  assert.deepEqual(c.toArray(), a.toArray());
  assert.throws(() => optC.loadStateDict({ step: 1, tensors: new Map() }, 'ckpt/optim.safetensors'), /ckpt\/optim\.safetensors: exp_avg\.p is missing/);
});

test('cosine schedule: warm-up is linear, the end reaches the floor', () => {
  assert.equal(cosineWithWarmup(0, 10, 110), 0);
  assert.equal(cosineWithWarmup(5, 10, 110), 0.5);
  assert.equal(cosineWithWarmup(10, 10, 110), 1);
  assert.ok(Math.abs(cosineWithWarmup(60, 10, 110) - 0.5) < 1e-12); // half-way through the cosine: (1 + cos π/2) / 2
  assert.equal(cosineWithWarmup(110, 10, 110, 0.1), 0.1);
  assert.equal(cosineWithWarmup(500, 10, 110, 0.1), 0.1);
});

test('a parameter that first gets a gradient at a later update takes its own first Adam step, as torch counts per parameter', () => {
  const a = tensor([1]).requireGrad();
  const b = tensor([1]).requireGrad();
  const opt = new AdamW([['a', a], ['b', b]], { lr: 0.1, weightDecay: 0 });
  a.pow(2).sum().backward();
  opt.update(); // b has no gradient: untouched, and its step count stays 0
  assert.deepEqual(b.toArray(), [1]);
  opt.zeroGrad();
  a.add(b).pow(2).sum().backward();
  opt.update();
  // Adam's first step for b moves it by lr · m̂ / (√v̂ + eps) = lr · g / (|g| + eps) ≈ lr
  assert.ok(Math.abs(b.toArray()[0] - 0.9) < 1e-6, `b = ${b.toArray()[0]}`);
  const resumed = new AdamW([['a', a.detach().requireGrad()], ['b', b.detach().requireGrad()]], { lr: 0.1 });
  resumed.loadStateDict(opt.stateDict());
  assert.equal(resumed.stateDict().tensors.get('step.b')!.item(), 1);
});
