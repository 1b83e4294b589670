// The mouse trace: the hand travels to each thing as it is named (minimum-jerk reach with a slight bow, timed by Fitts'
// law), circles or scribbles over it while it is being talked about, sweeps over the background for background words,
// sometimes rests during long pauses (no mouse events, so the trace breaks into segments, as real traces do), and
// trembles a little throughout. Sampled at ~30 Hz with the small timing irregularity of browser mouse events.
import type { Rng } from './rng.ts';
import type { Point } from '../types.ts';
import type { Layout } from './layout.ts';
import { BACKGROUND } from './narrative.ts';
import type { Mention, Persona, Speech } from './speech.ts';

/** A trace point as the LN files store it: x, y as fractions of the image, t in seconds. */
export interface TracePoint {
  x: number;
  y: number;
  t: number;
}

/** A stretch of the hand's motion: position over [t0, t1] and how much tremor rides on it (pixels). */
interface Piece {
  t0: number;
  t1: number;
  at: (t: number) => Point;
  tremor: number;
}

/** Pauses in mouse events longer than this start a new trace segment. */
const SEGMENT_GAP = 0.25;

export function mouseTrace(rng: Rng, speech: Speech, layout: Layout, p: Persona): TracePoint[][] {
  const { pieces, quiet } = plan(rng, speech, p);
  const wobble = tremor(rng);
  const out: TracePoint[][] = [];
  let segment: TracePoint[] = [];
  let last = -Infinity;
  let k = 0;
  const end = pieces[pieces.length - 1]!.t1;
  for (let t = pieces[0]!.t0; t <= end; t += Math.max(0.01, 1 / 30 + rng.normal(0, 0.003)) + (rng.chance(0.03) ? rng.uniform(0.02, 0.12) : 0)) {
    const rest = quiet.find(([a, b]) => t > a && t < b);
    if (rest) t = rest[1];
    while (pieces[k]!.t1 < t && k < pieces.length - 1) k++;
    const piece = pieces[k]!;
    const [x, y] = piece.at(t);
    const [wx, wy] = wobble(t);
    if (t - last > SEGMENT_GAP && segment.length > 0) {
      out.push(segment);
      segment = [];
    }
    segment.push({
      x: round((x + piece.tremor * wx + rng.normal(0, 0.25)) / layout.width, 5),
      y: round((y + piece.tremor * wy + rng.normal(0, 0.25)) / layout.height, 5),
      t: round(t, 3),
    });
    last = t;
  }
  if (segment.length > 0) out.push(segment);
  return out;
}

/** Dwells over each named thing joined by reaches, and the rests where no events are recorded. */
function plan(rng: Rng, speech: Speech, p: Persona): { pieces: Piece[]; quiet: [number, number][] } {
  const dwells: { m: Mention; busyUntil: number }[] = [];
  for (const m of speech.mentions) {
    const last = dwells[dwells.length - 1];
    if (last && last.m.target === m.target) last.busyUntil = m.end; // named again without leaving it
    else dwells.push({ m, busyUntil: m.end });
  }
  const words = speech.words;
  const finish = words[words.length - 1]!.end_time + rng.uniform(0.3, 1.2);
  const first = dwells[0]!.m;
  const pieces: Piece[] = [];
  const quiet: [number, number][] = [];
  // the hand is on the mouse before the first word, and sets off when it knows where it is going
  const t0 = Math.max(0, Math.min(words[0]!.start_time - rng.uniform(0.3, 1), first.depart - rng.uniform(0.1, 0.4)));
  pieces.push({ t0, t1: first.depart, at: () => speech.start, tremor: p.tremor });
  dwells.forEach(({ m, busyUntil }, i) => {
    const leave = i + 1 < dwells.length ? dwells[i + 1]!.m.depart : finish;
    const hover = pattern(rng, m, p);
    const from = pieces[pieces.length - 1]!.at(m.depart);
    const to = hover(m.arrive);
    pieces.push({ t0: m.depart, t1: m.arrive, at: reach(rng, from, to, m.depart, m.arrive), tremor: p.tremor });
    let stop = leave;
    if (leave - busyUntil > 1.5 && rng.chance(0.5)) {
      stop = busyUntil + rng.uniform(0.2, 0.5); // the hand rests until it sets off again
      quiet.push([stop, leave]);
    }
    pieces.push({ t0: m.arrive, t1: stop, at: hover, tremor: Math.min(p.tremor, 0.3 * m.radius + 0.2) });
    if (stop < leave) {
      const still = hover(stop);
      pieces.push({ t0: stop, t1: leave, at: () => still, tremor: 0 });
    }
  });
  return { pieces, quiet };
}

/** Circling or scribbling around the anchor within the mention's radius; a wide slow sweep over the background. */
function pattern(rng: Rng, m: Mention, p: Persona): (t: number) => Point {
  const [ax, ay] = m.anchor;
  const turn = rng.uniform(-Math.PI, Math.PI);
  const [c, s] = [Math.cos(turn), Math.sin(turn)];
  const place = (u: number, v: number): Point => [ax + c * u - s * v, ay + s * u + c * v];
  const r = m.radius;
  if (m.target !== BACKGROUND && rng.chance(p.circles)) {
    const [rx, ry] = [r * rng.uniform(0.7, 1), r * rng.uniform(0.7, 1)];
    const speed = 2 * Math.PI * rng.uniform(0.7, 1.5) * (rng.chance(0.5) ? 1 : -1);
    const phase = rng.uniform(0, 2 * Math.PI);
    return (t) => place(rx * Math.cos(phase + speed * (t - m.arrive)), ry * Math.sin(phase + speed * (t - m.arrive)));
  }
  const slow = m.target === BACKGROUND ? 0.45 : 1;
  const [f1, f2] = [rng.uniform(1.5, 2.5) * slow, rng.uniform(0.3, 0.7) * slow];
  const [a, b] = [rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI)];
  return (t) => place(r * Math.sin(a + 2 * Math.PI * f1 * (t - m.arrive)), 0.6 * r * Math.sin(b + 2 * Math.PI * f2 * (t - m.arrive)));
}

/** A minimum-jerk reach from `from` to `to` over [t0, t1], bowed sideways by up to 15% of its length. */
function reach(rng: Rng, from: Point, to: Point, t0: number, t1: number): (t: number) => Point {
  const [dx, dy] = [to[0] - from[0], to[1] - from[1]];
  const bow = rng.uniform(-0.15, 0.15);
  return (t) => {
    const u = Math.min(1, Math.max(0, (t - t0) / Math.max(1e-6, t1 - t0)));
    const s = u * u * u * (10 - 15 * u + 6 * u * u);
    const side = bow * Math.sin(Math.PI * s);
    return [from[0] + s * dx - side * dy, from[1] + s * dy + side * dx];
  };
}

/** Smooth hand tremor of unit amplitude: two incommensurate sines per axis. */
function tremor(rng: Rng): (t: number) => Point {
  const f = [rng.uniform(3, 4), rng.uniform(7, 9), rng.uniform(3, 4), rng.uniform(7, 9)];
  const ph = f.map(() => rng.uniform(0, 2 * Math.PI));
  const w = (i: number, t: number): number => Math.sin(2 * Math.PI * f[i]! * t + ph[i]!);
  return (t) => [(2 * w(0, t) + w(1, t)) / 3, (2 * w(2, t) + w(3, t)) / 3];
}

const round = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;
