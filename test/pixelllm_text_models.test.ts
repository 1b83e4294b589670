// PixelLLM's three language models behind one interface (T5 encoder-decoder, GIT-style decoder, Llama), on small
// random configs with each preset's structure: teacher forcing equals incremental decoding position by position, a
// row's padding never changes another row, LoRA trains exactly q and v of the attentions the paper names and its
// step-0 model is the base model, and every preset's structure builds and runs image → visual tokens → text → points.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, Tensor, concat, full, noGrad, sum } from '../src/tensor/index.ts';
import { manualSeed } from '../src/nn/index.ts';
import { detectFamilies } from '../src/nn/families.ts';
import { PixelLLM } from '../src/models/pixelllm/pixelllm.ts';
import { buildTextModel } from '../src/models/pixelllm/text_models.ts';
import type { TextConfig } from '../src/models/pixelllm/config.ts';
import { fusedChannels, fusedGrid, textWidth } from '../src/models/pixelllm/config.ts';
import type { PixelTextModel, TextInputs } from '../src/models/pixelllm/text_model.ts';
import { ConfigError } from '../src/models/config.ts';
import { assertClose } from './helpers.ts';
import { SMALL_GIT, SMALL_LLAMA, SMALL_T5, SMALL_VARIANTS, randomTextInputs } from './pixelllm_small.ts';

const TEXT_CONFIGS: Record<string, TextConfig> = {
  t5: { kind: 't5', config: SMALL_T5, lora: null },
  git: { kind: 'git', config: SMALL_GIT },
  llama: { kind: 'llama', config: SMALL_LLAMA, lora: null },
};

// rows of different prompt and text lengths, so each is padded differently
const ROWS = [{ prompt: 2, text: 3 }, { prompt: 4, text: 5 }];

function setup(name: string, seed = 1): { model: PixelTextModel; inputs: TextInputs } {
  manualSeed(seed);
  const model = buildTextModel(TEXT_CONFIGS[name]!, new Generator(seed)).eval();
  const inputs = randomTextInputs(new Generator(seed + 10), ROWS, { N: 3, C: model.width, V: model.vocabSize, bos: model.bosId, eos: model.eosId, pad: model.padId });
  return { model, inputs };
}

/** Row b of every input, trimmed to that row's own prompt and text lengths (no padding at all). */
function row(inputs: TextInputs, b: number): TextInputs {
  const { prompt, text } = ROWS[b]!;
  const pick = (t: Tensor, n: number) => t.slice(0, b, b + 1).slice(1, 0, n).contiguous();
  return {
    visual: inputs.visual.slice(0, b, b + 1).contiguous(),
    promptIds: pick(inputs.promptIds, prompt + 1), promptMask: pick(inputs.promptMask, prompt + 1),
    tokens: pick(inputs.tokens, text + 2), tokenMask: pick(inputs.tokenMask, text + 2),
  };
}

for (const name of Object.keys(TEXT_CONFIGS)) {
  test(`${name}: teacher-forced logits at every text position equal a decode session's, step by step`, () => {
    const { model, inputs } = setup(name);
    const hidden = noGrad(() => model.forward(inputs)); // (B, T, C)
    assert.deepEqual(hidden.shape, [2, inputs.tokens.shape[1], model.width]);
    const logits = noGrad(() => model.logits(hidden)); // (B, T, V)
    ROWS.forEach(({ text }, b) => {
      const one = row(inputs, b);
      const { session, first } = model.startDecoding(one.visual, one.promptIds, one.promptMask, text + 2);
      // the first step ends with the text's first token: BOS (T5: the decoder start id)
      assert.equal(first.toArray().at(-1), one.tokens.toArray()[0]);
      let step = session.step(first); // (1, V): the prediction from token 0
      for (let i = 0; i < text + 2; i++) {
        assertClose(step.reshape(-1), logits.slice(0, b, b + 1).slice(1, i, i + 1).reshape(-1), 1e-4, `${name} row ${b} position ${i}`);
        if (i + 1 < text + 2) step = session.step(one.tokens.slice(1, i + 1, i + 2).contiguous());
      }
    });
  });

  test(`${name}: a row's output does not depend on the padding the batch gives it`, () => {
    const { model, inputs } = setup(name, 2);
    const batched = noGrad(() => model.forward(inputs));
    ROWS.forEach(({ text }, b) => {
      const alone = noGrad(() => model.forward(row(inputs, b))); // (1, text + 2, C)
      assertClose(batched.slice(0, b, b + 1).slice(1, 0, text + 2), alone, 1e-4, `${name} row ${b}`);
    });
  });
}

test('decoder-only sessions decode rows that share one prompt length, and say so otherwise', () => {
  for (const name of ['git', 'llama']) {
    const { model, inputs } = setup(name);
    assert.throws(() => model.startDecoding(inputs.visual, inputs.promptIds, inputs.promptMask, 4),
      (e: Error) => e instanceof ConfigError && /prompts differ in length \(3, 5\)/.test(e.message), name);
  }
});

test('T5 ids: the text starts with the decoder start id (the pad id), ends with EOS 1; Llama pads with EOS', () => {
  const t5 = setup('t5').model;
  assert.deepEqual([t5.bosId, t5.eosId, t5.padId], [0, 1, 0]);
  const llama = setup('llama').model;
  assert.deepEqual([llama.bosId, llama.eosId, llama.padId], [1, 2, 2]);
  assert.throws(() => buildTextModel({ kind: 'llama', config: { ...SMALL_LLAMA, eos_token_id: null }, lora: null }, new Generator(0)),
    (e: Error) => e instanceof ConfigError && e.message.includes('eos_token_id'));
});

/** The attention projections LoRA wraps: the keys of its trainable factors, without the factor suffix. */
const wrapped = (m: PixelLLM): string[] =>
  [...new Set(m.trainableParameters().map(([k]) => k).filter((k) => k.startsWith('textual.')).map((k) => k.replace(/\.lora_[AB]\.weight$/, '')))].sort();

test('T5 LoRA (the paper: q and v of encoder self-, decoder self- and cross-attention): only the adapters of textual train', () => {
  const model = new PixelLLM(SMALL_VARIANTS['t5-xl']!);
  const expected = [0, 1].flatMap((i) => ['q', 'v'].flatMap((p) => [
    `textual.encoder.block.${i}.layer.0.SelfAttention.${p}`, `textual.decoder.block.${i}.layer.0.SelfAttention.${p}`, `textual.decoder.block.${i}.layer.1.EncDecAttention.${p}`,
  ])).sort();
  assert.deepEqual(wrapped(model), expected);
  const textTrainable = model.trainableParameters().filter(([k]) => k.startsWith('textual.'));
  assert.ok(textTrainable.every(([k]) => /\.lora_[AB]\.weight$/.test(k)), 'the T5 base is frozen');
  assert.equal(textTrainable.length, 2 * expected.length);
  // the rest of PixelLLM is left to the training config (here: all trainable)
  const trainable = new Set(model.trainableParameters().map(([k]) => k));
  for (const key of ['visual_project_layers.linear.weight', 'prompt_adapter.query_embed', 'point_predictor.norm.weight']) assert.ok(trainable.has(key), `${key} trains`);
});

test('Llama LoRA on q_proj and v_proj wraps every layer', () => {
  const model = new PixelLLM(SMALL_VARIANTS.llama!);
  assert.deepEqual(wrapped(model), [0, 1].flatMap((i) => [`textual.model.layers.${i}.self_attn.q_proj`, `textual.model.layers.${i}.self_attn.v_proj`]));
});

for (const name of ['t5-xl', 'llama']) {
  test(`${name}: the LoRA model at step 0 computes the base model, and a gradient step reaches only the adapters of textual`, () => {
    const config = SMALL_VARIANTS[name]!;
    const text = config.text as Extract<TextConfig, { kind: 't5' | 'llama' }>;
    const base = new PixelLLM({ ...config, text: { ...text, lora: null } }).eval();
    const lora = new PixelLLM(config).eval();
    lora.loadStateDict(base.stateDict(), { only: (k) => !/\.lora_[AB]\.weight$/.test(k) });
    const W = textWidth(config.text);
    const inputs = randomTextInputs(new Generator(5), ROWS, { N: 4, C: W, V: base.textual.vocabSize, bos: base.textual.bosId, eos: base.textual.eosId, pad: base.textual.padId });
    const want = noGrad(() => base.text(inputs));
    const got = lora.text(inputs);
    assertClose(got, want, 1e-6, `${name} step-0 LoRA hidden`);
    sum(lora.textual.logits(got)).backward();
    for (const [key, p] of lora.namedParameters()) {
      if (!key.startsWith('textual.')) continue;
      if (/\.lora_B\.weight$/.test(key)) assert.ok(p.grad && p.grad.values().some((v) => v !== 0), `${key} gets a gradient`);
      else if (!/\.lora_A\.weight$/.test(key)) assert.equal(p.grad, null, `${key} is frozen`);
    }
  });
}

for (const [name, config] of Object.entries(SMALL_VARIANTS)) {
  test(`${name}: PixelLLM builds and runs image → fused map → visual tokens → text → points and masks`, () => {
    manualSeed(3);
    const model = new PixelLLM(config).eval();
    const rng = new Generator(4);
    const B = 2;
    const S = config.image_size;
    const images = Object.fromEntries(model.normalizations.map((n) => [n, rng.normal([B, 3, S, S])]));
    noGrad(() => {
      const features = model.encode(images);
      const g = fusedGrid(config);
      assert.deepEqual(features.fused.shape, [B, g, g, fusedChannels(config)]);
      const boxes = new Tensor(Float32Array.from([0, 0, S, S, 4, 8, S / 2, S - 3]), [B, 4]);
      const visual = model.visualTokens(features, boxes);
      const W = textWidth(config.text);
      assert.deepEqual(visual.shape, [B, config.prompt_adapter.num_queries + (config.region_tokens ?? 0) ** 2, W]);
      const t = model.textual;
      const inputs = { ...randomTextInputs(rng, ROWS, { N: 1, C: W, V: t.vocabSize, bos: t.bosId, eos: t.eosId, pad: t.padId }), visual };
      const hidden = model.text(inputs);
      const T = inputs.tokens.shape[1]!;
      assert.deepEqual(hidden.shape, [B, T, W]);
      assert.deepEqual(t.logits(hidden).shape, [B, T, t.vocabSize]);
      assert.deepEqual(model.points(hidden, features, new Tensor(Float32Array.from([S, S, S, S - 5]), [B, 2])).shape, [B, T, 8]);
      const { logits, iou } = model.masks(features, visual, hidden, inputs.tokenMask, boxes);
      const h = features.sam.shape[2]!;
      assert.deepEqual([...logits.shape, ...iou.shape], [B, 4 * h, 4 * h, B]);
      assert.ok(hidden.values().every(Number.isFinite) && logits.values().every(Number.isFinite));
      // and it decodes: a greedy step from the session gives one distribution per row
      const one = { promptIds: inputs.promptIds.slice(0, 0, 1).contiguous(), promptMask: inputs.promptMask.slice(0, 0, 1).contiguous() };
      const { session, first } = t.startDecoding(visual.slice(0, 0, 1).contiguous(), one.promptIds, one.promptMask, 4);
      assert.deepEqual(session.step(first).shape, [1, t.vocabSize]);
    });
    const keys = [...model.stateDict().keys()];
    assert.equal(detectFamilies(keys)[0]?.name, 'pixelllm', 'inspect recognises the checkpoint');
    // region_tokens. is this project's addition (no reference prefix exists for it)
    const bad = keys.filter((k) => !/^(git_backbone|sam_backbone|prompt_encoder|prompt_adapter|visual_project_layers|textual|point_predictor|mask_adapter|mask_decoder|box_decoder|region_tokens)\./.test(k));
    assert.deepEqual(bad, [], 'every key is under a reference prefix');
  });
}

test('the T5 visual tokens and prompt share one encoder mask: padding the prompt changes nothing', () => {
  const { model, inputs } = setup('t5', 7);
  const one = row(inputs, 0);
  const padded = {
    ...one,
    promptIds: concat([one.promptIds, full([1, 3], 0, 'int32')], 1),
    promptMask: concat([one.promptMask, new Tensor(new Uint8Array(3), [1, 3])], 1),
  };
  assertClose(noGrad(() => model.forward(padded)), noGrad(() => model.forward(one)), 1e-5, 't5 padded prompt');
});
