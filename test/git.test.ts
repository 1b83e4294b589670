// GitForCausalLM against HF transformers (../shared/fixtures/dev/git, made in float64): the image encoder, the visual
// projection, the decoder's last hidden state and logits over [image tokens ; text tokens], every parameter gradient
// of 0.01·Σ logsumexp(logits) + Σ(hidden·R), and greedy ids. Sizes and config come from the fixture's meta.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { full, indexSelect, logSoftmax, noGrad, tensor } from '../src/tensor/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import { GitForCausalLM, type GitConfig } from '../src/models/git.ts';
import { greedy } from '../src/models/generate.ts';
import { ConfigError } from '../src/models/config.ts';
import { assertClose, fixturesDir, loadFixture, need, assertGradients } from './helpers.ts';

const dir = join(fixturesDir(), 'git');
const config = (JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { config: GitConfig }).config;
const io = loadFixture('git');

function loadModel(): GitForCausalLM {
  const model = new GitForCausalLM(config).eval();
  model.loadStateDict(readSafetensors(join(dir, 'model.safetensors')), { source: 'git/model.safetensors' });
  return model;
}

const model = loadModel();
const pixels = need(io, 'pixel_values');
const ids = need(io, 'input_ids');

test('image encoder and visual projection match HF', () => {
  noGrad(() => {
    const vis = model.git.image_encoder.forward(pixels);
    assertClose(vis, need(io, 'image_encoder_last_hidden_state'), 1e-4, 'image_encoder_last_hidden_state');
    assertClose(model.git.visual_projection.forward(vis), need(io, 'visual_projection'), 1e-4, 'visual_projection');
  });
});

test('last hidden state, logits, loss and every parameter gradient match HF', () => {
  model.zeroGrad();
  const { logits, hidden } = model.forward(pixels, ids);
  assertClose(hidden, need(io, 'last_hidden_state'), 1e-4, 'last_hidden_state');
  assertClose(logits, need(io, 'logits'), 1e-4, 'logits');
  // logsumexp(x) = x_0 − log_softmax(x)_0
  const lse = logits.slice(-1, 0, 1).sub(logSoftmax(logits, -1).slice(-1, 0, 1));
  const loss = lse.sum().mul(0.01).add(hidden.mul(need(io, 'loss_R')).sum());
  assertClose(loss.reshape(1), need(io, 'loss'), 1e-4, 'loss');
  loss.backward();
  assertGradients(model.namedParameters(), io);
});

test('greedy decoding from the first token matches HF generate (transformers 5.17 position ids)', () => {
  const want = need(io, 'greedy_ids');
  const session = model.startDecoding({ pixelValues: pixels }, { hfPositions: true });
  const opts = { maxNewTokens: want.shape[1]! - 1, eosTokenId: config.eos_token_id, padTokenId: config.pad_token_id! };
  assert.deepEqual(greedy(session, ids.slice(1, 0, 1), opts).sequences.tolist(), want.tolist());
});

test('a decode session gives the full forward logits step by step, and select() reorders its rows', () => {
  noGrad(() => {
    const full_ = model.forward(pixels, ids).logits; // (B, N + T, V)
    const T = ids.shape[1]!;
    const N = full_.shape[1]! - T;
    const B = ids.shape[0]!;
    const reversed = Array.from({ length: B }, (_, b) => B - 1 - b);
    // room for one text token: the in-place cache grows mid-way
    const session = model.startDecoding({ pixelValues: pixels }, { maxLength: 1 });
    assertClose(session.step(ids.slice(1, 0, 2)), full_.slice(1, N + 1, N + 2).reshape(B, -1), 1e-5, 'prompt step');
    session.select(reversed);
    for (let t = 2; t < T; t++) {
      const got = session.step(indexSelect(ids, 0, tensor(reversed, { dtype: 'int32' })).slice(1, t, t + 1));
      const want = indexSelect(full_.slice(1, N + t, N + t + 1).reshape(B, -1), 0, tensor(reversed, { dtype: 'int32' }));
      assertClose(got, want, 1e-5, `step ${t}`);
    }
  });
});

test('a text attention mask hides a padded token from the text after it, in its own row only', () => {
  noGrad(() => {
    const [B, T] = ids.shape as [number, number];
    const j = Math.floor(T / 2); // row 0's token j is padding
    const mask = full([B, T], 1, 'int32');
    mask.data[j] = 0;
    const masked = model.forward(pixels, ids, { attentionMask: mask }).logits;
    const plain = model.forward(pixels, ids).logits;
    const N = plain.shape[1]! - T;
    // image tokens and text before j never see j; later text of row 0 does unless masked; row 1 has no padding
    assertClose(masked.slice(0, 0, 1).slice(1, 0, N + j), plain.slice(0, 0, 1).slice(1, 0, N + j), 1e-6, 'before the padding');
    assertClose(masked.slice(0, 1), plain.slice(0, 1), 1e-6, 'other rows');
    const after = masked.slice(0, 0, 1).slice(1, N + j + 1).sub(plain.slice(0, 0, 1).slice(1, N + j + 1)).abs().max().item();
    assert.ok(T - j < 2 || after > 1e-6, 'the text after the padding changes');
  });
});

test('inputs that do not fit the config are named', () => {
  const wrong = full([1, 3, pixels.shape[2]! + config.vision_config.patch_size, pixels.shape[3]!], 0);
  assert.throws(() => model.git.encodeImage(wrong), (e: Error) => e instanceof ConfigError && /interpolatePosEncoding/.test(e.message));
  const far = full([1, config.max_position_embeddings + 1], 1, 'int32');
  assert.throws(() => model.git.decode(null, far), (e: Error) => e instanceof ConfigError && /max_position_embeddings/.test(e.message));
  assert.throws(() => new GitForCausalLM({ ...config, num_attention_heads: config.hidden_size + 1 }), (e: Error) =>
    e instanceof ConfigError && e.message.includes(`hidden_size ${config.hidden_size} is not divisible by num_attention_heads ${config.hidden_size + 1}`));
});

test('position embeddings for another input size: bicubic over the patch grid, class row kept', () => {
  const emb = model.git.image_encoder.vision_model.embeddings;
  const { patch_size: p } = config.vision_config;
  const table = emb.position_embedding.weight;
  const [P, D] = table.shape as [number, number];
  const s = Math.round(Math.sqrt(P - 1));
  const saved = table.clone();
  // a patch table linear in (row, col) per channel: v = c·(1 + 2·row − 3·col); cubic convolution reproduces
  // linear functions wherever all four taps fall inside the grid, at the source coordinate (o + ½)·s/n − ½
  for (let r = 0; r < s; r++) for (let c = 0; c < s; c++) for (let d = 0; d < D; d++) table.data[(1 + r * s + c) * D + d] = (d + 1) * (1 + 2 * r - 3 * c);
  try {
    const [gh, gw] = [s + 3, s + 1];
    const out = noGrad(() => emb.interpolatePosEncoding(gh * gw, gh * p, gw * p)); // (1 + gh·gw, D)
    assert.deepEqual(out.shape, [1 + gh * gw, D]);
    assert.deepEqual(out.slice(0, 0, 1).toArray(), saved.slice(0, 0, 1).toArray());
    const src = (o: number, n: number): number => ((o + 0.5) * s) / n - 0.5;
    let checked = 0;
    for (let r = 0; r < gh; r++) {
      for (let c = 0; c < gw; c++) {
        const [y, x] = [src(r, gh), src(c, gw)];
        if (Math.floor(y) < 1 || Math.floor(y) + 2 > s - 1 || Math.floor(x) < 1 || Math.floor(x) + 2 > s - 1) continue;
        for (let d = 0; d < D; d++) {
          const want = (d + 1) * (1 + 2 * y - 3 * x);
          assert.ok(Math.abs(out.data[(1 + r * gw + c) * D + d]! - want) < 1e-4 * Math.max(1, Math.abs(want)), `row ${r} col ${c} ch ${d}`);
        }
        checked++;
      }
    }
    assert.ok(checked > 0 || s < 4, 'some interior position was checked');
    // the whole tower runs at that size
    const big = full([1, 3, gh * p, gw * p], 0.5);
    assert.deepEqual(noGrad(() => model.git.encodeImage(big, { interpolatePosEncoding: true })).shape, [1, 1 + gh * gw, config.hidden_size]);
  } finally {
    table.data.set(saved.data);
  }
});

test('the pad row of the word embeddings gets no gradient (torch padding_idx); dropout only in training', () => {
  const m = loadModel();
  const pad = config.pad_token_id!;
  const withPad = ids.clone();
  withPad.data[1] = pad;
  m.forward(pixels, withPad).hidden.sum().backward();
  const grad = m.git.embeddings.word_embeddings.weight.grad!;
  const C = config.hidden_size;
  const row = (r: number): number[] => Array.from(grad.values().subarray(r * C, (r + 1) * C));
  assert.ok(row(pad).every((v) => v === 0), 'pad row');
  assert.ok(row(ids.data[0]!).some((v) => v !== 0), 'a used row');
  // with dropout in the config, training mode draws masks and eval mode is deterministic
  const dropping = new GitForCausalLM({ ...config, hidden_dropout_prob: 0.5, attention_probs_dropout_prob: 0.5 });
  dropping.loadStateDict(m.stateDict());
  const run = (): number[] => noGrad(() => dropping.forward(pixels, ids).logits.toArray());
  dropping.eval();
  assert.deepEqual(run(), noGrad(() => m.forward(pixels, ids).logits.toArray()));
  dropping.train();
  assert.notDeepEqual(run(), run());
});
