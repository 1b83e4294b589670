// Public backbone checkpoints into PixelLLM with only their prefix changed: state dicts saved under the public key
// names (timm EVA02, HF SamModel, HF T5, git-base, BERT) load into the right sub-modules tensor for tensor; the
// reference-made fixture files load too; the report says what was loaded, left out and left untouched; a wrong shape,
// a missing key or the wrong kind of file is an error that names it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '../src/tensor/index.ts';
import { StateDictError } from '../src/nn/index.ts';
import { readSafetensors, writeSafetensors } from '../src/nn/safetensors.ts';
import { Eva, evaConfig, type EvaConfig } from '../src/models/eva02.ts';
import { SamModel } from '../src/models/sam/sam_model.ts';
import { samConfig } from '../src/models/sam/config.ts';
import { T5ForConditionalGeneration, type T5Config } from '../src/models/t5.ts';
import { GitForCausalLM, GIT_BASE, type GitConfig } from '../src/models/git.ts';
import { CLIP_VIT_B16 } from '../src/models/clip_vision.ts';
import { PixelLLM } from '../src/models/pixelllm/pixelllm.ts';
import { samAt, type PixelLLMConfig } from '../src/models/pixelllm/config.ts';
import { loadPublicBackbones, type BackboneLoadReport } from '../src/models/pixelllm/public_weights.ts';
import { fixturesDir } from './helpers.ts';
import { SMALL_GIT, SMALL_T5, SMALL_VARIANTS } from './pixelllm_small.ts';

let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'pixelllm-public-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

function save(name: string, state: Map<string, Tensor>): string {
  const path = join(dir, name);
  writeSafetensors(path, state);
  return path;
}

/** Every tensor of `file` (as mapped) equals the model's. */
function assertLoaded(model: PixelLLM, file: Map<string, Tensor>, map: (key: string) => string | null): void {
  const own = model.stateDict();
  for (const [key, t] of file) {
    const target = map(key);
    if (target === null) continue;
    const mine = own.get(target);
    assert.ok(mine, `${key} → ${target} is a model key`);
    assert.deepEqual([...mine.values()], [...t.values()], `${target} holds ${key}`);
  }
}

const ignoredKeys = (r: BackboneLoadReport): string[] => r.ignored.map((i) => i.key).sort();

test('timm EVA02, HF SAM and HF T5 files load under git_backbone., sam_backbone. / prompt_encoder. / mask_decoder., textual.', () => {
  const config = SMALL_VARIANTS['t5-xl']!;
  const eva = new Eva({ ...config.eva!, num_classes: 5 }).stateDict(); // with the classifier a timm file may carry
  const sam = new SamModel(config.sam).stateDict(); // both tied copies of the Fourier frequencies, as HF saves them
  const t5 = new T5ForConditionalGeneration(SMALL_T5).stateDict();
  t5.set('encoder.embed_tokens.weight', t5.get('shared.weight')!); // HF's alias of the shared table
  const files = { eva: save('eva.safetensors', eva), sam: save('sam.safetensors', sam), text: save('t5.safetensors', t5) };
  const model = new PixelLLM(config);
  const before = model.stateDict().get('textual.shared.weight')!.values().slice();
  const report = loadPublicBackbones(model, files);
  assert.notDeepEqual([...before], [...t5.get('shared.weight')!.values()], 'the model started from other values');
  assertLoaded(model, eva, (k) => (k.startsWith('head.') ? null : `git_backbone.${k}`));
  assertLoaded(model, sam, (k) => k.replace(/^vision_encoder\./, 'sam_backbone.').replace(/^shared_image_embedding\./, 'prompt_encoder.shared_embedding.'));
  assertLoaded(model, t5, (k) => `textual.${k.replace(/^encoder\.embed_tokens\./, 'shared.')}`);
  assert.deepEqual(ignoredKeys(report), ['encoder.embed_tokens.weight', 'head.bias', 'head.weight', 'shared_image_embedding.positional_embedding']);
  assert.equal(report.loaded.length, eva.size - 2 + sam.size - 1 + t5.size - 1);
  // what no file fills: PixelLLM's own modules and the LoRA adapters
  const backbone = /^(git_backbone|sam_backbone|prompt_encoder|mask_decoder)\.|^textual\.(?!.*\.lora_[AB]\.weight$)/;
  assert.deepEqual(report.untouched.filter((k) => backbone.test(k)), []);
  assert.ok(report.untouched.includes('prompt_adapter.query_embed') && report.untouched.includes('textual.encoder.block.0.layer.0.SelfAttention.q.lora_B.weight'));
});

test("git-base's decoder loads into textual. and its image tower is left out", () => {
  const vision = { ...CLIP_VIT_B16, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, image_size: 32 };
  const gitConfig: GitConfig = { ...GIT_BASE, ...SMALL_GIT, vision_config: vision };
  const git = new GitForCausalLM(gitConfig).stateDict();
  const model = new PixelLLM(SMALL_VARIANTS.bert!);
  const report = loadPublicBackbones(model, { text: save('git.safetensors', git) });
  assertLoaded(model, git, (k) => (k.startsWith('git.image_encoder.') || k.startsWith('git.visual_projection.') ? null : `textual.${k.replace(/^git\./, '')}`));
  assert.ok(report.ignored.length > 0 && report.ignored.every((i) => /^git\.(image_encoder|visual_projection)\./.test(i.key)));
  assert.deepEqual(report.untouched.filter((k) => k.startsWith('textual.')), []);
});

test("BERT's embeddings and first layers load into the GIT decoder; the rest is reported", () => {
  // a 3-layer BERT (BertForPreTraining's keys, TF-era gamma/beta in the embeddings) for a 2-layer decoder
  const deeper = new GitForCausalLM({ ...GIT_BASE, ...SMALL_GIT, num_hidden_layers: 3, vision_config: { ...CLIP_VIT_B16, hidden_size: 16, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, image_size: 32 } });
  const bert = new Map<string, Tensor>();
  for (const [k, t] of deeper.stateDict()) {
    if (k.startsWith('git.embeddings.') || k.startsWith('git.encoder.')) bert.set(k.replace(/^git\./, 'bert.').replace('embeddings.LayerNorm.weight', 'embeddings.LayerNorm.gamma').replace('embeddings.LayerNorm.bias', 'embeddings.LayerNorm.beta'), t);
  }
  const extra = deeper.stateDict();
  bert.set('bert.embeddings.token_type_embeddings.weight', extra.get('git.embeddings.position_embeddings.weight')!.slice(0, 0, 2).contiguous());
  bert.set('bert.pooler.dense.weight', extra.get('git.encoder.layer.0.output.dense.weight')!.slice(1, 0, 16).contiguous());
  bert.set('cls.predictions.bias', extra.get('output.bias')!);
  const model = new PixelLLM(SMALL_VARIANTS.cpu!);
  const report = loadPublicBackbones(model, { text: save('bert.safetensors', bert) });
  assertLoaded(model, bert, (k) => {
    const key = k.replace(/^bert\./, '').replace(/gamma$/, 'weight').replace(/beta$/, 'bias');
    return /^(embeddings\.(word|position)_embeddings|embeddings\.LayerNorm|encoder\.layer\.[01]\.)/.test(key) ? `textual.${key}` : null;
  });
  const ignored = ignoredKeys(report);
  assert.ok(ignored.includes('bert.embeddings.token_type_embeddings.weight') && ignored.includes('bert.pooler.dense.weight') && ignored.includes('cls.predictions.bias'));
  assert.ok(ignored.filter((k) => k.startsWith('bert.encoder.layer.')).every((k) => k.startsWith('bert.encoder.layer.2.')));
  assert.deepEqual(report.untouched.filter((k) => k.startsWith('textual.')).sort(), ['textual.output.bias', 'textual.output.weight']);
});

test('the reference-made fixture files (timm, transformers) load unchanged', () => {
  const fx = fixturesDir();
  const meta = (name: string) => JSON.parse(readFileSync(join(fx, name, 'meta.json'), 'utf8'));
  const eva: EvaConfig = evaConfig(meta('eva02').kwargs);
  const samCfg = samConfig(meta('sam').config);
  const S = 56; // a multiple of EVA's 14 and SAM's 8
  const base = SMALL_VARIANTS['t5-xl']!;
  const config: PixelLLMConfig = {
    ...base, image_size: S, eva, sam: samAt(samCfg, S), mask_adapter: { ...base.mask_adapter, hidden_size: samCfg.vision_config.output_channels },
    text: { kind: 't5', config: meta('t5').config as T5Config, lora: { r: 2, alpha: 4, targets: ['q', 'v'] } },
  };
  const files = { eva: join(fx, 'eva02', 'model.safetensors'), sam: join(fx, 'sam', 'model.safetensors'), text: join(fx, 't5', 'model.safetensors') };
  const model = new PixelLLM(config);
  const report = loadPublicBackbones(model, files);
  assertLoaded(model, readSafetensors(files.eva), (k) => `git_backbone.${k}`);
  assertLoaded(model, readSafetensors(files.sam), (k) => k.replace(/^vision_encoder\./, 'sam_backbone.').replace(/^shared_image_embedding\./, 'prompt_encoder.shared_embedding.'));
  // a tied T5: lm_head.weight and the embed_tokens copies are the shared table, checked and loaded once
  assertLoaded(model, readSafetensors(files.text), (k) => `textual.${k.replace(/^(encoder|decoder)\.embed_tokens\.|^lm_head\./, 'shared.')}`);
  assert.deepEqual(ignoredKeys(report), ['decoder.embed_tokens.weight', 'encoder.embed_tokens.weight', 'lm_head.weight', 'shared_image_embedding.positional_embedding']);

  const git = new PixelLLM({ ...SMALL_VARIANTS.cpu!, text: { kind: 'git', config: { ...SMALL_GIT, ...meta('git').config } } });
  const gitFile = join(fx, 'git', 'model.safetensors');
  loadPublicBackbones(git, { text: gitFile });
  assertLoaded(git, readSafetensors(gitFile), (k) => (/^git\.(image_encoder|visual_projection)\./.test(k) ? null : `textual.${k.replace(/^git\./, '')}`));
});

test('a wrong shape, a missing key and the wrong kind of file are errors that name them', () => {
  const model = new PixelLLM(SMALL_VARIANTS['t5-xl']!);
  const wide = save('t5_wide.safetensors', new T5ForConditionalGeneration({ ...SMALL_T5, d_ff: 28 }).stateDict());
  assert.throws(() => loadPublicBackbones(model, { text: wide }), (e: Error) => e instanceof StateDictError && e.message.includes(wide)
    && e.message.includes('textual.encoder.block.0.layer.1.DenseReluDense.wi_0.weight: expected [24,16], got [28,16]'));
  const partial = new T5ForConditionalGeneration(SMALL_T5).stateDict();
  partial.delete('decoder.final_layer_norm.weight');
  assert.throws(() => loadPublicBackbones(model, { text: save('t5_partial.safetensors', partial) }),
    (e: Error) => e instanceof StateDictError && /missing keys \(1\): textual\.decoder\.final_layer_norm\.weight/.test(e.message));
  const sam = save('sam_only.safetensors', new SamModel(model.config.sam).stateDict());
  assert.throws(() => loadPublicBackbones(model, { text: sam }),
    (e: Error) => e instanceof StateDictError && e.message.includes('loads an HF T5 checkpoint, but it looks like sam'));
  const noEva = new PixelLLM(SMALL_VARIANTS.cpu!);
  assert.throws(() => loadPublicBackbones(noEva, { eva: sam }), (e: Error) => e instanceof StateDictError && e.message.includes('eva: null'));
  assert.throws(() => loadPublicBackbones(model, { eva: sam }), (e: Error) => e instanceof StateDictError && e.message.includes('expected a timm EVA02 checkpoint, but it looks like sam'));
  // a file of no known family meets the key checks, which list what does not fit
  const odd = save('odd.safetensors', new Map([...new SamModel(model.config.sam).stateDict()].filter(([k]) => k.startsWith('vision_encoder.')).map(([k, t]) => [k.replace('vision_encoder.', 'trunk.'), t])));
  assert.throws(() => loadPublicBackbones(model, { sam: odd }), (e: Error) => e instanceof StateDictError
    && /missing keys \(\d+\): sam_backbone\./.test(e.message) && /unexpected keys \(\d+\): trunk\./.test(e.message));
});
