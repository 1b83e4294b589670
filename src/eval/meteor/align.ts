// METEOR 1.5's aligner: every exact, stem and synonym match between the words of the hypothesis (line 1) and the
// reference (line 2), unambiguous one-to-one matches fixed first, then a beam search (width 40) left to right over the
// reference for the alignment with the most matches, then the fewest chunks, then the smallest position distance.
// Ported with its integer arithmetic: the search weights non-exact matches 0.5 and adds them to an int, so only
// exact matches raise a path's match score; stem and synonym matches win on chunks and order (the match is tried
// before skipping, and the sort is stable). The distance of a taken match is added to the skipping path, as there.
// https://github.com/cmu-mtlab/meteor/blob/master/src/edu/cmu/meteor/aligner/Aligner.java
import { stem } from './stemmer.ts';
import type { SynonymDictionary } from './wordnet.ts';

export const enum Module {
  Exact = 0,
  Stem = 1,
  Synonym = 2,
}

export interface Match {
  module: Module;
  /** position in line 2 (the reference) */
  start: number;
  /** position in line 1 (the hypothesis) */
  matchStart: number;
}

export interface Alignment {
  /** the chosen match for each reference position, or null */
  matches: (Match | null)[];
  chunks: number;
}

const BEAM = 40;
// MeteorScorer hands the aligner these weights for the search: exact 1, everything else 0.5
const SEARCH_WEIGHT = [1, 0.5, 0.5];

interface Path {
  matches: (Match | null)[];
  used1: boolean[];
  used2: boolean[];
  score: number;
  chunks: number;
  idx: number;
  lastMatchEnd: number;
  distance: number;
}

const copy = (p: Path): Path => ({ ...p, matches: [...p.matches], used1: [...p.used1], used2: [...p.used2] });
const compare = (x: Path, y: Path): number => y.score - x.score || x.chunks - y.chunks || x.distance - y.distance;
// Java's `int += double` truncates toward zero
const addWeighted = (score: number, m: Match): number => Math.trunc(score + SEARCH_WEIGHT[m.module]!);

function candidateMatches(words1: string[], words2: string[], synonyms: SynonymDictionary | null): Match[][] {
  const byStart: Match[][] = words2.map(() => []);
  const add = (module: Module, i: number, j: number): void => void byStart[j]!.push({ module, start: j, matchStart: i });
  for (let j = 0; j < words2.length; j++) for (let i = 0; i < words1.length; i++) if (words1[i] === words2[j]) add(Module.Exact, i, j);
  // identical sentences need only exact matches (this also keeps the beam from erring)
  if (words1.length === words2.length && words1.every((w, i) => w === words2[i])) return byStart;
  const stems1 = words1.map(stem);
  const stems2 = words2.map(stem);
  for (let j = 0; j < words2.length; j++)
    for (let i = 0; i < words1.length; i++) if (stems1[i] === stems2[j] && words1[i] !== words2[j]) add(Module.Stem, i, j);
  if (synonyms !== null) {
    const syn = (w: string): Set<number> => new Set([...synonyms.synsets(w), ...synonyms.stemSynsets(w)]);
    const syn1 = words1.map(syn);
    const syn2 = words2.map(syn);
    for (let j = 0; j < words2.length; j++)
      for (let i = 0; i < words1.length; i++)
        if (words1[i] !== words2[j] && [...syn1[i]!].some((s) => syn2[j]!.has(s))) add(Module.Synonym, i, j);
  }
  return byStart;
}

/** The best METEOR alignment of hypothesis words `words1` to reference words `words2`. */
export function align(words1: string[], words2: string[], synonyms: SynonymDictionary | null): Alignment {
  const byStart = candidateMatches(words1, words2, synonyms);
  const cover1 = new Array<number>(words1.length).fill(0);
  const cover2 = new Array<number>(words2.length).fill(0);
  for (const ms of byStart) for (const m of ms) (cover1[m.matchStart]!++, cover2[m.start]!++);
  const start: Path = {
    matches: new Array(words2.length).fill(null), used1: new Array(words1.length).fill(false),
    used2: new Array(words2.length).fill(false), score: 0, chunks: 0, idx: 0, lastMatchEnd: -1, distance: 0,
  };
  // a match that is the only one at its position and overlaps no other is certain
  byStart.forEach((ms, j) => {
    const m = ms[0];
    if (ms.length === 1 && m !== undefined && cover2[j] === 1 && cover1[m.matchStart] === 1) {
      start.matches[j] = m;
      start.used2[j] = true;
      start.used1[m.matchStart] = true;
    }
  });
  let next: Path[] = [start];
  for (let current = 0; current <= words2.length; current++) {
    const paths = next.sort(compare); // Array.prototype.sort is stable, as Collections.sort
    next = [];
    for (let rank = 0; rank < BEAM && rank < paths.length; rank++) {
      const path = paths[rank]!;
      if (current === words2.length) {
        if (path.lastMatchEnd !== -1) path.chunks++;
        next.push(path);
        continue;
      }
      if (path.used2[current]) {
        if (current < path.idx) next.push(path);
        else if (path.matches[path.idx] !== null) {
          const m = path.matches[path.idx]!;
          path.score = addWeighted(addWeighted(path.score, m), m); // once for each line's word
          if (path.lastMatchEnd !== -1 && m.matchStart !== path.lastMatchEnd) path.chunks++;
          path.idx = m.start + 1;
          path.lastMatchEnd = m.matchStart + 1;
          path.distance += Math.abs(m.start - m.matchStart);
          next.push(path);
        }
        continue;
      }
      for (const m of byStart[current]!) {
        if (path.used2[m.start] || path.used1[m.matchStart]) continue;
        const p = copy(path);
        p.used2[m.start] = true;
        p.used1[m.matchStart] = true;
        p.matches[current] = m;
        p.score = addWeighted(addWeighted(p.score, m), m);
        if (p.lastMatchEnd !== -1 && m.matchStart !== p.lastMatchEnd) p.chunks++;
        p.idx = m.start + 1;
        p.lastMatchEnd = m.matchStart + 1;
        path.distance += Math.abs(m.start - m.matchStart);
        next.push(p);
      }
      if (path.lastMatchEnd !== -1) {
        path.chunks++;
        path.lastMatchEnd = -1;
      }
      path.idx++;
      next.push(path);
    }
    if (next.length === 0) next.push(paths[0]!);
  }
  const best = next.sort(compare)[0]!;
  return { matches: best.matches, chunks: countChunks(best.matches) };
}

function countChunks(matches: (Match | null)[]): number {
  let chunks = 0;
  let lastMatchEnd = -1;
  for (const m of matches) {
    if (m === null) {
      if (lastMatchEnd !== -1) (chunks++, (lastMatchEnd = -1));
      continue;
    }
    if (lastMatchEnd !== -1 && m.matchStart !== lastMatchEnd) chunks++;
    lastMatchEnd = m.matchStart + 1;
  }
  return lastMatchEnd !== -1 ? chunks + 1 : chunks;
}
