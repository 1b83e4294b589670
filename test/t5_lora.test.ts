// T5 with peft's LoRA on q and v of every attention (fixture `t5_lora`): the adapter loads under peft's key names
// over the base checkpoint, outputs match, and the gradients reach exactly the LoRA parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crossEntropy, mul, noGrad, sum } from '../src/tensor/index.ts';
import { applyLora, fromPeftKey, loadLora, mergeLora } from '../src/nn/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import { T5ForConditionalGeneration, t5StateDict, type T5Config } from '../src/models/t5.ts';
import { assertClose, fixturesDir, loadFixture, need, assertGradients } from './helpers.ts';

interface LoraMeta {
  base: string;
  lora: { r: number; lora_alpha: number; target_modules: string[] };
}

function loadLoraT5(): { model: T5ForConditionalGeneration; config: T5Config } {
  const dir = join(fixturesDir(), 't5_lora');
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as LoraMeta;
  const baseDir = join(dir, meta.base, '..');
  const config = JSON.parse(readFileSync(join(baseDir, 'meta.json'), 'utf8')).config as T5Config;
  const model = new T5ForConditionalGeneration(config);
  model.loadStateDict(t5StateDict(readSafetensors(join(dir, meta.base)), model), { source: meta.base });
  applyLora(model, { targets: meta.lora.target_modules, r: meta.lora.r, alpha: meta.lora.lora_alpha });
  loadLora(model, readSafetensors(join(dir, 'model.safetensors')), 't5_lora/model.safetensors');
  return { model: model.eval(), config };
}

test('t5_lora: outputs and the LoRA gradients match peft', () => {
  const fx = loadFixture('t5_lora');
  const { model, config } = loadLoraT5();
  const out = model.forward(need(fx, 'inputs_embeds'), need(fx, 'attention_mask'), need(fx, 'decoder_input_ids'));
  assertClose(out.decoderLastHiddenState, need(fx, 'decoder_last_hidden_state'), 1e-4, 'decoder_last_hidden_state');
  assertClose(out.logits, need(fx, 'logits'), 1e-4, 'logits');
  const labels = need(fx, 'labels');
  const loss = crossEntropy(out.logits.reshape(labels.size, config.vocab_size), labels.reshape(labels.size))
    .add(sum(mul(out.decoderLastHiddenState, need(fx, 'loss_R'))));
  assertClose(loss.reshape(1), need(fx, 'loss'), 1e-4, 'loss');
  loss.backward();
  // exactly the LoRA factors train, each against peft's gradient under peft's key
  assertGradients(model.trainableParameters(), fx, 1e-3, fromPeftKey);
  for (const [key, p] of model.namedParameters()) if (!key.includes('lora_')) assert.equal(p.grad, null, `${key} is frozen`);
});

test('t5_lora: merging the adapters into q and v changes no output', () => {
  const fx = loadFixture('t5_lora');
  const { model } = loadLoraT5();
  noGrad(() => {
    mergeLora(model);
    assert.ok(!model.namedParameters().some(([k]) => k.includes('lora_')));
    const out = model.forward(need(fx, 'inputs_embeds'), need(fx, 'attention_mask'), need(fx, 'decoder_input_ids'));
    assertClose(out.logits, need(fx, 'logits'), 1e-4, 'merged logits');
  });
});
