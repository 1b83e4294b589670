// Image pipeline throughput: coco-mini JPEGs decoded, resized (longer side to S, antialiased bilinear), padded and
// normalised (CLIP and SAM) by the BatchLoader, drained as fast as possible, with 0 (main thread), 1 and 2 workers.
// Validates the first batch, warms up (worker start, file cache), times, prints one line per worker count: images/s
// of wall time, and CPU ms per image summed over all threads (the cost, which other load on the machine does not change).
// Usage: npx tsx bench/images.ts [S=384] [batches=20] [batchSize=8]
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { BatchLoader, type TextTokenizer } from '../src/data/batch/index.ts';
import { NO_AUGMENT } from '../src/data/image/index.ts';
import type { Example } from '../src/data/types.ts';

const [S, batches, batchSize] = [384, 20, 8].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number];
const coco = resolve(fileURLToPath(import.meta.url), '../../../shared/data/coco-mini');

function examples(): Example[] {
  return ['train2017', 'val2017'].flatMap((split) => {
    const json = JSON.parse(readFileSync(join(coco, 'annotations', `captions_${split}.json`), 'utf8')) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      annotations: { image_id: number; caption: string }[];
    };
    return json.images.map((im) => ({
      task: 'caption' as const, source: `coco/${split}`, id: String(im.id), imageId: String(im.id),
      imagePath: join(coco, split, im.file_name), width: im.width, height: im.height,
      text: json.annotations.find((a) => a.image_id === im.id)?.caption ?? '',
    }));
  });
}

// Text is not what this measures: one id per character.
const chars: TextTokenizer = { pad: 0, bos: 1, eos: 2, encode: (t) => [...t].map((c) => 3 + (c.charCodeAt(0) % 250)) };

/** Images per second of wall time, and CPU milliseconds per image over all of the process's threads. */
async function measure(workers: number, data: Example[]): Promise<[number, number]> {
  const loader = new BatchLoader({
    sources: [{ name: 'coco-mini', task: 'caption', weight: 1, examples: data, augment: NO_AUGMENT }],
    batchSize, imageSize: S, tokenizer: chars, seed: 0, workers,
  });
  const first = (await loader.next()).value!;
  assert.deepEqual(first.images.clip!.shape, [batchSize, 3, S, S]);
  const v = first.images.sam!.values();
  assert.ok(v.some((x: number) => x > 1) && v.some((x: number) => x < -1), 'normalised pixels span both signs');
  await loader.next(); // warm-up
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < batches; i++) await loader.next();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await loader.close();
  const images = batches * batchSize;
  return [images / seconds, (cpu.user + cpu.system) / 1000 / images];
}

const data = examples();
console.log(`image pipeline: ${data.length} coco-mini JPEGs (~640×480), S=${S}, batch ${batchSize}, ${batches} timed batches, CLIP+SAM normalised, ${cpus().length} CPUs`);
console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other processes share these CPUs)`);
for (const workers of [0, 1, 2]) {
  const [rate, cpuMs] = await measure(workers, data);
  console.log(`workers ${workers}${workers === 0 ? ' (main thread)' : ''}: ${rate.toFixed(1)} images/s, ${cpuMs.toFixed(1)} CPU ms/image`);
}
