// Video Localized Narratives: one video a line, one narrative per actor, traces drawn on keyframes with epoch-ms
// timestamps and word timings in ms from the recording start.
// https://github.com/google/video-localized-narratives
// Each actor narrative becomes an image-schema Narrative on the keyframe the annotator traced most (the layout of
// ../shared/data/localized-narratives/derived_image_ln_style.jsonl): its traces on that keyframe, times in seconds
// from the recording start, one utterance per timed word; then the image reader's targets apply unchanged.
import { parseJsonl } from '../jsonl.ts';
import { array, At, BadRecords, id, int, num, object, str } from '../records.ts';
import type { TracePoint } from '../trace_targets.ts';
import type { Example } from '../types.ts';
import { narrativeExample, type Narrative, type NarrativeOptions } from './localized_narratives.ts';

/** The image-schema narratives of one Video LN record, one per actor. */
export function parseVideoNarratives(value: unknown, at: At): Narrative[] {
  const o = object(at, value);
  const datasetId = str(at.key('dataset_id'), o.dataset_id);
  const videoId = id(at.key('video_id'), o.video_id);
  const annotatorId = id(at.key('annotator_id'), o.annotator_id);
  const keyframes = array(at.key('keyframe_names'), o.keyframe_names).map((k, i) => str(at.key('keyframe_names').index(i), k));
  return array(at.key('actor_narratives'), o.actor_narratives).map((actor, i) => {
    const a = at.key('actor_narratives').index(i);
    const r = object(a, actor);
    const start = num(a.key('recording_start_time_ms_since_epoch'), r.recording_start_time_ms_since_epoch);
    const segments = array(a.key('traces'), r.traces).map((segment, s) =>
      array(a.key('traces').index(s), segment).map((p, j) => {
        const pa = a.key('traces').index(s).index(j);
        const q = object(pa, p);
        const kf = int(pa.key('kf_idx'), q.kf_idx);
        if (kf < 0 || kf >= keyframes.length) pa.key('kf_idx').fail(`keyframe ${kf} is not one of the ${keyframes.length} keyframe_names`);
        const point: TracePoint = { x: num(pa.key('x'), q.x), y: num(pa.key('y'), q.y), t: (num(pa.key('time_ms_since_epoch'), q.time_ms_since_epoch) - start) / 1000 };
        return { kf, point };
      }));
    const selected = r.keyframe_selection_indices === undefined ? [] : array(a.key('keyframe_selection_indices'), r.keyframe_selection_indices)
      .map((k, j) => int(a.key('keyframe_selection_indices').index(j), k));
    const kf = mostTraced(segments.flat().map((p) => p.kf), selected);
    const words = array(a.key('time_alignment'), r.time_alignment).map((w, j) => {
      const wa = a.key('time_alignment').index(j);
      const q = object(wa, w);
      return { utterance: str(wa.key('referenced_word'), q.referenced_word), start_time: num(wa.key('start_ms'), q.start_ms) / 1000, end_time: num(wa.key('end_ms'), q.end_ms) / 1000 };
    });
    return {
      dataset_id: `DERIVED_from_vidln_${datasetId}`,
      image_id: `${videoId}/${keyframes[kf] ?? ''}`,
      annotator_id: annotatorId,
      caption: str(a.key('caption'), r.caption),
      timed_caption: words,
      traces: segments.map((seg) => seg.filter((p) => p.kf === kf).map((p) => p.point)).filter((seg) => seg.length > 0),
    };
  });
}

/** The keyframe with the most trace points; ties go to the one selected first, then the lower index. */
function mostTraced(kfs: number[], selected: number[]): number {
  const count = new Map<number, number>();
  for (const k of kfs) count.set(k, (count.get(k) ?? 0) + 1);
  const order = [...selected, ...[...count.keys()].sort((p, q) => p - q)];
  let best = order[0] ?? 0;
  for (const k of order) if ((count.get(k) ?? 0) > (count.get(best) ?? 0)) best = k;
  return best;
}

/** The `trace` examples (per-word targets) of a Video Localized Narratives .jsonl file, streamed. */
export async function* readVideoNarratives(path: string, options: NarrativeOptions = {}): AsyncGenerator<Example> {
  const bad = options.bad ?? new BadRecords();
  for await (const narratives of parseJsonl(path, parseVideoNarratives, bad)) {
    for (const n of narratives) {
      const ex = narrativeExample(n, { ...options, bad });
      if (ex) yield ex;
    }
  }
}
