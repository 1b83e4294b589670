// LlamaForCausalLM against HF's (fixture `llama`): hidden states, logits, every gradient of the fixture loss, an
// inputs_embeds prefix, greedy ids through the KV cache, and the cached path against the full forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { concat, crossEntropy, mul, noGrad, sum } from '../src/tensor/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import { LlamaForCausalLM, LlamaConfigError, SMOLLM2_135M, TINYLLAMA_1_1B, type LlamaConfig } from '../src/models/llama.ts';
import { greedy } from '../src/models/generate.ts';
import { assertClose, fixturesDir, loadFixture, need, assertGradients } from './helpers.ts';

function loadModel(): { model: LlamaForCausalLM; config: LlamaConfig } {
  const dir = join(fixturesDir(), 'llama');
  const config = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).config as LlamaConfig;
  const model = new LlamaForCausalLM(config);
  model.loadStateDict(readSafetensors(join(dir, 'model.safetensors')), { source: 'llama/model.safetensors' });
  return { model: model.eval(), config };
}

test('llama: last hidden state, logits and every gradient match HF', () => {
  const fx = loadFixture('llama');
  const { model, config } = loadModel();
  const ids = need(fx, 'input_ids');
  const [B, T] = ids.shape as [number, number];
  const out = model.forward(ids);
  assertClose(out.lastHiddenState, need(fx, 'last_hidden_state'), 1e-4, 'last_hidden_state');
  assertClose(out.logits, need(fx, 'logits'), 1e-4, 'logits');
  // cross_entropy(logits[:, :-1], ids[:, 1:]) + sum(last_hidden_state · R)
  const ce = crossEntropy(out.logits.slice(1, 0, T - 1).reshape(B * (T - 1), config.vocab_size), ids.slice(1, 1).reshape(B * (T - 1)));
  const loss = ce.add(sum(mul(out.lastHiddenState, need(fx, 'loss_R'))));
  assertClose(loss.reshape(1), need(fx, 'loss'), 1e-4, 'loss');
  loss.backward();
  assertGradients(model.namedParameters(), fx);
});

test('llama: an inputs_embeds prefix ahead of the token embeddings', () => {
  const fx = loadFixture('llama');
  const { model } = loadModel();
  const h = noGrad(() => model.forward(concat([need(fx, 'prefix_embeds'), model.embed(need(fx, 'input_ids'))], 1)).lastHiddenState);
  assertClose(h, need(fx, 'prefix.last_hidden_state'), 1e-4, 'prefix.last_hidden_state');
});

test('llama: greedy decoding through the KV cache equals HF generate', () => {
  const fx = loadFixture('llama');
  const { model, config } = loadModel();
  const expected = need(fx, 'greedy_ids');
  const ids = need(fx, 'input_ids');
  const B = ids.shape[0]!;
  const promptLen = 3; // the fixture generates after ids[:, :3]
  const maxNewTokens = expected.shape[1]! - promptLen;
  const eos = config.eos_token_id as number;
  const session = model.startDecoding({ batch: B, maxLength: expected.shape[1]! });
  // HF pads finished rows with eos when the model has no pad token
  const { sequences } = greedy(session, ids.slice(1, 0, promptLen).contiguous(), { maxNewTokens, eosTokenId: eos, padTokenId: config.pad_token_id ?? eos });
  assert.deepEqual(sequences.tolist(), expected.tolist());
});

test('llama: decoding step by step over the cache gives the full forward logits', () => {
  const fx = loadFixture('llama');
  const { model } = loadModel();
  const ids = need(fx, 'input_ids');
  const [B, T] = ids.shape as [number, number];
  const prefix = need(fx, 'prefix_embeds');
  const P = prefix.shape[1]!;
  noGrad(() => {
    const full = model.forward(concat([prefix, model.embed(ids)], 1)).logits; // (B, P + T, V)
    // a tiny initial capacity makes the cache grow mid-way
    const session = model.startDecoding({ batch: B, prefixEmbeds: prefix, maxLength: 1 });
    const first = session.step(ids.slice(1, 0, 2).contiguous()); // prefix and two tokens in one call
    assertClose(first, full.slice(1, P + 1, P + 2).squeeze(1), 1e-4, 'after the prompt');
    for (let t = 2; t < T; t++) {
      const logits = session.step(ids.slice(1, t, t + 1).contiguous());
      assertClose(logits, full.slice(1, P + t, P + t + 1).squeeze(1), 1e-4, `step ${t}`);
    }
  });
});

test('llama: presets build, inconsistent configs name the values', () => {
  for (const preset of [TINYLLAMA_1_1B, SMOLLM2_135M]) {
    const c = { ...preset, num_hidden_layers: 1, vocab_size: 8, intermediate_size: 8 };
    const m = new LlamaForCausalLM(c);
    assert.equal(m.lm_head === null, c.tie_word_embeddings === true);
    assert.ok(m.stateDict().has('model.layers.0.self_attn.k_proj.weight'));
  }
  assert.equal(new LlamaForCausalLM({ ...SMOLLM2_135M, num_hidden_layers: 1, vocab_size: 8, intermediate_size: 8 })
    .model.layers[0]!.self_attn.k_proj.weight.shape[0], 3 * 64);
  assert.throws(() => new LlamaForCausalLM({ ...TINYLLAMA_1_1B, num_key_value_heads: 5 }), /num_attention_heads 32 is not a multiple of num_key_value_heads 5/);
  assert.throws(() => new LlamaForCausalLM({ ...TINYLLAMA_1_1B, hidden_size: 100 }), LlamaConfigError);
  assert.throws(() => new LlamaForCausalLM({ ...TINYLLAMA_1_1B, rope_scaling: { rope_type: 'yarn' } }), /rope type 'yarn'/);
});
