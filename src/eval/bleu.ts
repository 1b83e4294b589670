// BLEU-1..4 as pycocoevalcap's bleu_scorer.py computes it (option "closest"): clipped n-gram counts summed over the
// corpus, the effective reference length is the reference length closest to the candidate's (ties go to the shorter),
// and the 1e-9 / 1e-15 constants that keep empty counts finite.
// https://github.com/tylin/coco-caption/blob/master/pycocoevalcap/bleu/bleu_scorer.py
import { ngramCounts, ngramOrder, splitWords } from './ngrams.ts';

const SMALL = 1e-9;
const TINY = 1e-15;

/** The sufficient statistics of one candidate against its references. */
export interface BleuStats {
  testlen: number;
  reflen: number;
  guess: number[];
  correct: number[];
}

export interface BleuResult {
  /** corpus BLEU-1..n */
  bleu: number[];
  /** per-candidate BLEU-1..n (bleu_list[k][i] in the reference) */
  perItem: number[][];
  totals: BleuStats;
}

/** Statistics of one tokenised candidate against its tokenised references. */
export function bleuStats(candidate: string, references: readonly string[], n = 4): BleuStats {
  const maxCounts = new Map<string, number>();
  const refLens: number[] = [];
  for (const ref of references) {
    const words = splitWords(ref);
    refLens.push(words.length);
    for (const [g, c] of ngramCounts(words, n)) maxCounts.set(g, Math.max(maxCounts.get(g) ?? 0, c));
  }
  const words = splitWords(candidate);
  const testlen = words.length;
  // min over (|l − testlen|, l): the closest length, the shorter one on a tie
  let reflen = Infinity;
  let best = Infinity;
  for (const l of refLens) {
    const d = Math.abs(l - testlen);
    if (d < best || (d === best && l < reflen)) {
      best = d;
      reflen = l;
    }
  }
  const guess = Array.from({ length: n }, (_, k) => Math.max(0, testlen - k));
  const correct = new Array<number>(n).fill(0);
  for (const [g, c] of ngramCounts(words, n)) correct[ngramOrder(g) - 1]! += Math.min(maxCounts.get(g) ?? 0, c);
  return { testlen, reflen, guess, correct };
}

function cumulativeBleu(s: BleuStats, n: number): number[] {
  const out: number[] = [];
  let prod = 1;
  for (let k = 0; k < n; k++) {
    prod *= (s.correct[k]! + TINY) / (s.guess[k]! + SMALL);
    out.push(prod ** (1 / (k + 1)));
  }
  const ratio = (s.testlen + TINY) / (s.reflen + SMALL);
  if (ratio < 1) for (let k = 0; k < n; k++) out[k]! *= Math.exp(1 - 1 / ratio);
  return out;
}

/** Corpus and per-item BLEU over aligned lists of tokenised candidates and reference sets. */
export function bleu(candidates: readonly string[], references: readonly (readonly string[])[], n = 4): BleuResult {
  const totals: BleuStats = { testlen: 0, reflen: 0, guess: new Array(n).fill(0), correct: new Array(n).fill(0) };
  const perItem: number[][] = Array.from({ length: n }, () => []);
  candidates.forEach((c, i) => {
    const s = bleuStats(c, references[i]!, n);
    totals.testlen += s.testlen;
    totals.reflen += s.reflen;
    for (let k = 0; k < n; k++) {
      totals.guess[k]! += s.guess[k]!;
      totals.correct[k]! += s.correct[k]!;
    }
    cumulativeBleu(s, n).forEach((v, k) => perItem[k]!.push(v));
  });
  return { bleu: cumulativeBleu(totals, n), perItem, totals };
}
