// Batches for training and evaluation: the sampler plans them in order on the main thread, the collator makes the
// text tensors, and a pool of worker threads decodes, augments and normalises the images. While the trainer holds a
// batch, `prefetch` more are planned or decoding, so a step does not wait on JPEG decoding unless decoding is slower
// than the step. Results come back in order; an error (a bad image names its file) reaches the caller at the batch it
// belongs to.
import { Tensor } from '../../tensor/tensor.ts';
import { readImageSize, type DecodeOptions } from '../image/decode.ts';
import { NORMALIZATIONS, type Normalization } from '../image/normalize.ts';
import { collateText, type Batch, type TextBatch, type TextTokenizer } from './collate.ts';
import { runImageJob, type ImageJob, type ImageJobResult } from './image_job.ts';
import { BatchSampler, type SamplerState } from './sampler.ts';
import { BatchError, type Source } from './source.ts';
import { ImageWorkerPool } from './worker_pool.ts';

export interface LoaderOptions {
  sources: readonly Source[];
  batchSize: number;
  /** the canvas side S (384 in the paper) */
  imageSize: number;
  tokenizer: TextTokenizer;
  seed: number;
  /** BOS + text + EOS cut to this many tokens (default 128, the reference's max_text_tokens) */
  maxTokens?: number;
  /** prompt + EOS cut to this many tokens (default 32, the reference's max_context_tokens) */
  maxPromptTokens?: number;
  /** worker threads decoding images (default 2); 0 decodes on the main thread (tests, debugging) */
  workers?: number;
  /** batches planned or decoding while the consumer holds one (default 2 per worker, at least 2) */
  prefetch?: number;
  /** normalised copies of each image (default both: CLIP for the EVA02/ViT branch, SAM for the SAM branch) */
  normalizations?: readonly Normalization[];
  /** decoding (pixel limit, alpha background); exifOrientation defaults to false here: annotations refer to the stored pixel grid */
  decode?: DecodeOptions;
  /** object masks (B, S, S) for examples with a segmentation (default true) */
  masks?: boolean;
  /** a state from loader.state() to continue from (training only) */
  resume?: SamplerState;
  /** 'train' (default): endless shuffled augmented batches; 'eval': each example once, in order, then done */
  mode?: 'train' | 'eval';
}

export class BatchLoader implements AsyncIterableIterator<Batch> {
  private readonly sampler: BatchSampler;
  private readonly pool: ImageWorkerPool | null;
  /** null marks the end of an evaluation pass */
  private readonly queue: Promise<{ batch: Batch; state: SamplerState } | null>[] = [];
  private readonly prefetch: number;
  /** sampling is sequential: each plan waits for the one before it */
  private sampling: Promise<unknown>;
  private current: SamplerState;
  private closed = false;

  private readonly decode: DecodeOptions;

  constructor(private readonly opts: LoaderOptions) {
    this.decode = { ...opts.decode, exifOrientation: opts.decode?.exifOrientation ?? false };
    const workers = opts.workers ?? 2;
    if (!Number.isInteger(workers) || workers < 0) throw new BatchError(`workers ${workers} must be an integer ≥ 0`);
    this.prefetch = opts.prefetch ?? Math.max(2, 2 * workers);
    if (!Number.isInteger(this.prefetch) || this.prefetch < 1) throw new BatchError(`prefetch ${opts.prefetch} must be a positive integer`);
    for (const [k, v] of [['maxTokens', opts.maxTokens], ['maxPromptTokens', opts.maxPromptTokens]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 2)) throw new BatchError(`${k} ${v} must be an integer ≥ 2 (BOS/prompt and EOS)`);
    }
    for (const n of opts.normalizations ?? []) {
      if (!(n in NORMALIZATIONS)) throw new BatchError(`normalization '${n}' is not one of ${Object.keys(NORMALIZATIONS).join(', ')}`);
    }
    this.sampler = new BatchSampler(opts.sources, {
      batchSize: opts.batchSize, imageSize: opts.imageSize, seed: opts.seed, mode: opts.mode,
      sizeOf: (ex) => readImageSize(ex.imagePath, this.decode),
    });
    this.current = opts.resume ?? this.sampler.state();
    this.sampling = opts.resume ? this.sampler.restore(opts.resume) : Promise.resolve();
    // a refused resume state reaches the caller at its first batch; until then it must not be an unhandled rejection
    this.sampling.catch(() => {});
    this.pool = workers > 0 ? new ImageWorkerPool(workers) : null;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The state after the last batch handed out: save it with the checkpoint, pass it as `resume` to continue. */
  state(): SamplerState {
    return structuredClone(this.current);
  }

  async next(): Promise<IteratorResult<Batch>> {
    if (this.closed) return { done: true, value: undefined };
    if (this.queue.length === 0) this.queue.push(this.produce());
    const head = this.queue.shift()!;
    while (this.queue.length < this.prefetch) this.queue.push(this.produce());
    try {
      const next = await head;
      if (next === null) {
        await this.close();
        return { done: true, value: undefined };
      }
      this.current = next.state;
      return { done: false, value: next.batch };
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async return(): Promise<IteratorResult<Batch>> {
    await this.close();
    return { done: true, value: undefined };
  }

  /** Stops the workers and releases the sources; batches still in flight are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue.splice(0)) p.catch(() => {});
    await this.pool?.close();
    await this.sampling.catch(() => {});
    await this.sampler.close();
  }

  private produce(): Promise<{ batch: Batch; state: SamplerState } | null> {
    const planned = this.sampling.then(() => this.sampler.next());
    this.sampling = planned;
    const p = planned.then(async (plan) => {
      if (plan === null) return null;
      const { batch, items } = collateText(plan, {
        tokenizer: this.opts.tokenizer,
        maxTokens: this.opts.maxTokens ?? 128,
        maxPromptTokens: this.opts.maxPromptTokens ?? 32,
        masks: this.opts.masks ?? true,
      });
      const job: ImageJob = { canvas: this.opts.imageSize, normalizations: this.opts.normalizations ?? ['clip', 'sam'], decode: this.decode, items };
      const images = await (this.pool ? this.pool.run(job) : runImageJob(job));
      return { batch: withImages(batch, images, this.opts.imageSize), state: plan.state };
    });
    p.catch(() => {}); // rethrown when the consumer reaches this batch
    return p;
  }
}

function withImages(batch: TextBatch, r: ImageJobResult, S: number): Batch {
  const B = batch.ids.length;
  const images: Partial<Record<Normalization, Tensor>> = {};
  for (const [n, data] of Object.entries(r.pixels) as [Normalization, Float32Array][]) images[n] = new Tensor(data, [B, 3, S, S]);
  const out: Batch = { ...batch, images, paddingMask: new Tensor(r.paddingMask, [B, S, S]) };
  if (r.masks) out.masks = new Tensor(r.masks, [B, S, S]);
  return out;
}
