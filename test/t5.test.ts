// T5ForConditionalGeneration against HF's (fixture `t5`): every encoder hidden state, the decoder's last hidden
// state after its final norm, logits, every gradient of the fixture loss, greedy ids; the relative-position buckets
// against values worked out from HF's formula; presets; the cached decoder against the teacher-forced pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, full, mul, noGrad, sum, tensor, Tensor } from '../src/tensor/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import {
  FLAN_T5_BASE, FLAN_T5_LARGE, FLAN_T5_SMALL, FLAN_T5_XL, T5ConfigError, T5ForConditionalGeneration, relativePositionBucket, t5StateDict,
  type T5Config,
} from '../src/models/t5.ts';
import { greedy } from '../src/models/generate.ts';
import { assertClose, fixturesDir, loadFixture, need, assertGradients } from './helpers.ts';

function loadT5(): { model: T5ForConditionalGeneration; config: T5Config } {
  const dir = join(fixturesDir(), 't5');
  const config = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).config as T5Config;
  const model = new T5ForConditionalGeneration(config);
  model.loadStateDict(t5StateDict(readSafetensors(join(dir, 'model.safetensors')), model), { source: 't5/model.safetensors' });
  return { model: model.eval(), config };
}

test('t5: encoder hidden states, decoder output, logits and every gradient match HF', () => {
  const fx = loadFixture('t5');
  const { model, config } = loadT5();
  const out = model.forward(need(fx, 'inputs_embeds'), need(fx, 'attention_mask'), need(fx, 'decoder_input_ids'));
  const nStates = [...fx.keys()].filter((k) => k.startsWith('encoder_hidden_states.')).length;
  assert.equal(out.encoderHiddenStates.length, nStates);
  out.encoderHiddenStates.forEach((h, i) => assertClose(h, need(fx, `encoder_hidden_states.${i}`), 1e-4, `encoder_hidden_states.${i}`));
  assertClose(out.encoderLastHiddenState, need(fx, 'encoder_last_hidden_state'), 1e-4, 'encoder_last_hidden_state');
  assertClose(out.decoderLastHiddenState, need(fx, 'decoder_last_hidden_state'), 1e-4, 'decoder_last_hidden_state');
  assertClose(out.logits, need(fx, 'logits'), 1e-4, 'logits');
  // cross_entropy(logits, labels) + sum(decoder_last_hidden_state · R)
  const labels = need(fx, 'labels');
  const loss = crossEntropy(out.logits.reshape(labels.size, config.vocab_size), labels.reshape(labels.size))
    .add(sum(mul(out.decoderLastHiddenState, need(fx, 'loss_R'))));
  assertClose(loss.reshape(1), need(fx, 'loss'), 1e-4, 'loss');
  loss.backward();
  assertGradients(model.namedParameters(), fx);
});

test('t5: greedy decoding over the encoded inputs equals HF generate', () => {
  const fx = loadFixture('t5');
  const { model, config } = loadT5();
  const expected = need(fx, 'greedy_ids');
  const [B, L] = expected.shape as [number, number];
  const session = model.startDecoding({ inputsEmbeds: need(fx, 'inputs_embeds'), attentionMask: need(fx, 'attention_mask'), maxLength: L });
  const start = full([B, 1], config.decoder_start_token_id ?? 0, 'int32');
  const { sequences } = greedy(session, start, { maxNewTokens: L - 1, eosTokenId: config.eos_token_id!, padTokenId: config.pad_token_id! });
  assert.deepEqual(sequences.tolist(), expected.tolist());
});

test('t5: the cached decoder step by step gives the teacher-forced logits', () => {
  const fx = loadFixture('t5');
  const { model } = loadT5();
  const ids = need(fx, 'decoder_input_ids');
  const T = ids.shape[1]!;
  noGrad(() => {
    const full = model.forward(need(fx, 'inputs_embeds'), need(fx, 'attention_mask'), ids).logits; // (B, T, V)
    const session = model.startDecoding({ inputsEmbeds: need(fx, 'inputs_embeds'), attentionMask: need(fx, 'attention_mask'), maxLength: 2 });
    assertClose(session.step(ids.slice(1, 0, 2).contiguous()), full.slice(1, 1, 2).squeeze(1), 1e-4, 'first two tokens');
    for (let t = 2; t < T; t++) assertClose(session.step(ids.slice(1, t, t + 1).contiguous()), full.slice(1, t, t + 1).squeeze(1), 1e-4, `step ${t}`);
  });
});

test('t5: relative position buckets', () => {
  // bidirectional, 32 buckets, max distance 128: 16 per direction, 8 exact; beyond, 8 + ⌊ln(d/8)/ln(16)·8⌋ capped at 15
  const bi = (r: number): number => relativePositionBucket(r, true, 32, 128);
  assert.deepEqual([0, 1, 7, -1, -7].map(bi), [0, 17, 23, 1, 7]); // key after the query: +16
  assert.deepEqual([8, 15, 16, 31, 32, 63, 64, 127, 128, 1000].map((d) => bi(-d)), [8, 9, 10, 11, 12, 13, 14, 15, 15, 15]);
  // causal, 32 buckets: keys after the query all fall in bucket 0; 16 exact, then 16 + ⌊ln(d/16)/ln(8)·16⌋ capped at 31
  const uni = (r: number): number => relativePositionBucket(r, false, 32, 128);
  assert.deepEqual([5, 0, -1, -15, -16, -32, -64, -127, -128, -500].map(uni), [0, 0, 1, 15, 16, 21, 26, 31, 31, 31]);
});

test('t5: presets build with HF keys; tied aliases are checked, bad configs name the value', () => {
  // the weight shapes of the hub checkpoints google/flan-t5-small and -base (one block each, a tiny vocabulary)
  for (const [preset, q, wi] of [[FLAN_T5_SMALL, [384, 512], [1024, 512]], [FLAN_T5_BASE, [768, 768], [2048, 768]]] as const) {
    const m = new T5ForConditionalGeneration({ ...preset, num_layers: 1, num_decoder_layers: 1, vocab_size: 8 });
    const st = m.stateDict();
    assert.deepEqual(st.get('decoder.block.0.layer.1.EncDecAttention.q.weight')!.shape, q);
    assert.deepEqual(st.get('encoder.block.0.layer.1.DenseReluDense.wi_0.weight')!.shape, wi);
    assert.deepEqual(st.get('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight')!.shape, [32, preset.num_heads]);
  }
  assert.deepEqual([FLAN_T5_LARGE, FLAN_T5_XL].map((c) => [c.num_heads * c.d_kv, c.d_model, c.d_ff, c.num_layers]), [[1024, 1024, 2816, 24], [2048, 2048, 5120, 24]]);
  const small = new T5ForConditionalGeneration({ ...FLAN_T5_SMALL, vocab_size: 16, num_layers: 2, num_decoder_layers: 1, d_model: 8, d_kv: 4, d_ff: 8, num_heads: 2 });
  const keys = [...small.stateDict().keys()];
  for (const k of ['shared.weight', 'lm_head.weight', 'encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight',
    'encoder.block.1.layer.1.DenseReluDense.wi_1.weight', 'decoder.block.0.layer.1.EncDecAttention.o.weight',
    'decoder.block.0.layer.2.layer_norm.weight', 'decoder.final_layer_norm.weight']) assert.ok(keys.includes(k), k);
  assert.ok(!keys.includes('encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight'), 'only the first block has the table');
  const tied = new T5ForConditionalGeneration({ ...FLAN_T5_SMALL, tie_word_embeddings: true, vocab_size: 4, num_layers: 1, d_model: 4, d_kv: 2, d_ff: 4, num_heads: 2 });
  const state = new Map(tied.stateDict());
  state.set('lm_head.weight', new Tensor(new Float32Array(16).fill(7), [4, 4]));
  assert.throws(() => t5StateDict(state, tied), /lm_head.weight differs from shared.weight/);
  assert.throws(() => new T5ForConditionalGeneration({ ...FLAN_T5_SMALL, feed_forward_proj: 'gated-swish' }), T5ConfigError);
  // T5 1.0 configs (tied, no scale_decoder_outputs key) scale the decoder output by d_model^−½ before the shared table:
  // h = [1, 2, 0, 0] against shared row 0 = [1, 1, 1, 1]: (1 + 2) · 4^−½ = 1.5
  const legacy = { ...FLAN_T5_SMALL, tie_word_embeddings: true, vocab_size: 1, num_layers: 1, d_model: 4, d_kv: 2, d_ff: 4, num_heads: 2 };
  const t5v1 = new T5ForConditionalGeneration(legacy);
  t5v1.shared.weight.data.fill(1);
  assert.deepEqual(t5v1.logits(tensor([[1, 2, 0, 0]])).toArray(), [1.5]);
  const unscaled = new T5ForConditionalGeneration({ ...legacy, scale_decoder_outputs: false }); // transformers 5's key wins
  unscaled.shared.weight.data.fill(1);
  assert.deepEqual(unscaled.logits(tensor([[1, 2, 0, 0]])).toArray(), [3]);
});
