// A whole synthetic dataset: images are drawn on this thread while libvips encodes earlier ones on its own threads,
// and are written strictly in index order, so the output is the same whatever the timing.
import { encodeJpeg, synthImage, type SynthImage, type SynthOptions } from './generate.ts';
import { DatasetWriter, type Counts } from './writers.ts';

export interface RunOptions extends SynthOptions {
  out: string;
  n: number;
  /** called after each image is written with the number written so far */
  progress?: (done: number) => void;
  /** how many of the first images to hand back (for a preview) */
  keep?: number;
}

export interface RunResult {
  counts: Counts;
  seconds: number;
  kept: SynthImage[];
}

/** Images being encoded at once: enough to keep libvips' threads busy while this thread draws. */
const IN_FLIGHT = 8;

export async function synthesize(opts: RunOptions): Promise<RunResult> {
  const start = performance.now();
  const writer = await DatasetWriter.create(opts.out);
  const kept: SynthImage[] = [];
  const queue: [SynthImage, Promise<Buffer>][] = [];
  const drain = async (): Promise<void> => {
    const [img, jpeg] = queue.shift()!;
    await writer.add(img, await jpeg);
    opts.progress?.(img.index + 1);
  };
  try {
    for (let i = 0; i < opts.n; i++) {
      const img = synthImage(i, opts);
      if (i < (opts.keep ?? 0)) kept.push(img);
      const jpeg = encodeJpeg(img.layout);
      jpeg.catch(() => {}); // awaited in order by drain; this only stops an early rejection from being unhandled
      queue.push([img, jpeg]);
      if (queue.length >= IN_FLIGHT) await drain();
    }
    while (queue.length > 0) await drain();
    const size = opts.width && opts.height ? [opts.width, opts.height] : 'varied (128–512 px, aspect 1:2 to 2:1)';
    await writer.finish({ generator: 'pixelllm synth', seed: opts.seed, n: opts.n, image_size: size });
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return { counts: writer.counts, seconds: (performance.now() - start) / 1000, kept };
}
