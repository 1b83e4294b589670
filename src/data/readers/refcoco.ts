// RefCOCO, RefCOCO+ and RefCOCOg in two layouts:
// - the refer toolkit's: <root>/<dataset>/refs(<splitBy>).p (a Python 2 pickle: a list of refs
//   {ref_id, ann_id, image_id, split, file_name, category_id, sentences: [{sent_id, sent, raw, tokens}]}) beside the
//   COCO-format instances.json holding the referred objects (https://github.com/lichengunc/refer);
// - one json {"ref": [...]} whose refs carry their COCO annotation as `ann` and their dataset and partition
//   (TFDS's layout, ../shared/data/refcoco-sample).
// Splits: unc has train/val/testA/testB, umd train/val/test, google train/val (and test in some copies).
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { streamJson } from '../json_stream.ts';
import { readPickle } from '../pickle.ts';
import { array, At, BadRecords, id, object, readFailure, str } from '../records.ts';
import type { Example } from '../types.ts';
import { parseCocoAnnotation, readCocoAnnotations, readCocoImages, type CocoAnnotation, type CocoImage } from './coco.ts';

export interface Ref {
  ref_id: string;
  ann_id: string;
  image_id: string;
  split: string;
  file_name: string;
  sentences: { sent_id: string; sent: string; raw: string }[];
  /** the embedded layout names them per ref; the refer layout by folder and file name */
  dataset?: string;
  splitBy?: string;
  ann?: CocoAnnotation;
}

export interface RefOptions {
  /** keep only these splits (default: all) */
  splits?: readonly string[];
  /** `refer` (default): the expression and its object's box and mask; `regioncap`: the box as prompt, the expression as caption */
  task?: 'refer' | 'regioncap';
  /** one example per object instead of per sentence, with its first sentence as text (for region-caption evaluation) */
  perRef?: boolean;
  /** which sentence field is the text: `sent` (normalised; the PixelLLM configs' choice, default) or `raw` */
  text?: 'sent' | 'raw';
  /** folder of the COCO images */
  imageDir?: string;
  /** how the image folder names files: `train2017` (default, `000000XXXXXX.jpg`) or `train2014` (`COCO_train2014_000000XXXXXX.jpg`) */
  imageNames?: 'train2017' | 'train2014';
  bad?: BadRecords;
}

export function parseRef(value: unknown, at: At): Ref {
  const o = object(at, value);
  const sentences = array(at.key('sentences'), o.sentences).map((s, i) => {
    const a = at.key('sentences').index(i);
    const r = object(a, s);
    return { sent_id: id(a.key('sent_id'), r.sent_id), sent: str(a.key('sent'), r.sent), raw: str(a.key('raw'), r.raw) };
  });
  if (sentences.length === 0) at.key('sentences').fail('a ref needs at least one sentence');
  return {
    ref_id: id(at.key('ref_id'), o.ref_id),
    ann_id: id(at.key('ann_id'), o.ann_id),
    image_id: id(at.key('image_id'), o.image_id),
    split: str(at.key('split'), o.split),
    file_name: str(at.key('file_name'), o.file_name),
    sentences,
    dataset: o.dataset === undefined ? undefined : str(at.key('dataset'), o.dataset),
    splitBy: o.dataset_partition === undefined ? undefined : str(at.key('dataset_partition'), o.dataset_partition),
    ann: o.ann === undefined ? undefined : parseCocoAnnotation(o.ann, at.key('ann')),
  };
}

/** The COCO image file of a ref: `COCO_train2014_000000XXXXXX_N.jpg` is train2017's `000000XXXXXX.jpg`. */
export function refImageFile(ref: Ref, names: 'train2017' | 'train2014' = 'train2017'): string {
  const m = /^(COCO_[a-z]+\d{4}_)?(\d{12})(_\d+)?\.jpg$/.exec(ref.file_name);
  const digits = m?.[2] ?? ref.image_id.padStart(12, '0');
  return names === 'train2017' ? `${digits}.jpg` : `${m?.[1] ?? 'COCO_train2014_'}${digits}.jpg`;
}

/** The examples of one ref whose annotation and (when known) image are resolved. */
export function refExamples(ref: Ref, ann: CocoAnnotation, image: CocoImage | undefined, options: RefOptions = {}): Example[] {
  const field = options.text ?? 'sent';
  const texts = ref.sentences.map((s) => s[field]);
  const file = refImageFile(ref, options.imageNames);
  const common = {
    task: options.task ?? 'refer',
    source: [ref.dataset ?? 'refcoco', ref.splitBy, ref.split].filter(Boolean).join('/'),
    imageId: ref.image_id,
    imagePath: options.imageDir ? join(options.imageDir, file) : file,
    width: image?.width ?? 0,
    height: image?.height ?? 0,
    box: ann.box,
    segmentation: ann.segmentation,
    references: texts,
  } as const;
  const sentences = options.perRef ? ref.sentences.slice(0, 1) : ref.sentences;
  return sentences.map((s) => ({ ...common, id: options.perRef ? ref.ref_id : `${ref.ref_id}:${s.sent_id}`, text: s[field] }));
}

const wantSplit = (ref: Ref, options: RefOptions): boolean => !options.splits || options.splits.includes(ref.split);

/**
 * The examples of a refer-toolkit `refs(<splitBy>).p` with the instances.json beside it (or `instancesPath`).
 * The dataset name is the folder's (refcoco, refcoco+, refcocog), the partition the file's.
 */
export async function* readReferPickle(refsPath: string, options: RefOptions & { instancesPath?: string; dataset?: string } = {}): AsyncGenerator<Example> {
  const bad = options.bad ?? new BadRecords();
  let bytes: Uint8Array;
  try {
    bytes = await readFile(refsPath);
  } catch (e) {
    throw readFailure(refsPath, e);
  }
  const root = new At(refsPath);
  const dataset = options.dataset ?? basename(dirname(refsPath));
  const splitBy = /\((\w+)\)/.exec(basename(refsPath))?.[1];
  const refs: { ref: Ref; at: At }[] = [];
  array(root, readPickle(bytes, refsPath)).forEach((value, i) => {
    const at = root.index(i);
    const ref = bad.guard(() => parseRef(value, at));
    if (ref && wantSplit(ref, options)) refs.push({ ref: { ...ref, dataset, splitBy }, at });
  });
  const instancesPath = options.instancesPath ?? join(dirname(refsPath), 'instances.json');
  const { images } = await readCocoImages(instancesPath, bad);
  const needed = new Set(refs.map((r) => r.ref.ann_id));
  const anns = new Map<string, CocoAnnotation>();
  const parse = (value: unknown, at: At) => (needed.has(String((value as { id?: unknown })?.id)) ? parseCocoAnnotation(value, at, images) : null);
  for await (const a of readCocoAnnotations(instancesPath, parse, bad)) if (a) anns.set(a.id, a);
  for (const { ref, at } of refs) {
    const ann = anns.get(ref.ann_id);
    const found = bad.guard(() => {
      if (!ann) return at.key('ann_id').fail(`annotation ${ref.ann_id} is not in ${instancesPath}`);
      if (ann.image_id !== ref.image_id) at.key('image_id').fail(`image ${ref.image_id} differs from annotation ${ann.id}'s image ${ann.image_id}`);
      return ann;
    });
    if (found) yield* refExamples(ref, found, images.get(ref.image_id), options);
  }
}

/** The examples of a json of refs with embedded `ann` (`{"ref": [...]}` or a bare list), streamed. */
export async function* readEmbeddedRefs(path: string, options: RefOptions = {}): AsyncGenerator<Example> {
  const bad = options.bad ?? new BadRecords();
  for await (const item of streamJson(path, { keys: ['ref', 'refs'] }, bad)) {
    if (item.index < 0) item.at.fail('expected a list of refs');
    const ref = bad.guard(() => {
      const r = parseRef(item.value, item.at);
      if (!r.ann) return item.at.key('ann').fail('missing: this layout embeds each ref\'s COCO annotation as `ann`');
      if (r.ann.image_id !== r.image_id) item.at.key('ann').key('image_id').fail(`image ${r.ann.image_id} differs from the ref's image ${r.image_id}`);
      return r;
    });
    if (ref?.ann && wantSplit(ref, options)) yield* refExamples(ref, ref.ann, undefined, options);
  }
}
