// Prediction files: one JSON object a line, a documented schema per task (see the README). Every line that cannot be
// used is reported as file:line with the reason and counted; nothing is dropped silently.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { jsonLine } from '../data/jsonl.ts';
import type { Box, Point } from '../data/types.ts';
import type { Rle } from '../data/mask.ts';
import { countsFromString } from '../data/mask.ts';
import { UserError } from '../errors.ts';

export type EvalTask = 'refer' | 'refseg' | 'regioncap' | 'caption' | 'trace' | 'densecap';
export const EVAL_TASKS: readonly EvalTask[] = ['refer', 'refseg', 'regioncap', 'caption', 'trace', 'densecap'];

export interface Prediction {
  /** the Example id (refer, refseg, regioncap, trace) or the image id (caption, densecap) */
  key: string;
  line: number;
  box?: Box;
  mask?: Rle;
  caption?: string;
  score?: number;
  /** trace: for each utterance of the narrative, its predicted points in image pixels (null: none predicted) */
  points?: (Point[] | null)[];
}

/** Lines that could not be used, with their reasons ("file:line: reason"). */
export class Problems {
  readonly messages: string[] = [];
  readonly counts: Record<string, number> = {};

  add(kind: string, message: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.messages.push(message);
  }
}

class LineError extends Error {}

const fail = (reason: string): never => {
  throw new LineError(reason);
};

function finite(v: unknown, what: string): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fail(`${what} must be a finite number, got ${JSON.stringify(v)}`);
}

function box(v: unknown, what = 'box'): Box {
  if (!Array.isArray(v) || v.length !== 4) fail(`${what} must be [x0, y0, x1, y1] in image pixels, got ${JSON.stringify(v)}`);
  const b = (v as unknown[]).map((x, i) => finite(x, `${what}[${i}]`)) as Box;
  if (b[2] < b[0] || b[3] < b[1]) fail(`${what} ${JSON.stringify(b)} has x1 < x0 or y1 < y0 (expected [x0, y0, x1, y1], not [x, y, w, h])`);
  return b;
}

function point(v: unknown, what: string): Point {
  if (!Array.isArray(v) || v.length !== 2) fail(`${what} must be [x, y], got ${JSON.stringify(v)}`);
  return [finite((v as unknown[])[0], `${what}[0]`), finite((v as unknown[])[1], `${what}[1]`)];
}

function mask(v: unknown): Rle {
  const m = v as { size?: unknown; counts?: unknown };
  if (typeof v !== 'object' || v === null || !Array.isArray(m.size) || m.size.length !== 2) fail('mask must be a COCO RLE {"size": [h, w], "counts": ...}');
  const size = (m.size as unknown[]).map((x, i) => finite(x, `mask.size[${i}]`)) as [number, number];
  let counts: number[];
  if (typeof m.counts === 'string') counts = countsFromString(m.counts);
  else if (Array.isArray(m.counts)) counts = m.counts.map((x, i) => finite(x, `mask.counts[${i}]`));
  else return fail('mask.counts must be the compressed string or a list of run lengths');
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== size[0] * size[1]) fail(`mask counts sum to ${total}, not h·w = ${size[0] * size[1]}`);
  return { size, counts };
}

function key(o: Record<string, unknown>, field: string): string {
  const v = o[field];
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return fail(`"${field}" must be a string or number, got ${JSON.stringify(v)}`);
}

function caption(o: Record<string, unknown>): string {
  return typeof o.caption === 'string' ? o.caption : fail(`"caption" must be a string, got ${JSON.stringify(o.caption)}`);
}

/** Parses one JSON object as a prediction of `task`. */
export function parsePrediction(task: EvalTask, value: unknown, line: number): Prediction {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected a JSON object');
  const o = value as Record<string, unknown>;
  switch (task) {
    case 'refer':
      return { key: key(o, 'id'), line, box: box(o.box) };
    case 'refseg':
      return { key: key(o, 'id'), line, mask: mask(o.mask), ...(o.box !== undefined ? { box: box(o.box) } : {}) };
    case 'regioncap':
      return { key: key(o, 'id'), line, caption: caption(o) };
    case 'caption':
      return { key: key(o, 'image_id'), line, caption: caption(o) };
    case 'densecap':
      return { key: key(o, 'image_id'), line, box: box(o.box), caption: caption(o), score: finite(o.score, 'score') };
    case 'trace': {
      if (!Array.isArray(o.points)) fail('"points" must be a list with one entry per utterance: a list of [x, y] points, or null');
      const points = (o.points as unknown[]).map((u, k) =>
        u === null ? null : Array.isArray(u) ? u.map((p, i) => point(p, `points[${k}][${i}]`)) : fail(`points[${k}] must be a list of [x, y] or null`));
      return { key: key(o, 'id'), line, points };
    }
  }
}

/**
 * Reads a predictions file. For every task but densecap one line per key is expected: a repeated key is reported and
 * the first line kept. Blank lines are skipped; every other unusable line is reported.
 */
export async function readPredictions(path: string, task: EvalTask, problems: Problems): Promise<Map<string, Prediction[]>> {
  const byKey = new Map<string, Prediction[]>();
  let n = 0;
  const stream = createReadStream(path, 'utf8');
  const opened = new Promise<void>((resolve, reject) => (stream.once('open', () => resolve()), stream.once('error', reject)));
  try {
    await opened;
  } catch (e) {
    throw new UserError(`cannot read predictions ${path}: ${(e as Error).message}`);
  }
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    n++;
    if (text.trim() === '') continue;
    try {
      let value: unknown;
      try {
        value = JSON.parse(jsonLine(text, n));
      } catch (e) {
        fail(`not JSON (${(e as Error).message})`);
      }
      const p = parsePrediction(task, value, n);
      const seen = byKey.get(p.key);
      if (seen !== undefined && task !== 'densecap') {
        problems.add('duplicate', `${path}:${n}: duplicate ${task === 'caption' ? 'image_id' : 'id'} ${JSON.stringify(p.key)} (first at line ${seen[0]!.line}); this line is ignored`);
        continue;
      }
      byKey.set(p.key, [...(seen ?? []), p]);
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      problems.add('malformed', `${path}:${n}: ${e.message}`);
    }
  }
  return byKey;
}
