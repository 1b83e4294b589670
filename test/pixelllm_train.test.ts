// Training PixelLLM end to end on a few synthetic scenes with a small model: steps on one batch lower its loss, and a
// run stopped and resumed from its checkpoint continues with exactly the losses and weights of an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../src/data/synth/run.ts';
import { BatchLoader, textTokenizer } from '../src/data/batch/index.ts';
import { loadTokenizer } from '../src/data/tokenizers/index.ts';
import { PixelLLM } from '../src/models/pixelllm/pixelllm.ts';
import { AdamW } from '../src/nn/optim.ts';
import { manualSeed } from '../src/nn/init.ts';
import { train } from '../src/train/trainer.ts';
import { batchLosses, REFERENCE_WEIGHTS } from '../src/train/step.ts';
import { buildSources, objectBoxes } from '../src/train/data_sources.ts';
import { TRAIN_DEFAULTS, type TrainConfig } from '../src/train/train_config.ts';
import { loadModelFolder } from '../src/models/pixelllm/files.ts';
import { trainableTiny } from './pixelllm_small.ts';

const VOCAB = 'models/pixelllm-tiny/vocab.txt';
const dir = mkdtempSync(join(tmpdir(), 'pixelllm-train-'));
await synthesize({ out: join(dir, 'data'), n: 10, seed: 1, width: 96, height: 80 });

function config(out: string, steps: number): TrainConfig {
  return {
    ...TRAIN_DEFAULTS, model: trainableTiny(), tokenizer: VOCAB, data_root: join(dir, 'data'), out: join(dir, out),
    sources: [
      { name: 'ln', path: 'localized_narratives/train.jsonl', task: 'trace', weight: 1, split: 'ln/synth_train' },
      { name: 'refcoco', path: 'refcoco/refs(synth).p', task: 'refer', weight: 1, split: 'train' },
      { name: 'vg', path: 'visual_genome/region_descriptions.json', task: 'regioncap', weight: 1, split: 'train' },
    ],
    batch_size: 3, steps, lr: 3e-3, warmup_steps: 1, workers: 0, checkpoint_every: 100, log_every: 1, threads: 1,
  };
}

test('a few training steps on one batch lower its loss (every task)', async () => {
  const cfg = config('overfit', 1);
  const { sources, examples } = await buildSources(cfg.data_root, cfg.sources);
  const objects = objectBoxes(examples.values());
  for (const source of sources) {
    manualSeed(0);
    const model = new PixelLLM(cfg.model);
    const loader = new BatchLoader({ sources: [source], batchSize: 3, imageSize: cfg.model.image_size, tokenizer: textTokenizer(loadTokenizer(VOCAB)), seed: 0, workers: 0, normalizations: ['sam'], maxTokens: cfg.model.max_text_tokens });
    const batch = (await loader.next()).value!;
    await loader.close();
    const opt = new AdamW(model.namedParameters(), { lr: 1e-2 });
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const parts = Object.values(batchLosses(model, batch, REFERENCE_WEIGHTS, objects));
      const total = parts.reduce((a, b) => a.add(b));
      losses.push(total.item());
      total.backward();
      opt.update();
      opt.zeroGrad();
    }
    assert.ok(losses.every(Number.isFinite), `${source.task}: losses ${losses}`);
    assert.ok(losses.at(-1)! < 0.8 * losses[0]!, `${source.task}: loss ${losses[0]} → ${losses.at(-1)} did not fall by 20%`);
  }
});

test('a run stopped after 3 updates and resumed equals an uninterrupted run', async () => {
  const straight = await train(config('straight', 6), { log: () => {} });
  const first = await train(config('resumed', 6), { log: () => {}, stopAfter: 3 });
  assert.equal(first.losses.length, 3);
  assert.ok(!existsSync(join(dir, 'resumed', 'model')), 'a stopped run exports no final model');
  const second = await train(config('resumed', 6), { log: () => {} });
  assert.deepEqual([...first.losses, ...second.losses], straight.losses);
  const a = straight.model.stateDict();
  for (const [k, t] of second.model.stateDict()) assert.deepEqual(t.values(), a.get(k)!.values(), k);
  // the final model folder loads back to the same weights
  const loaded = loadModelFolder(join(dir, 'straight', 'model')).model.stateDict();
  for (const [k, t] of a) assert.deepEqual(loaded.get(k)!.values(), t.values(), k);
  assert.ok(existsSync(join(dir, 'straight', 'curves.png')) && existsSync(join(dir, 'straight', 'history.json')));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
