// Localized Narratives (image schema): one narrative a line, a caption spoken while the annotator moved the mouse.
// {dataset_id, image_id, annotator_id, caption, timed_caption: [{utterance, start_time, end_time}],
//  traces: [[{x, y, t}]], voice_recording}; x, y are fractions of the image, times are seconds.
// https://google.github.io/localized-narratives/ (file formats)
import { join } from 'node:path';
import { parseJsonl } from '../jsonl.ts';
import { array, At, BadRecords, id, num, object, str } from '../records.ts';
import { utteranceTargets, type TimedUtterance, type TracePoint } from '../trace_targets.ts';
import type { Example } from '../types.ts';

export interface Narrative {
  dataset_id: string;
  image_id: string;
  annotator_id: string;
  caption: string;
  timed_caption: TimedUtterance[];
  traces: TracePoint[][];
}

export interface NarrativeOptions {
  /** folder of the images; imagePath is joined to it (default: relative paths) */
  imageDir?: string;
  /** image sizes by image_id, e.g. from COCO's json (cocoImages); without one width and height are 0 (unknown) */
  imageSizes?: ReadonlyMap<string, { width: number; height: number }>;
  bad?: BadRecords;
}

/** Checks one record of the image schema; a missing or mistyped field is a DataError naming its key path. */
export function parseNarrative(value: unknown, at: At): Narrative {
  const o = object(at, value);
  const timed = array(at.key('timed_caption'), o.timed_caption).map((u, i) => {
    const a = at.key('timed_caption').index(i);
    const r = object(a, u);
    return { utterance: str(a.key('utterance'), r.utterance), start_time: num(a.key('start_time'), r.start_time), end_time: num(a.key('end_time'), r.end_time) };
  });
  const traces = array(at.key('traces'), o.traces).map((segment, i) =>
    array(at.key('traces').index(i), segment).map((p, j) => {
      const a = at.key('traces').index(i).index(j);
      const r = object(a, p);
      return { x: num(a.key('x'), r.x), y: num(a.key('y'), r.y), t: num(a.key('t'), r.t) };
    }));
  return {
    dataset_id: str(at.key('dataset_id'), o.dataset_id),
    image_id: id(at.key('image_id'), o.image_id),
    annotator_id: id(at.key('annotator_id'), o.annotator_id),
    caption: str(at.key('caption'), o.caption),
    timed_caption: timed,
    traces,
  };
}

/** The image file of a narrative: COCO ids are zero-padded to 12 digits as in train2017/val2017, others as given. */
export function narrativeImageFile(datasetId: string, imageId: string): string {
  const coco = /coco/i.test(datasetId) && /^\d+$/.test(imageId);
  return `${coco ? imageId.padStart(12, '0') : imageId}.jpg`;
}

/**
 * A `trace` example with per-utterance targets (DESIGN §2), or undefined for a narrative with fewer than 2 trace
 * points, which the reference leaves out (counted in bad.dropped).
 */
export function narrativeExample(n: Narrative, options: NarrativeOptions = {}): Example | undefined {
  const points = n.traces.flat();
  if (points.length < 2) {
    options.bad?.drop('narrative with fewer than 2 trace points');
    return undefined;
  }
  const size = options.imageSizes?.get(n.image_id);
  const file = narrativeImageFile(n.dataset_id, n.image_id);
  return {
    task: 'trace',
    source: `ln/${n.dataset_id}`,
    id: `${n.image_id}:${n.annotator_id}`,
    imageId: n.image_id,
    imagePath: options.imageDir ? join(options.imageDir, file) : file,
    width: size?.width ?? 0,
    height: size?.height ?? 0,
    text: n.caption,
    utterances: utteranceTargets(points, n.timed_caption),
  };
}

/** The `trace` examples of a Localized Narratives .jsonl file, streamed. */
export async function* readLocalizedNarratives(path: string, options: NarrativeOptions = {}): AsyncGenerator<Example> {
  const bad = options.bad ?? new BadRecords();
  for await (const n of parseJsonl(path, parseNarrative, bad)) {
    const ex = narrativeExample(n, { ...options, bad });
    if (ex) yield ex;
  }
}
