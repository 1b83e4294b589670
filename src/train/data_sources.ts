// The training and evaluation examples a config names: each source file read once (with its companion files), kept
// to its split and task, held in memory for the sampler's passes; and the object boxes per image that train the
// proposal head, from the sources whose examples are regions (VG: every object of an image is a region).
import { join } from 'node:path';
import { findDatasets } from '../data/formats.ts';
import { BadRecords } from '../data/records.ts';
import type { Box, Example } from '../data/types.ts';
import type { Source } from '../data/batch/index.ts';
import { ConfigError } from './overrides.ts';
import type { TrainSource } from './train_config.ts';

/** `val` matches any source with that segment, `ln/synth_val` only that source, as `pixelllm eval --split`. */
export function inSplit(example: Example, split: string): boolean {
  return split.includes('/') ? example.source === split : example.source.split('/').includes(split);
}

export async function readSourceExamples(root: string, s: TrainSource): Promise<Example[]> {
  const path = join(root, s.path);
  const { datasets } = await findDatasets(path);
  const out: Example[] = [];
  for (const d of datasets) {
    const imageDir = join(root, s.images ?? 'images');
    for await (const ex of d.read(new BadRecords('stop'), { imageDir, refTask: s.task === 'regioncap' ? 'regioncap' : 'refer' })) {
      if (ex.task === s.task && inSplit(ex, s.split)) out.push(ex);
    }
  }
  if (out.length === 0) throw new ConfigError(`source ${s.name}: ${path} has no ${s.task} examples in split '${s.split}'`);
  return out;
}

export async function buildSources(root: string, sources: TrainSource[]): Promise<{ sources: Source[]; examples: Map<string, Example[]> }> {
  const examples = new Map<string, Example[]>();
  const out: Source[] = [];
  for (const s of sources) {
    const list = await readSourceExamples(root, s);
    examples.set(s.name, list);
    out.push({ name: s.name, task: s.task, weight: s.weight, examples: list, ...(s.augment ? { augment: s.augment } : {}) });
  }
  return { sources: out, examples };
}

/** image id → every region box of that image, from the regioncap examples given. */
export function objectBoxes(lists: Iterable<Example[]>): Map<string, Box[]> {
  const map = new Map<string, Box[]>();
  for (const list of lists) {
    for (const ex of list) {
      if (ex.task !== 'regioncap' || !ex.box) continue;
      const boxes = map.get(ex.imageId) ?? [];
      if (!boxes.some((b) => b.every((v, i) => v === ex.box![i]))) boxes.push(ex.box);
      map.set(ex.imageId, boxes);
    }
  }
  return map;
}
