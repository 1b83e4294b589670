// When each word is said: word durations, the short gaps inside a sentence and the long pauses between sentences seen in
// the real Localized Narratives files (median word 0.3–0.5 s, most words back to back, pauses of seconds between
// sentences), and a pause before a word that names something new whenever the hand needs time to get there.
import type { Rng } from './rng.ts';
import type { Point } from '../types.ts';
import type { Layout } from './layout.ts';
import { BACKGROUND, type Sentence } from './narrative.ts';

/** One annotator's habits, fixed by the annotator id so the same person speaks and moves alike in every image. */
export interface Persona {
  /** multiplies word durations and pauses */
  rate: number;
  /** chance of circling (rather than scribbling) over an object */
  circles: number;
  /** hand tremor amplitude in pixels */
  tremor: number;
  /** multiplies travel times */
  hand: number;
}

export function persona(rng: Rng): Persona {
  return { rate: rng.uniform(0.85, 1.3), circles: rng.uniform(0.3, 0.9), tremor: rng.uniform(0.5, 1.5), hand: rng.uniform(0.8, 1.3) };
}

/** A word as the LN files time it, and what it names. */
export interface TimedWord {
  utterance: string;
  start_time: number;
  end_time: number;
  names?: number;
}

/** A run of consecutive words naming the same thing, from the start of its first word to the end of its last. */
export interface Mention {
  target: number;
  start: number;
  end: number;
  /** the hand leaves the previous thing at `depart` and is over this one at `arrive` (both = start for a thing named again) */
  depart: number;
  arrive: number;
  /** where the hand points and how far it may wander from there without leaving the thing */
  anchor: Point;
  radius: number;
}

/** Where the hand goes for a target and how widely it may move there. */
function aim(layout: Layout, target: number): { anchor: Point; radius: number } {
  const r = target === BACKGROUND ? layout.backgroundRegion : layout.things[target]!;
  return { anchor: r.anchor, radius: Math.max(0, 0.7 * r.clearance - 1) };
}

/** Seconds to move the hand `distance` pixels onto a target of `radius` (Fitts' law with a per-person factor). */
function travelTime(p: Persona, distance: number, radius: number): number {
  return p.hand * (0.2 + 0.1 * Math.log2(1 + distance / Math.max(4, 2 * radius)));
}

export interface Speech {
  words: TimedWord[];
  mentions: Mention[];
  /** the hand's first position, before it sets off for the first thing named */
  start: Point;
}

export function speak(rng: Rng, sentences: Sentence[], layout: Layout, p: Persona): Speech {
  const words: TimedWord[] = [];
  const mentions: Mention[] = [];
  const start: Point = [layout.width * rng.uniform(0.3, 0.7), layout.height * rng.uniform(0.3, 0.7)];
  let t = rng.uniform(0.8, 2.5);
  let at = start;
  let previous: TimedWord | undefined;
  sentences.forEach((sentence, s) => {
    if (s > 0) t += p.rate * (rng.chance(0.1) ? rng.uniform(4, 9) : rng.uniform(0.6, 3));
    sentence.forEach((w, i) => {
      if (i > 0) {
        const u = rng.next();
        t += u < 0.7 ? 0 : u < 0.95 ? rng.uniform(0.03, 0.3) : rng.uniform(0.5, 1.5);
      }
      const last = mentions[mentions.length - 1];
      const continues = previous?.names !== undefined && previous.names === w.names;
      if (w.names !== undefined && !continues) {
        const { anchor, radius } = aim(layout, w.names);
        let [depart, arrive] = [t, t];
        if (last?.target !== w.names) {
          // wait until the hand, which stays on the last thing a little after naming it, can be here with time to spare
          const lead = rng.uniform(0.1, 0.35);
          const travel = travelTime(p, Math.hypot(anchor[0] - at[0], anchor[1] - at[1]), radius);
          t = Math.max(t, (last ? last.end + rng.uniform(0.1, 0.25) : 0) + travel + lead);
          arrive = t - lead;
          depart = arrive - travel;
          at = anchor;
        }
        mentions.push({ target: w.names, start: t, end: t, depart, arrive, anchor, radius });
      }
      const duration = Math.max(0.12, (0.12 + 0.055 * w.text.length) * p.rate * rng.uniform(0.8, 1.25));
      const word: TimedWord = { utterance: w.text, start_time: t, end_time: t + duration, names: w.names };
      if (w.names !== undefined) mentions[mentions.length - 1]!.end = word.end_time;
      words.push(word);
      previous = word;
      t += duration;
    });
  });
  return { words, mentions, start };
}
