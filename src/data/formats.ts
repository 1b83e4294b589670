// Which dataset format a file holds, judged by its content (the first record), and how the files of a folder go
// together: a refs(*).p with the instances.json beside it, Visual Genome regions with image_data and densecap splits.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, normalize } from 'node:path';
import { streamJson } from './json_stream.ts';
import { readJsonl } from './jsonl.ts';
import { At, BadRecords, DataError, readFailure } from './records.ts';
import type { Example } from './types.ts';
import { readCocoCaptions, readCocoInstances } from './readers/coco.ts';
import { readLocalizedNarratives } from './readers/localized_narratives.ts';
import { readEmbeddedRefs, readReferPickle } from './readers/refcoco.ts';
import { readVideoNarratives } from './readers/video_narratives.ts';
import { readDensecapSplits, readVgImageData, readVgRegions } from './readers/visual_genome.ts';

export type Format =
  | 'localized-narratives' | 'video-narratives' | 'refer-pickle' | 'refer-embedded'
  | 'coco-captions' | 'coco-instances' | 'vg-regions' | 'vg-image-data' | 'densecap-splits';

export const FORMAT_NAMES: Record<Format, string> = {
  'localized-narratives': 'Localized Narratives (jsonl)',
  'video-narratives': 'Video Localized Narratives (jsonl)',
  'refer-pickle': 'RefCOCO refs pickle + instances.json (refer toolkit)',
  'refer-embedded': 'RefCOCO refs with embedded annotations (json)',
  'coco-captions': 'COCO captions',
  'coco-instances': 'COCO instances',
  'vg-regions': 'Visual Genome region descriptions',
  'vg-image-data': 'Visual Genome image_data',
  'densecap-splits': 'DenseCap splits of Visual Genome',
};

/** The format of one file, or undefined when it is none of the supported ones. */
export async function detectFormat(path: string): Promise<Format | undefined> {
  const ext = extname(path).toLowerCase();
  if (ext === '.p' || ext === '.pkl' || ext === '.pickle') return /^refs\(.+\)\.p$/.test(basename(path)) ? 'refer-pickle' : undefined;
  if (ext === '.jsonl') {
    for await (const { value } of readJsonl(path, new BadRecords('skip'))) {
      if (value === null || typeof value !== 'object') return undefined;
      if ('actor_narratives' in value) return 'video-narratives';
      if ('timed_caption' in value && 'traces' in value) return 'localized-narratives';
      return undefined;
    }
    return undefined;
  }
  if (ext !== '.json') return undefined;
  // the first item that tells: COCO files start with info/licenses/images, so look on to the annotations
  for await (const item of streamJson(path, {}, new BadRecords('skip'))) {
    const v = item.value as Record<string, unknown> | null;
    const has = (k: string): boolean => v !== null && typeof v === 'object' && k in v;
    if (item.key === '') {
      if (has('regions')) return 'vg-regions';
      if (has('width') && has('height') && (has('url') || has('image_id'))) return 'vg-image-data';
      return undefined;
    }
    if ((item.key === 'ref' || item.key === 'refs') && has('sentences')) return 'refer-embedded';
    if (item.key === 'annotations') return has('caption') ? 'coco-captions' : has('bbox') ? 'coco-instances' : undefined;
    if (['train', 'val', 'test'].includes(item.key) && typeof item.value === 'number') return 'densecap-splits';
  }
  return undefined;
}

/** How to read a dataset found on disk: where its images are, and what RefCOCO refs become. */
export interface DatasetReadOptions {
  imageDir?: string;
  /** RefCOCO: `refer` examples (default) or `regioncap` ones */
  refTask?: 'refer' | 'regioncap';
  /** RefCOCO: one example per object rather than per sentence (region-caption evaluation) */
  perRef?: boolean;
}

/** A dataset found on disk: its main file, the files read with it, and how to read its examples. */
export interface Dataset {
  format: Format;
  path: string;
  /** files read together with `path` (instances.json, image_data.json, splits) */
  with: string[];
  read(bad: BadRecords, options?: DatasetReadOptions): AsyncIterable<Example>;
}

/**
 * Every dataset in a file or folder (searched `depth` levels down); a file alone is read with its companions beside
 * it. `skipped` lists the folder's files that are no dataset on their own, with the reason.
 */
export async function findDatasets(path: string, depth = 3): Promise<{ datasets: Dataset[]; skipped: string[] }> {
  const target = normalize(path);
  let folder: boolean;
  try {
    folder = (await stat(target)).isDirectory();
  } catch (e) {
    throw readFailure(path, e);
  }
  const files = folder ? await listFiles(target, depth) : (await listFiles(dirname(target), 0)).filter((f) => f === target || companion(f, target));
  const formats = new Map<string, Format | undefined>();
  const skipped: string[] = [];
  for (const f of files) {
    try {
      formats.set(f, await detectFormat(f));
    } catch (e) {
      // a broken file in a folder is reported and passed over; the file asked for fails loudly
      if (!(e instanceof DataError) || f === target) throw e;
      skipped.push(`${f} (${e.message})`);
    }
  }
  const datasets = groupDatasets(formats);
  for (const [f, format] of formats) {
    if (!datasets.some((d) => d.path === f || d.with.includes(f))) {
      skipped.push(`${f} (${format ? `${FORMAT_NAMES[format]} without its main file` : 'not a supported format'})`);
    }
  }
  if (folder) return { datasets, skipped: skipped.sort() };
  const chosen = datasets.filter((d) => d.path === target || d.with.includes(target));
  if (chosen.length === 0) new At(path).fail(`not a supported dataset file (${Object.values(FORMAT_NAMES).join('; ')})`);
  return { datasets: chosen, skipped: [] };
}

const refOptions = (o: DatasetReadOptions) => ({ imageDir: o.imageDir, task: o.refTask, perRef: o.perRef });

const SINGLE_FILE_READERS: Partial<Record<Format, (f: string, bad: BadRecords, o: DatasetReadOptions) => AsyncIterable<Example>>> = {
  'localized-narratives': (f, bad, o) => readLocalizedNarratives(f, { bad, imageDir: o.imageDir }),
  'video-narratives': (f, bad, o) => readVideoNarratives(f, { bad, imageDir: o.imageDir }),
  'refer-embedded': (f, bad, o) => readEmbeddedRefs(f, { bad, ...refOptions(o) }),
  'coco-captions': (f, bad, o) => readCocoCaptions(f, { bad, imageDir: o.imageDir }),
  'coco-instances': (f, bad, o) => readCocoInstances(f, { bad, imageDir: o.imageDir }),
};

/** Datasets from detected files: refs pickles take the instances.json beside them, VG regions their image_data and splits. */
function groupDatasets(formats: ReadonlyMap<string, Format | undefined>): Dataset[] {
  const beside = (f: string, format: Format): string | undefined =>
    [...formats].find(([g, k]) => k === format && dirname(g) === dirname(f))?.[0];
  const datasets: Dataset[] = [];
  for (const [f, format] of formats) {
    if (format === 'refer-pickle') {
      datasets.push({ format, path: f, with: [join(dirname(f), 'instances.json')], read: (bad, o = {}) => readReferPickle(f, { bad, ...refOptions(o) }) });
    } else if (format === 'vg-regions') {
      const imageData = beside(f, 'vg-image-data');
      const splits = beside(f, 'densecap-splits');
      const read = async function* (bad: BadRecords, o: DatasetReadOptions = {}): AsyncGenerator<Example> {
        yield* readVgRegions(f, {
          bad,
          imageDir: o.imageDir,
          imageData: imageData ? await readVgImageData(imageData, bad) : undefined,
          splits: splits ? await readDensecapSplits(splits) : undefined,
        });
      };
      datasets.push({ format, path: f, with: [imageData, splits].filter((g): g is string => g !== undefined), read });
    }
  }
  const companions = new Set(datasets.flatMap((d) => d.with));
  for (const [f, format] of formats) {
    if (!format || companions.has(f)) continue;
    const read = SINGLE_FILE_READERS[format];
    if (read) datasets.push({ format, path: f, with: [], read: (bad, o = {}) => read(f, bad, o) });
  }
  return datasets.sort((a, b) => a.path.localeCompare(b.path));
}

/** Files a lone file is read with: the instances.json of a refs pickle, VG's image_data and splits. */
function companion(f: string, main: string): boolean {
  if (dirname(f) !== dirname(main)) return false;
  const name = basename(f);
  return name === 'instances.json' || /image_data/.test(name) || /split/.test(name) || /^refs\(.+\)\.p$/.test(name) || /region_descriptions/.test(name);
}

async function listFiles(dir: string, depth: number): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw readFailure(dir, e);
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory() && depth > 0 && !e.name.startsWith('.')) out.push(...await listFiles(p, depth - 1));
    else if (e.isFile() && ['.json', '.jsonl', '.p', '.pkl', '.pickle'].includes(extname(e.name).toLowerCase())) out.push(p);
  }
  return out;
}
