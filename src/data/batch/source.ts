// One weighted source of examples, read pass after pass (epochs) through a shuffle buffer, with a position that can be
// saved and restored: a restored stream reopens the same epoch and replays the same number of draws, so it continues
// with exactly the examples the saved one would have given.
import { Generator } from '../../tensor/random.ts';
import { UserError } from '../../errors.ts';
import type { Example, Task } from '../types.ts';
import type { AugmentOptions } from '../image/augment.ts';

/** A problem with the sources, their examples or a saved sampler state. */
export class BatchError extends UserError {
  override name = 'BatchError';
}

export interface Source {
  /** unique among the sources; names the source in errors and in the saved state */
  name: string;
  /** the one task every example of this source has */
  task: Task;
  /** relative probability that a batch comes from this source */
  weight: number;
  /**
   * The examples. Read once per epoch: each epoch asks for a new iterator, so pass an array or something whose
   * [Symbol.iterator] / [Symbol.asyncIterator] starts a new pass, such as reopening(() => readLocalizedNarratives(f))
   * (a generator object, what a reader returns, can be read only once).
   */
  examples: Iterable<Example> | AsyncIterable<Example>;
  /** train-time augmentation (default: the reference's for the task, REFERENCE_AUGMENT) */
  augment?: AugmentOptions;
  /** examples held for shuffling, as tf.data's shuffle_buffer_size (default 1000; 1 keeps file order) */
  shuffleBuffer?: number;
  /** text prompts, one drawn per example; `{text}` is replaced by the example's text (default DEFAULT_PROMPTS[task]) */
  prompts?: readonly string[];
}

/** Examples that can be read again and again: every pass calls `open` (e.g. () => readLocalizedNarratives(path)). */
export function reopening(open: () => Iterable<Example> | AsyncIterable<Example>): AsyncIterable<Example> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* open();
    },
  };
}

/** Where a source's stream stands: in which pass, after how many draws in that pass. */
export interface SourcePosition {
  epoch: number;
  taken: number;
}

/** A 32-bit hash of 32-bit integers (murmur3's finaliser folded over the parts). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** FNV-1a of a string: a source's random stream depends on its name, not on its place in the list. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

type AnyIterator = Iterator<Example> | AsyncIterator<Example>;

export class SourceStream {
  private epoch = 0;
  private taken = 0;
  private iterator: AnyIterator | null = null;
  private exhausted = false;
  private buffer: Example[] = [];
  private rng: Generator;
  private readonly bufferSize: number;

  /** `ordered` reads the examples in the source's own order, whatever its shuffleBuffer (evaluation). */
  constructor(readonly source: Source, private readonly seed: number, ordered = false) {
    this.bufferSize = ordered ? 1 : source.shuffleBuffer ?? 1000;
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1) {
      throw new BatchError(`source '${source.name}': shuffleBuffer ${source.shuffleBuffer} must be a positive integer`);
    }
    this.rng = this.epochRng();
  }

  position(): SourcePosition {
    return { epoch: this.epoch, taken: this.taken };
  }

  /** Moves to `p` by reopening its epoch and replaying its draws (reads `p.taken` examples' records, no images). */
  async seek(p: SourcePosition): Promise<void> {
    await this.close();
    this.epoch = p.epoch;
    this.taken = 0;
    this.rng = this.epochRng();
    for (let i = 0; i < p.taken; i++) await this.take();
    if (this.epoch !== p.epoch) {
      throw new BatchError(`source '${this.source.name}': the saved position (epoch ${p.epoch}, ${p.taken} taken) is past the end of that epoch; the data changed since the state was saved`);
    }
  }

  /** The next example of the shuffled stream; a new epoch starts when a pass ends. */
  async take(): Promise<Example> {
    for (;;) {
      const ex = await this.takeInEpoch();
      if (ex) return ex;
      if (this.taken === 0) {
        throw new BatchError(`source '${this.source.name}' gave no examples in epoch ${this.epoch}` + (this.epoch > 0
          ? ' (it can be read only once, as a generator object: pass reopening(() => <the reader call>) or an array)'
          : ''));
      }
      this.epoch++;
      this.taken = 0;
      this.iterator = null;
      this.rng = this.epochRng();
    }
  }

  /** The next example of the current epoch, or null when the epoch has given all of its examples. */
  async takeInEpoch(): Promise<Example | null> {
    if (this.iterator === null) this.open();
    while (this.buffer.length < this.bufferSize && !this.exhausted) {
      const r = await this.iterator!.next();
      if (r.done) this.exhausted = true;
      else this.buffer.push(this.check(r.value));
    }
    if (this.buffer.length === 0) return null;
    // tf.data's shuffle: a uniform pick from the buffer, refilled from the stream on the next call
    const j = Math.floor(this.rng.next() * this.buffer.length);
    const ex = this.buffer[j]!;
    this.buffer[j] = this.buffer[this.buffer.length - 1]!;
    this.buffer.pop();
    this.taken++;
    return ex;
  }

  /** Lets the reader release its file (iterator.return). */
  async close(): Promise<void> {
    const it = this.iterator;
    this.iterator = null;
    this.buffer = [];
    await it?.return?.();
  }

  private open(): void {
    const ex = this.source.examples;
    this.iterator = Symbol.asyncIterator in ex ? ex[Symbol.asyncIterator]() : (ex as Iterable<Example>)[Symbol.iterator]();
    this.exhausted = false;
    this.buffer = [];
  }

  private epochRng(): Generator {
    return new Generator(mixSeed(this.seed, hashString(this.source.name), this.epoch));
  }

  private check(ex: Example): Example {
    const where = `source '${this.source.name}', example ${ex.id} (${ex.imagePath})`;
    if (ex.task !== this.source.task) throw new BatchError(`${where} has task '${ex.task}' but the source's task is '${this.source.task}': a batch holds one task, so give each task its own source`);
    return ex;
  }
}
