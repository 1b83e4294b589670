// SAM against HF transformers' SamModel (../shared/fixtures/dev/sam, computed in float64): image embeddings,
// positional embeddings, prompt embeddings for points and boxes, masks and IoU scores, and every gradient of
// sum(image_embeddings · loss_R). The config comes from the fixture's meta.json, so any seed or size passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Generator, Tensor, conv2d, gelu, layerNorm, noGrad, pad, resize, sum, tensor } from '../src/tensor/index.ts';
import { StateDictError } from '../src/nn/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import {
  SamModel, SamConfigError, SamPromptError, SamVisionLayer, SAM_VIT_B, SAM_VIT_H, samConfig, relativePositions,
  windowPartition, windowUnpartition, type SamConfig,
} from '../src/models/sam/index.ts';
import { assertClose, fixturesDir, loadFixture, need } from './helpers.ts';

const dir = join(fixturesDir(), 'sam');
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { config: Parameters<typeof samConfig>[0] };
const config = samConfig(meta.config, 'sam/meta.json');
const weights = readSafetensors(join(dir, 'model.safetensors'));
const io = loadFixture('sam');

function loaded(cfg: SamConfig = config, state = weights): SamModel {
  const m = new SamModel(cfg);
  m.loadStateDict(state, { source: 'sam/model.safetensors' });
  return m.eval();
}
const model = loaded();

test('image embeddings match the reference', () => {
  const emb = noGrad(() => model.getImageEmbeddings(need(io, 'pixel_values')));
  assertClose(emb, need(io, 'image_embeddings'), 1e-4, 'image_embeddings');
});

test('image-wide positional embeddings match the reference', () => {
  assertClose(model.getImageWidePositionalEmbeddings(), need(io, 'image_positional_embeddings'), 1e-4, 'image_positional_embeddings');
});

test('prompt embeddings of points (labels 1/0/−1, padding point appended) and of boxes match', () => {
  noGrad(() => {
    const points = model.getPromptEmbeddings({ points: need(io, 'input_points'), labels: need(io, 'input_labels') });
    assertClose(points.sparse!, need(io, 'points.sparse_embeddings'), 1e-4, 'points.sparse_embeddings');
    assertClose(points.dense, need(io, 'points.dense_embeddings'), 1e-4, 'points.dense_embeddings');
    const boxes = model.getPromptEmbeddings({ boxes: need(io, 'input_boxes') });
    assertClose(boxes.sparse!, need(io, 'boxes.sparse_embeddings'), 1e-4, 'boxes.sparse_embeddings');
    assertClose(boxes.dense, need(io, 'boxes.dense_embeddings'), 1e-4, 'boxes.dense_embeddings');
  });
});

test('masks and IoU scores: multimask output for points, single mask for boxes', () => {
  noGrad(() => {
    const imageEmbeddings = need(io, 'image_embeddings');
    const p = model.forward({ imageEmbeddings, points: need(io, 'input_points'), labels: need(io, 'input_labels'), multimaskOutput: true });
    assertClose(p.masks, need(io, 'points.pred_masks'), 1e-4, 'points.pred_masks');
    assertClose(p.iouScores, need(io, 'points.iou_scores'), 1e-4, 'points.iou_scores');
    const b = model.forward({ imageEmbeddings, boxes: need(io, 'input_boxes'), multimaskOutput: false });
    assertClose(b.masks, need(io, 'boxes.pred_masks'), 1e-4, 'boxes.pred_masks');
    assertClose(b.iouScores, need(io, 'boxes.iou_scores'), 1e-4, 'boxes.iou_scores');
  });
});

test('every gradient of sum(image_embeddings · loss_R) w.r.t. the vision encoder matches', () => {
  const m = loaded();
  const emb = m.getImageEmbeddings(need(io, 'pixel_values'));
  sum(emb.mul(need(io, 'loss_R'))).backward();
  const params = new Map(m.namedParameters());
  const gradKeys = [...io.keys()].filter((k) => k.startsWith('grad.'));
  assert.ok(gradKeys.length > 0, 'the fixture has no grad.* tensors');
  for (const key of gradKeys) {
    const p = params.get(key.slice('grad.'.length));
    assert.ok(p, `${key}: the model has no parameter ${key.slice('grad.'.length)}`);
    assert.ok(p.grad, `${key}: no gradient reached the parameter`);
    assertClose(p.grad, need(io, key), 1e-3, key);
  }
  // and the fixture covers every vision-encoder parameter
  const covered = new Set(gradKeys.map((k) => k.slice('grad.'.length)));
  assert.deepEqual([...params.keys()].filter((k) => k.startsWith('vision_encoder.') && !covered.has(k)), []);
});

test('a point prompt without labels counts as foreground, as the reference defaults it', () => {
  noGrad(() => {
    const imageEmbeddings = need(io, 'image_embeddings');
    const points = need(io, 'input_points');
    const implicit = model.forward({ imageEmbeddings, points });
    const ones = new Tensor(new Int32Array(points.size / 2).fill(1), points.shape.slice(0, 3));
    assertClose(implicit.masks, model.forward({ imageEmbeddings, points, labels: ones }).masks, 0, 'masks');
  });
});

test('the tied positional-embedding keys: either one loads, both are saved', () => {
  for (const drop of ['shared_image_embedding.positional_embedding', 'prompt_encoder.shared_embedding.positional_embedding']) {
    const state = new Map(weights);
    state.delete(drop);
    const m = loaded(config, state);
    assertClose(m.getImageWidePositionalEmbeddings(), need(io, 'image_positional_embeddings'), 1e-4, `without ${drop}`);
    assert.ok(m.stateDict().has(drop));
  }
  // one tensor, one parameter: an optimiser must not see it twice
  assert.equal(model.namedParameters().filter(([k]) => k.endsWith('positional_embedding')).length, 1);
});

test('strict loading names a missing key and a wrong shape', () => {
  const state = new Map(weights);
  state.delete('mask_decoder.iou_token.weight');
  state.set('vision_encoder.pos_embed', new Tensor(new Float32Array(4), [1, 1, 1, 4]));
  assert.throws(() => loaded(config, state), (e: Error) => e instanceof StateDictError
    && e.message.includes('missing keys (1): mask_decoder.iou_token.weight') && e.message.includes('vision_encoder.pos_embed: expected'));
});

test('bad prompts and configs are user errors that name the values', () => {
  const imageEmbeddings = need(io, 'image_embeddings');
  assert.throws(() => model.forward({ imageEmbeddings, boxes: tensor([[1, 2, 3]]) }), SamPromptError);
  assert.throws(() => model.getPromptEmbeddings({ points: need(io, 'input_points') }), /without labels/);
  assert.throws(() => samConfig({ vision_config: { hidden_size: 100, num_attention_heads: 3 } }),
    (e: Error) => e instanceof SamConfigError && e.message.includes('hidden_size is 100; not divisible by num_attention_heads 3'));
});

test('presets have the public checkpoints\' shapes (facebook/sam-vit-base and -huge)', () => {
  // sam-vit-base: MLP 3072, a 64×64 grid, window tables 2·14 − 1 = 27 rows, global tables 2·64 − 1 = 127 rows of 768/12
  assert.equal(SAM_VIT_B.vision_config.mlp_dim, 3072);
  assert.equal(SAM_VIT_B.prompt_encoder_config.image_embedding_size, 64);
  assert.deepEqual(SAM_VIT_H.vision_config.global_attn_indexes, [7, 15, 23, 31]);
  assert.equal(SAM_VIT_H.vision_config.mlp_dim, 5120);
});

// ---- inputs of another size than the checkpoint's ----

test('relative positions at the table\'s own size are rows i − j + size − 1 (no interpolation)', () => {
  const table = new Generator(1).normal([7, 3]); // size 4: 2·4 − 1 rows
  const got = relativePositions(4, 4, table); // (4, 4, 3)
  const rows = table.toArray();
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
    assert.deepEqual(got.slice(0, i, i + 1).slice(1, j, j + 1).toArray(), rows.slice((i - j + 3) * 3, (i - j + 4) * 3));
  }
});

test('a table of another length is resized as jax.image.resize linear (antialiased) does', () => {
  // 7 rows → 2·2 − 1 = 3 rows; the table holds its row number. Output row o samples at (o + ½)·7/3 − ½ with a
  // triangle widened by 7/3: row 1 is centred on 3, so symmetric weights give exactly 3. Row 0 samples at 2/3:
  // weights 1 − |2/3 − i|/(7/3) for i = 0, 1, 2 are 5/7, 6/7, 3/7 (i = 3 is 0), so (6/7 + 6/7)/(14/7) = 6/7.
  const table = new Tensor(Float32Array.from([0, 1, 2, 3, 4, 5, 6]), [7, 1]);
  const got = relativePositions(2, 2, table).reshape(4).toArray(); // pairs (0,0), (0,1), (1,0), (1,1) read rows 1, 0, 2, 1
  const row2 = 6 - 6 / 7; // by symmetry with row 0
  [3, 6 / 7, row2, 3].forEach((want, i) => assert.ok(Math.abs(got[i]! - want) < 1e-5, `pair ${i}: ${got[i]} vs ${want}`));
});

test('windowed attention on a grid that is not a multiple of the window equals attention in each zero-padded window', () => {
  const ws = config.vision_config.window_size;
  if (ws === 0) return; // an all-global fixture has no windows
  const layer = model.vision_encoder.layers.find((l) => l.windowSize > 0)!;
  const H = ws * 2 + 1;
  const W = ws + 2;
  const x = new Generator(3).normal([2, H, W, config.vision_config.hidden_size]);
  noGrad(() => {
    const got = windowUnpartition(layer.attn.forward(windowPartition(x, ws)), ws, H, W);
    for (let i = 0; i < H; i += ws) for (let j = 0; j < W; j += ws) {
      const [h, w] = [Math.min(ws, H - i), Math.min(ws, W - j)];
      const win = pad(x.slice(1, i, i + h).slice(2, j, j + w), [0, 0, 0, ws - w, 0, ws - h]); // (2, ws, ws, C)
      const want = layer.attn.forward(win).slice(1, 0, h).slice(2, 0, w);
      assertClose(got.slice(1, i, i + h).slice(2, j, j + w), want, 1e-5, `window at ${i},${j}`);
    }
  });
});

test('another input size equals the checkpoint converted to that size (pos_embed bicubic, global tables linear)', () => {
  const v = config.vision_config;
  const grid = v.image_size / v.patch_size + 1; // one more cell: odd sizes and window padding
  const size = grid * v.patch_size;
  const pixels = new Generator(5).normal([1, v.num_channels, size, size]);
  const converted = samConfig({ ...meta.config, vision_config: { ...meta.config!.vision_config, image_size: size } });
  const state = new Map(weights);
  const pos = weights.get('vision_encoder.pos_embed')!.permute(0, 3, 1, 2);
  state.set('vision_encoder.pos_embed', resize(pos, [grid, grid], { method: 'bicubic', convention: 'jax' }).permute(0, 2, 3, 1).contiguous());
  for (const i of v.global_attn_indexes) {
    for (const axis of ['h', 'w']) {
      const key = `vision_encoder.layers.${i}.attn.rel_pos_${axis}`;
      const t = weights.get(key)!;
      state.set(key, resize(t, [2 * grid - 1, t.shape[1]!], { method: 'bilinear', convention: 'jax' }));
    }
  }
  noGrad(() => {
    const got = model.getImageEmbeddings(pixels);
    assert.deepEqual(got.shape, [1, v.output_channels, grid, grid]);
    assertClose(got, loaded(converted, state).getImageEmbeddings(pixels), 1e-5, 'embeddings at another size');
  });
});

test('SamVisionLayer keeps the (B, H, W, C) shape in windowed and global form', () => {
  for (const l of model.vision_encoder.layers as SamVisionLayer[]) {
    const x = new Generator(9).normal([1, 3, 5, config.vision_config.hidden_size]);
    assert.deepEqual(noGrad(() => l.forward(x)).shape, [1, 3, 5, config.vision_config.hidden_size]);
  }
});

test('patch embedding equals the strided convolution, pixels past the last whole patch dropped', () => {
  const { num_channels: c, patch_size: p } = config.vision_config;
  const pixels = new Generator(11).normal([2, c, 2 * p + 3, 3 * p + 1]);
  const { weight, bias } = model.vision_encoder.patch_embed.projection;
  const want = conv2d(pixels, weight, bias, { stride: p }).permute(0, 2, 3, 1); // (B, 2, 3, C)
  assertClose(noGrad(() => model.vision_encoder.patch_embed.forward(pixels)), want, 1e-5, 'patch embeddings');
});

test('masks from embeddings of another grid size use that grid for the positional and no-mask embeddings', () => {
  const v = config.vision_config;
  const grid = v.image_size / v.patch_size + 1;
  const pixels = new Generator(7).normal([1, v.num_channels, grid * v.patch_size, grid * v.patch_size]);
  const out = noGrad(() => model.forward({ pixels, boxes: tensor([[[1, 2, 20, 30]]]), multimaskOutput: false }));
  assert.deepEqual(out.masks.shape, [1, 1, 1, 4 * grid, 4 * grid]);
  assert.ok(out.masks.toArray().every(Number.isFinite));
});

test('a mask prompt goes through conv 2×2/2 → LayerNorm2d → GELU → conv 2×2/2 → LayerNorm2d → GELU → conv 1×1', () => {
  const size = config.prompt_encoder_config.image_embedding_size;
  const masks = new Generator(8).normal([2, 1, 4 * size, 4 * size]);
  const me = model.prompt_encoder.mask_embed;
  const eps = config.prompt_encoder_config.layer_norm_eps;
  // LayerNorm2d normalises each pixel over its channels: channels last, layer norm, channels first again
  const ln2d = (x: Tensor, w: Tensor, b: Tensor) => layerNorm(x.permute(0, 2, 3, 1), w, b, eps).permute(0, 3, 1, 2);
  const h = gelu(ln2d(conv2d(masks, me.conv1.weight, me.conv1.bias, { stride: 2 }), me.layer_norm1.weight!, me.layer_norm1.bias!));
  const g = gelu(ln2d(conv2d(h, me.conv2.weight, me.conv2.bias, { stride: 2 }), me.layer_norm2.weight!, me.layer_norm2.bias!));
  const want = conv2d(g, me.conv3.weight, me.conv3.bias);
  const { dense } = noGrad(() => model.getPromptEmbeddings({ masks, boxes: need(io, 'input_boxes') }));
  assert.deepEqual(dense.shape, [2, config.prompt_encoder_config.hidden_size, size, size]);
  assertClose(dense, want, 1e-5, 'dense embeddings of a mask');
});
