// Task-pure batches from weighted sources: batch k draws its source and every example's augmentation from a Generator
// seeded by (seed, k), and its examples from that source's shuffled stream. Everything random happens here, on the
// main thread and in batch order, so the batches do not depend on how many workers decode them, and the state
// (batches drawn + each source's position) restores the same sequence.
import { Generator } from '../../tensor/random.ts';
import type { Example, Task } from '../types.ts';
import { REFERENCE_AUGMENT, checkAugment, drawGeometry, swapLeftRight, type AugmentOptions } from '../image/augment.ts';
import { fitGeometry, type Geometry } from '../image/geometry.ts';
import { BatchError, SourceStream, mixSeed, type Source, type SourcePosition } from './source.ts';

// a replacer function, not a string: '$&' or "$'" in a referring expression must stay as written
const fillPrompt = (template: string, text: string): string => template.replaceAll('{text}', () => text);

/** DESIGN §2 "Text prompts" (the test-time ones; pass `prompts` on a source for training paraphrases). */
export const DEFAULT_PROMPTS: Record<Task, readonly string[]> = {
  trace: ['A long image caption: '],
  caption: ['A photo of '],
  refer: ['where is {text}'],
  regioncap: ['an object of '],
};

/** The sampler's saved state: JSON, small, for a training checkpoint. */
export interface SamplerState {
  version: 1;
  seed: number;
  /** batches drawn so far */
  batches: number;
  sources: Record<string, SourcePosition>;
}

export interface PlannedExample {
  example: Example;
  /** the example's text, with left/right swapped if the image was mirrored and the source asks for it */
  text: string;
  prompt: string;
  geometry: Geometry;
}

export interface BatchPlan {
  /** 0-based number of this batch in the sequence */
  index: number;
  source: string;
  task: Task;
  items: PlannedExample[];
  /** the state after this batch: restoring it continues with batch index + 1 */
  state: SamplerState;
}

export interface SamplerOptions {
  batchSize: number;
  /** the canvas side S */
  imageSize: number;
  seed: number;
  /** the decoded size of an example's image when its reader gave none (width or height 0); without it that is an error */
  sizeOf?: (example: Example) => Promise<{ width: number; height: number }>;
  /**
   * 'train' (default): endless, weighted, shuffled, augmented. 'eval': every example once, source after source in
   * their own order, no augmentation, the first prompt, a source's last batch short; then the sampler ends.
   */
  mode?: 'train' | 'eval';
}

export class BatchSampler {
  private readonly streams: SourceStream[];
  private readonly cumulative: number[];
  private batches = 0;
  /** eval: the source being read */
  private cursor = 0;

  constructor(readonly sources: readonly Source[], readonly opts: SamplerOptions) {
    if (sources.length === 0) throw new BatchError('no sources to draw batches from');
    const names = new Set<string>();
    for (const s of sources) {
      if (names.has(s.name)) throw new BatchError(`two sources are named '${s.name}'; names must be unique (they key the saved state)`);
      names.add(s.name);
      if (!(s.weight >= 0 && Number.isFinite(s.weight))) throw new BatchError(`source '${s.name}': weight ${s.weight} must be a finite number ≥ 0`);
      checkAugment(augmentOf(s), `source '${s.name}'`);
      if (s.prompts !== undefined && s.prompts.length === 0) throw new BatchError(`source '${s.name}': prompts is empty; leave it out for the default`);
    }
    const total = sources.reduce((a, s) => a + s.weight, 0);
    if (!(total > 0)) throw new BatchError('the source weights sum to 0; give at least one source a positive weight');
    let acc = 0;
    this.cumulative = sources.map((s) => (acc += s.weight / total));
    for (const [k, v] of [['batchSize', opts.batchSize], ['imageSize', opts.imageSize]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new BatchError(`${k} ${v} must be a positive integer`);
    }
    if (!Number.isInteger(opts.seed)) throw new BatchError(`seed ${opts.seed} must be an integer`);
    this.streams = sources.map((s) => new SourceStream(s, opts.seed, opts.mode === 'eval'));
  }

  state(): SamplerState {
    const sources: Record<string, SourcePosition> = {};
    for (const s of this.streams) sources[s.source.name] = s.position();
    return { version: 1, seed: this.opts.seed, batches: this.batches, sources };
  }

  /** Continues from a saved state: same seed and source names required. */
  async restore(state: SamplerState): Promise<void> {
    if (this.opts.mode === 'eval') throw new BatchError('an evaluation pass starts from the beginning; resume is for training');
    if (state?.version !== 1) throw new BatchError(`sampler state version ${state?.version} is not supported (expected 1)`);
    if (state.seed !== this.opts.seed) throw new BatchError(`the saved sampler state has seed ${state.seed} but this run uses seed ${this.opts.seed}`);
    const saved = Object.keys(state.sources).sort();
    const ours = this.streams.map((s) => s.source.name).sort();
    if (saved.join('\n') !== ours.join('\n')) {
      throw new BatchError(`the saved sampler state has sources [${saved.join(', ')}] but this run has [${ours.join(', ')}]`);
    }
    for (const s of this.streams) await s.seek(state.sources[s.source.name]!);
    this.batches = state.batches;
  }

  /** The next batch's plan; null once an evaluation pass has given every example. */
  async next(): Promise<BatchPlan | null> {
    return this.opts.mode === 'eval' ? this.nextInOrder() : this.nextDrawn();
  }

  private async nextDrawn(): Promise<BatchPlan> {
    const index = this.batches;
    const rng = new Generator(mixSeed(this.opts.seed, index));
    const u = rng.next();
    let pick = this.cumulative.findIndex((c) => u < c);
    if (pick < 0) pick = this.cumulative.length - 1; // u within rounding of 1
    const stream = this.streams[pick]!;
    const source = stream.source;
    const augment = augmentOf(source);
    const prompts = source.prompts ?? DEFAULT_PROMPTS[source.task];
    const items: PlannedExample[] = [];
    for (let i = 0; i < this.opts.batchSize; i++) {
      const example = await this.sized(await stream.take(), source.name);
      const geometry = drawGeometry(rng, augment, example.width, example.height, this.opts.imageSize);
      const text = geometry.flip && augment.swapLeftRight ? swapLeftRight(example.text) : example.text;
      const template = prompts[Math.floor(rng.next() * prompts.length)]!;
      items.push({ example, text, prompt: fillPrompt(template, text), geometry });
    }
    this.batches++;
    return { index, source: source.name, task: source.task, items, state: this.state() };
  }

  private async nextInOrder(): Promise<BatchPlan | null> {
    for (; this.cursor < this.streams.length; this.cursor++) {
      const stream = this.streams[this.cursor]!;
      const source = stream.source;
      const prompt = (source.prompts ?? DEFAULT_PROMPTS[source.task])[0]!;
      const items: PlannedExample[] = [];
      while (items.length < this.opts.batchSize) {
        const taken = await stream.takeInEpoch();
        if (!taken) break;
        const example = await this.sized(taken, source.name);
        const geometry = fitGeometry(example.width, example.height, this.opts.imageSize);
        items.push({ example, text: example.text, prompt: fillPrompt(prompt, example.text), geometry });
      }
      if (items.length === 0) continue;
      const index = this.batches++;
      return { index, source: source.name, task: source.task, items, state: this.state() };
    }
    return null;
  }

  async close(): Promise<void> {
    await Promise.all(this.streams.map((s) => s.close()));
  }

  private async sized(ex: Example, source: string): Promise<Example> {
    if (ex.width > 0 && ex.height > 0) return ex;
    if (!this.opts.sizeOf) throw new BatchError(`source '${source}', example ${ex.id} (${ex.imagePath}) has image size ${ex.width}×${ex.height} and no way to read it`);
    return { ...ex, ...(await this.opts.sizeOf(ex)) };
  }
}

function augmentOf(s: Source): AugmentOptions {
  return s.augment ?? REFERENCE_AUGMENT[s.task];
}
