// Independent readers for checking the synthetic data: the 16 trace samples of an utterance as DESIGN §2 takes them
// (the project's utteranceTargets keeps only their box and centre; the tests need the samples themselves), and a
// parser from referring-expression text back to a description (by vocabulary, not by the generator's templates).
import type { Description, Dir, Relation } from '../src/data/synth/spatial.ts';
import { COLOUR_NAMES, SHAPES, type Colour, type Shape, type Size, type Texture } from '../src/data/synth/vocab.ts';

export interface TracePoint {
  x: number;
  y: number;
  t: number;
}

/**
 * DESIGN §2 step 1–2: join the segments, sort by time, sample 16 times evenly over [start, end], interpolate linearly
 * (held at the ends) and return the samples, the box [x0, y0, x1, y1] and the time-averaged centre, all in fractions.
 */
export function utteranceTrace(traces: TracePoint[][], start: number, end: number): { samples: [number, number][]; box: number[]; centre: [number, number] } {
  const pts = traces.flat().sort((a, b) => a.t - b.t);
  const at = (t: number): [number, number] => {
    if (t <= pts[0]!.t) return [pts[0]!.x, pts[0]!.y];
    const last = pts[pts.length - 1]!;
    if (t >= last.t) return [last.x, last.y];
    let lo = 0;
    let hi = pts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (pts[mid]!.t <= t) lo = mid;
      else hi = mid;
    }
    const [a, b] = [pts[lo]!, pts[hi]!];
    const u = b.t === a.t ? 0 : (t - a.t) / (b.t - a.t);
    return [a.x + u * (b.x - a.x), a.y + u * (b.y - a.y)];
  };
  const samples = Array.from({ length: 16 }, (_, k) => at(start + ((end - start) * k) / 15));
  const xs = samples.map((s) => s[0]);
  const ys = samples.map((s) => s[1]);
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  return { samples, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], centre: [mean(xs), mean(ys)] };
}

const SIZE_OF: Record<string, Size> = { small: 'small', medium: 'medium', 'medium-sized': 'medium', large: 'large', big: 'large' };
const TEXTURE_OF: Record<string, Texture> = { plain: 'plain', striped: 'striped', dotted: 'dotted', checkered: 'checkered' };
const ORDINAL_OF: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, fifth: 5, sixth: 6, seventh: 7, eighth: 8 };
const RELATION_OF: [string, Relation][] = [
  ['to the left of', 'left of'], ['left of', 'left of'], ['to the right of', 'right of'], ['right of', 'right of'],
  ['above', 'above'], ['below', 'below'], ['under', 'below'], ['next to', 'next to'], ['beside', 'next to'], ['near', 'next to'],
];
const EXTREME_OF: [RegExp, Dir][] = [
  [/\b(on the (far )?left|leftmost)\b/, 'left'], [/\b(on the (far )?right|rightmost)\b/, 'right'],
  [/\b(at the (very )?top|topmost)\b/, 'top'], [/\b(at the (very )?bottom|lowest)\b/, 'bottom'],
];

function attributes(words: string[]): Description['attrs'] {
  const attrs: Description['attrs'] = {};
  for (const w of words) {
    if (w in SIZE_OF) attrs.size = SIZE_OF[w];
    else if (w in TEXTURE_OF) attrs.texture = TEXTURE_OF[w];
    else if ((COLOUR_NAMES as string[]).includes(w)) attrs.colour = w as Colour;
    else if ((SHAPES as readonly string[]).includes(w)) attrs.shape = w as Shape;
    else if (!['the', 'one', 'shape'].includes(w)) throw new Error(`unknown word '${w}' in an attribute phrase`);
  }
  return attrs;
}

/** Reads a referring expression back into attributes and a spatial part, from the vocabulary alone. */
export function parseExpression(text: string): Description & { spatialWords: boolean } {
  for (const [phrase, relation] of RELATION_OF) {
    const i = ` ${text} `.indexOf(` ${phrase} `);
    if (i < 0) continue;
    const head = text.slice(0, i).trim().split(' ');
    const landmark = text.slice(i + phrase.length).trim().split(' ');
    return { attrs: attributes(head), spatial: { kind: 'relation', relation, landmark: attributes(landmark) }, spatialWords: true };
  }
  const ordinal = /\b(first|second|third|fourth|fifth|sixth|seventh|eighth)\b(.*)\bfrom the (left|right|top|bottom)$/.exec(text);
  if (ordinal) {
    const rest = text.replace(/\bfrom the (left|right|top|bottom)$/, '').split(' ').filter((w) => w && !(w in ORDINAL_OF));
    return { attrs: attributes(rest), spatial: { kind: 'ordinal', rank: ORDINAL_OF[ordinal[1]!]!, dir: ordinal[3] as Dir }, spatialWords: true };
  }
  for (const [pattern, dir] of EXTREME_OF) {
    if (!pattern.test(text)) continue;
    return { attrs: attributes(text.replace(pattern, ' ').split(' ').filter(Boolean)), spatial: { kind: 'extreme', dir }, spatialWords: true };
  }
  return { attrs: attributes(text.split(' ')), spatialWords: false };
}
