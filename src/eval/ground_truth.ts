// Ground truth for evaluation, built from the Example records every dataset reader yields (src/data/types.ts), so one
// code path scores predictions against COCO captions, RefCOCO, Visual Genome and Localized Narratives alike.
import { existsSync, statSync } from 'node:fs';
import { readJsonl } from '../data/jsonl.ts';
import type { Box, Example, Segmentation, UtteranceTarget } from '../data/types.ts';
import { detectFormat, findDatasets, type DatasetReadOptions } from '../data/formats.ts';
import { BadRecords } from '../data/records.ts';
import { fillImageSizes } from '../data/image_sizes.ts';
import { UserError } from '../errors.ts';
import type { DenseRegion } from './densecap_map.ts';
import type { EvalTask } from './predictions.ts';

/** What one prediction key (an example id, or an image id for caption and densecap) is scored against. */
export interface GroundTruthItem {
  key: string;
  width: number;
  height: number;
  references: string[];
  box?: Box;
  segmentation?: Segmentation;
  utterances?: UtteranceTarget[];
  regions?: DenseRegion[];
}

export interface GroundTruth {
  task: EvalTask;
  items: Map<string, GroundTruthItem>;
}

/** The Example task whose records carry each evaluation task's ground truth. */
const SOURCE_TASK: Record<EvalTask, Example['task']> = {
  refer: 'refer', refseg: 'refer', regioncap: 'regioncap', caption: 'caption', trace: 'trace', densecap: 'regioncap',
};

/** Ground truth of `task` from Example records (records of other tasks are passed over). */
export async function groundTruthFromExamples(task: EvalTask, examples: AsyncIterable<Example> | Iterable<Example>, source = 'ground truth'): Promise<GroundTruth> {
  const items = new Map<string, GroundTruthItem>();
  const perImage = task === 'caption' || task === 'densecap';
  for await (const e of examples) {
    // narratives are long captions too: their texts score pixel-aligned captioning
    if (e.task !== SOURCE_TASK[task] && !(task === 'caption' && e.task === 'trace')) continue;
    const key = perImage ? e.imageId : e.id;
    const seen = items.get(key);
    if (perImage) {
      const item = seen ?? { key, width: e.width, height: e.height, references: [], regions: [] };
      if (task === 'caption') {
        if (e.references !== undefined && item.references.length === 0) item.references = [...e.references];
        else if (e.references === undefined) item.references.push(e.text);
      } else {
        if (e.box === undefined) throw new UserError(`${source}: region ${e.id} of image ${e.imageId} has no box`);
        item.regions!.push({ box: e.box, text: e.text });
      }
      items.set(key, item);
      continue;
    }
    if (seen !== undefined) throw new UserError(`${source}: example id ${JSON.stringify(key)} occurs twice; ids must be unique within a split (a file holding several datasets or splits needs --split, e.g. refcoco/unc/val)`);
    if ((task === 'refer' || task === 'regioncap') && e.box === undefined) throw new UserError(`${source}: ${task} example ${key} has no box`);
    if (task === 'refseg' && e.segmentation === undefined) throw new UserError(`${source}: refseg example ${key} has no segmentation`);
    if (task === 'trace' && e.utterances === undefined) throw new UserError(`${source}: trace example ${key} has no utterances`);
    items.set(key, {
      key, width: e.width, height: e.height, references: e.references ?? [e.text],
      ...(e.box !== undefined ? { box: e.box } : {}),
      ...(e.segmentation !== undefined ? { segmentation: e.segmentation } : {}),
      ...(e.utterances !== undefined ? { utterances: e.utterances } : {}),
    });
  }
  if (items.size === 0) throw new UserError(`${source} has no ${SOURCE_TASK[task]} examples to score ${task} predictions against`);
  return { task, items };
}

/** Example records stored one JSON object a line (the project's own interchange format). */
async function* readExamplesJsonl(path: string): AsyncGenerator<Example> {
  for await (const { value, at } of readJsonl(path)) {
    const e = value as Example;
    if (typeof e !== 'object' || e === null || typeof e.id !== 'string' || typeof e.task !== 'string' || typeof e.imageId !== 'string')
      throw new UserError(`${at}: not an Example record (needs string task, id and imageId)`);
    yield e;
  }
}

export interface GroundTruthOptions {
  /** keep only examples of this split: a segment of the example's source (`val`, `testA`) or a whole source (`refcoco/unc/val`) */
  split?: string;
  /** folder of the images, for datasets whose files do not give image sizes (trace and refseg scoring need them) */
  imageDir?: string;
}

/**
 * Reads the ground truth of `task` from `path`: a dataset file in its published format (read with its companion
 * files: a refs pickle with instances.json, VG regions with image_data), a folder of them, or Example records as JSON lines.
 */
export async function readGroundTruth(task: EvalTask, path: string, options: GroundTruthOptions = {}): Promise<GroundTruth> {
  return groundTruthFromExamples(task, await readEvalExamples(task, path, options), path);
}

/** The Example records readGroundTruth scores against (what a model must be run on to predict them). */
export async function readEvalExamples(task: EvalTask, path: string, options: GroundTruthOptions = {}): Promise<AsyncIterable<Example>> {
  const examplesJsonl = path.endsWith('.jsonl') && existsSync(path) && statSync(path).isFile() && (await detectFormat(path)) === undefined;
  let examples: AsyncIterable<Example>;
  if (examplesJsonl) examples = readExamplesJsonl(path);
  else {
    const { datasets } = await findDatasets(path);
    const bad = new BadRecords();
    const read: DatasetReadOptions = { imageDir: options.imageDir, refTask: task === 'regioncap' ? 'regioncap' : 'refer', perRef: task === 'regioncap' };
    examples = (async function* () {
      for (const d of datasets) yield* d.read(bad, read);
    })();
  }
  if (options.split !== undefined) examples = onlySplit(examples, options.split);
  // point_l1 and mask IoU need the image size, which LN files and embedded refs do not carry
  if (task === 'trace' || task === 'refseg') examples = fillImageSizes(examples);
  return examples;
}

// `val` matches any source with that segment; `refcoco/unc/val` only that source (a file may hold several datasets)
async function* onlySplit(examples: AsyncIterable<Example>, split: string): AsyncGenerator<Example> {
  for await (const e of examples) if (split.includes('/') ? e.source === split : e.source.split('/').includes(split)) yield e;
}
