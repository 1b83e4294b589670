// timm's Eva with EVA02 settings against ../shared/fixtures/dev/eva02 (made in float64): forward_features (class token
// first, after the final norm) and every parameter gradient of Σ(features·R). The config is the fixture's kwargs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Generator, noGrad, tensor } from '../src/tensor/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import { Eva, EVA02_LARGE_PATCH14_224, EVA02_LARGE_PATCH14_448, type EvaConfig } from '../src/models/eva02.ts';
import { rotaryTables } from '../src/models/rotary_embedding.ts';
import { ConfigError } from '../src/models/config.ts';
import { assertClose, fixturesDir, loadFixture, need, assertGradients } from './helpers.ts';

const dir = join(fixturesDir(), 'eva02');
const kwargs = (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { kwargs: Partial<EvaConfig> }).kwargs;
const io = loadFixture('eva02');

function loadModel(): Eva {
  const model = new Eva(kwargs).eval();
  model.loadStateDict(readSafetensors(join(dir, 'model.safetensors')), { source: 'eva02/model.safetensors' });
  return model;
}

test('forward_features and every parameter gradient match timm', () => {
  const model = loadModel();
  const y = model.forwardFeatures(need(io, 'pixel_values'));
  assertClose(y, need(io, 'features'), 1e-4, 'features');
  y.mul(need(io, 'loss_R')).sum().backward();
  assertGradients(model.namedParameters(), io);
});

test('rotary tables: row bands then column bands, each value twice; the reference grid rescales coordinates', () => {
  // hs 8: bands 1/10000^(k/2) = 1, 1/100; token (row 1, col 2) of a 3×4 grid without a reference grid
  const t = rotaryTables([3, 4], 8);
  const angles = [1, 1, 0.01, 0.01, 2, 2, 0.02, 0.02]; // token 6 = row 1 · 4 + col 2
  assertClose(t.sin.slice(0, 6, 7), tensor([angles.map(Math.sin)]), 1e-7, 'sin');
  assertClose(t.cos.slice(0, 6, 7), tensor([angles.map(Math.cos)]), 1e-7, 'cos');
  // EVA02 at 448: a 32×32 grid with ref 16×16 puts token (2r, 2c) where the 16×16 grid has (r, c)
  const big = rotaryTables([32, 32], 16, [16, 16]);
  const small = rotaryTables([16, 16], 16, [16, 16]);
  for (const [r, c] of [[0, 0], [3, 5], [15, 1]] as const) {
    assertClose(big.sin.slice(0, (2 * r) * 32 + 2 * c, (2 * r) * 32 + 2 * c + 1), small.sin.slice(0, r * 16 + c, r * 16 + c + 1), 1e-7, `token ${r},${c}`);
  }
});

test('the rotation turns each interleaved pair and keeps its length', () => {
  const t = rotaryTables([2, 2], 8);
  const x = tensor([1, 2, 3, 4, 5, 6, 7, 8]).reshape(1, 8);
  assert.deepEqual(x.matmul(t.rot).toArray(), [-2, 1, -4, 3, -6, 5, -8, 7]);
  const q = new Generator(1).normal([2, 4, 8]);
  const turned = q.mul(t.cos).add(q.matmul(t.rot).mul(t.sin)); // applyRotary
  const pairNorms = (v: typeof q): number[] => {
    const a = v.toArray();
    return Array.from({ length: a.length / 2 }, (_, i) => Math.hypot(a[2 * i]!, a[2 * i + 1]!));
  };
  pairNorms(turned).forEach((n, i) => assert.ok(Math.abs(n - pairNorms(q)[i]!) < 1e-5));
});

test('another input size: resampled position table, rebuilt rotary grid, same keys', () => {
  const model = loadModel();
  const p = kwargs.patch_size!;
  const g = Math.floor(kwargs.img_size! / p);
  // a constant patch table stays constant under the antialiased bicubic resample (its rows sum to 1)
  const saved = model.pos_embed.clone();
  model.pos_embed.data.fill(0.25);
  const table = noGrad(() => model.posEmbed([g + 2, g + 1]));
  model.pos_embed.data.set(saved.data);
  assert.deepEqual(table.shape, [1, 1 + (g + 2) * (g + 1), kwargs.embed_dim!]);
  table.toArray().forEach((v) => assert.ok(Math.abs(v - 0.25) < 1e-6));
  assert.equal(noGrad(() => model.posEmbed([g, g])), model.pos_embed);
  const x = new Generator(2).normal([1, 3, (g + 2) * p + 3, (g + 1) * p]);
  assert.deepEqual(noGrad(() => model.forwardFeatures(x)).shape, [1, 1 + (g + 2) * (g + 1), kwargs.embed_dim!]);
});

test('EVA02-L presets and configs that do not fit', () => {
  const mk = (c: Partial<EvaConfig>) => () => new Eva({ ...kwargs, ...c, depth: 0 });
  assert.throws(mk({ qkv_fused: true }), (e: Error) => e instanceof ConfigError && /qkv_fused true/.test(e.message));
  assert.throws(mk({ num_heads: kwargs.embed_dim! + 1 }), (e: Error) => e instanceof ConfigError && /not divisible by num_heads/.test(e.message));
  // the presets at a tenth of the depth: timm's key set for the 224 trunk (fc_norm, no head) and the 448 classifier
  const l224 = new Eva({ ...EVA02_LARGE_PATCH14_224, depth: 1 });
  const keys = [...l224.stateDict().keys()];
  assert.ok(keys.includes('fc_norm.weight') && !keys.includes('norm.weight') && !keys.includes('head.weight'));
  assert.deepEqual(l224.stateDict().get('blocks.0.mlp.fc1_g.weight')!.shape, [2730, 1024]);
  assert.deepEqual(l224.pos_embed.shape, [1, 257, 1024]);
  const l448 = new Eva({ ...EVA02_LARGE_PATCH14_448, depth: 1 });
  assert.deepEqual(l448.pos_embed.shape, [1, 1025, 1024]);
  assert.deepEqual(l448.stateDict().get('head.weight')!.shape, [1000, 1024]);
});
