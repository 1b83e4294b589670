// One model measured in this process (so its peak RSS is its own): phase 'infer' times every task of the inference
// pipeline on one image and the batched throughput; phase 'train' times whole training steps (batchLosses, backward,
// clipping, AdamW) on the synthetic batches, and can write those batches for the PyTorch peer.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, backendName, setThreads, withStepScope } from '../../src/tensor/index.ts';
import { AdamW, clipGradNorm } from '../../src/nn/optim.ts';
import { PixelLLM } from '../../src/models/pixelllm/pixelllm.ts';
import { PRESETS } from '../../src/models/pixelllm/config.ts';
import { loadModelFolder } from '../../src/models/pixelllm/files.ts';
import { loadTokenizer, type Tokenizer } from '../../src/data/tokenizers/index.ts';
import type { Task } from '../../src/data/types.ts';
import { PixelLLMPipeline } from '../../src/infer/pipeline.ts';
import { REFERENCE_WEIGHTS, batchLosses } from '../../src/train/step.ts';
import { NO_DECAY, frozenByConfig } from '../../src/train/trainer.ts';
import { medianMs, medianMsAsync } from '../common.ts';
import type { BenchOptions } from './args.ts';
import { peerBatchJson, trainBatches } from './batches.ts';

const root = new URL('../..', import.meta.url).pathname;

interface BenchModel {
  model: PixelLLM;
  tokenizer: Tokenizer;
  weights: string;
}

/** The bundled trained model where models/<name>/ holds one, else the preset with random weights. */
export function loadBenchModel(name: string): BenchModel {
  const dir = join(root, 'models', name);
  if (existsSync(join(dir, 'model.safetensors'))) {
    const { model, tokenizer } = loadModelFolder(dir);
    return { model, tokenizer, weights: `models/${name}` };
  }
  const config = PRESETS[name]!;
  // the preset's vocabulary: the model folder's own, else BERT uncased's (the GIT-base decoder's)
  const vocab = [join(dir, config.tokenizer), join(root, '../shared/data/tokenizers/bert-base-uncased', config.tokenizer)].find(existsSync);
  if (!vocab) throw new Error(`${name}: no tokenizer file ${config.tokenizer} in models/${name}/ or ../shared/data/tokenizers/bert-base-uncased/`);
  return { model: new PixelLLM(config), tokenizer: loadTokenizer(vocab), weights: 'random' };
}

/** A task prompt's ids without EOS, the expression's ids where the prompt says {text}. */
function promptIds(tokenizer: Tokenizer, model: PixelLLM, task: Task, text: number[]): number[] {
  const [before, after = ''] = model.config.prompts[task].split('{text}');
  return [...tokenizer.encode(before!), ...text, ...(after ? tokenizer.encode(after) : [])];
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

export async function runWorker(o: BenchOptions): Promise<Record<string, unknown>> {
  const threads = o.threads[0]!;
  setThreads(threads);
  const { model, tokenizer, weights } = loadBenchModel(o.worker!);
  const params = model.namedParameters().reduce((n, [, t]) => n + t.size, 0);
  const head = { model: o.worker, phase: o.phase, threads, backend: backendName, weights, params, config: model.config };
  return o.phase === 'infer' ? { ...head, ...(await measureInference(o, model, tokenizer)) } : { ...head, ...measureTraining(o, model, tokenizer) };
}

async function measureInference(o: BenchOptions, model: PixelLLM, tokenizer: Tokenizer): Promise<Record<string, unknown>> {
  const pipe = new PixelLLMPipeline(model, tokenizer);
  const image = o.image!;
  const box = o.box!;
  const one = [image];
  const many = Array.from({ length: o.batch }, () => image);
  const caption = await pipe.caption(one, { beams: 1 });
  const located = await pipe.locate(one, [o.expression]);
  if (caption[0]!.words.length === 0 && caption[0]!.text.trim() !== '') throw new Error(`caption "${caption[0]!.text}" came back without word locations`);
  if (!located[0]!.box.every(Number.isFinite)) throw new Error(`locate gave a non-finite box ${located[0]!.box}`);
  const dense = await pipe.dense(one);
  const tasks: Record<string, () => Promise<unknown>> = {
    caption: () => pipe.caption(one, { beams: 1 }),
    locate: () => pipe.locate(one, [o.expression]),
    segment: () => pipe.segment(one, [o.expression]),
    describe: () => pipe.describe(one, [{ box }]),
    dense: () => pipe.dense(one),
  };
  const latency: Record<string, number> = {};
  for (const [name, run] of Object.entries(tasks)) latency[name] = round(await medianMsAsync(run, o.reps, 1));
  // the peer's caption starts from pixels: so does this one (no JPEG decode or resize)
  const prepared = await pipe.prepare(one);
  const captionFromPixels = round(medianMs(() => pipe.captionImages(prepared, { beams: 1 }), o.reps, 1));
  const throughput: Record<string, number> = {};
  throughput.caption = round(o.batch / (await medianMsAsync(() => pipe.caption(many, { beams: 1 }), o.reps, 1)) * 1e3, 3);
  throughput.locate = round(o.batch / (await medianMsAsync(() => pipe.locate(many, many.map(() => o.expression)), o.reps, 1)) * 1e3, 3);
  return {
    latency_ms: latency, caption_from_pixels_ms: captionFromPixels, throughput_images_per_s: throughput,
    // what the timings decoded: with random weights decoding rarely stops before max_text_tokens
    caption_tokens: tokenizer.encode(caption[0]!.text).length, caption_prompt_ids: promptIds(tokenizer, model, 'trace', []),
    dense_regions: dense[0]!.regions.length, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function measureTraining(o: BenchOptions, model: PixelLLM, tokenizer: Tokenizer): Record<string, unknown> {
  // as the trainer: the frozen parts its config names, AdamW with its decay exemptions, clipping at 1
  const frozen = frozenByConfig(model.config);
  if (frozen.length > 0) model.freeze(frozen);
  model.train();
  const params = model.namedParameters().filter(([, t]) => t.requiresGrad);
  const optimizer = new AdamW(params, { lr: 5e-4, weightDecay: 0.05, noDecay: NO_DECAY });
  const batches = trainBatches(model, o.trainBatch, (task, text) => promptIds(tokenizer, model, task, text));
  if (o.peerBatch) writeFileSync(o.peerBatch, JSON.stringify({ batches: { trace: peerBatchJson(batches.trace), refer: peerBatchJson(batches.refer) } }));
  const stepMs: Record<string, number> = {};
  const losses: Record<string, number> = {};
  for (const [kind, { batch, objects }] of Object.entries(batches)) {
    const step = () => {
      // as the trainer: the step's buffers go back to the pool when forward and backward are done
      withStepScope(() => {
        const parts = batchLosses(model, batch, REFERENCE_WEIGHTS, objects);
        const total = Object.values(parts).reduce((s: Tensor | null, t) => (s ? s.add(t) : t), null)!;
        losses[kind] = total.item();
        if (!Number.isFinite(losses[kind])) throw new Error(`${kind} batch: the loss is ${losses[kind]}`);
        total.backward();
      }, () => params.map(([, t]) => t.grad?.data));
      clipGradNorm(params.map(([, t]) => t), 1);
      optimizer.update();
      optimizer.zeroGrad();
    };
    stepMs[kind] = round(medianMs(step, o.trainReps, 1));
  }
  return {
    train_ms: stepMs, train_steps_per_s: Object.fromEntries(Object.entries(stepMs).map(([k, ms]) => [k, round(1000 / ms, 3)])),
    train_batch: Object.fromEntries(Object.entries(batches).map(([k, b]) => [k, { rows: b.batch.tokens.shape[0], tokens: b.batch.tokens.shape[1], prompt: b.batch.promptTokens.shape[1] }])),
    last_loss: Object.fromEntries(Object.entries(losses).map(([k, v]) => [k, round(v, 4)])),
    trainable_params: params.reduce((n, [, t]) => n + t.size, 0), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
