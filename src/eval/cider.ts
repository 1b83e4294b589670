// CIDEr-D as pycocoevalcap's cider_scorer.py computes it: tf-idf vectors of 1..4-grams with document frequencies from
// the reference sets being scored (one document per item), the candidate's tf-idf clipped at the reference's,
// a Gaussian length penalty (sigma 6) on the difference in bigram counts, mean over n and references, times 10.
// https://github.com/tylin/coco-caption/blob/master/pycocoevalcap/cider/cider_scorer.py
import { ngramCounts, ngramOrder, splitWords } from './ngrams.ts';
import { mean } from './rouge.ts';

const N = 4;
const SIGMA = 6;

interface TfIdf {
  vec: Map<string, number>[];
  norm: number[];
  /** number of bigrams: the reference's `length` counts only n == 2 terms */
  length: number;
}

function tfidf(counts: Map<string, number>, df: Map<string, number>, logDocs: number): TfIdf {
  const vec = Array.from({ length: N }, () => new Map<string, number>());
  const norm = new Array<number>(N).fill(0);
  let length = 0;
  for (const [g, tf] of counts) {
    const n = ngramOrder(g) - 1;
    const v = tf * (logDocs - Math.log(Math.max(1, df.get(g) ?? 0)));
    vec[n]!.set(g, v);
    norm[n]! += v * v;
    if (n === 1) length += tf;
  }
  return { vec, norm: norm.map(Math.sqrt), length };
}

function similarity(hyp: TfIdf, ref: TfIdf): number[] {
  const delta = hyp.length - ref.length;
  const penalty = Math.exp(-(delta * delta) / (2 * SIGMA * SIGMA));
  const val = new Array<number>(N).fill(0);
  for (let n = 0; n < N; n++) {
    for (const [g, v] of hyp.vec[n]!) {
      const r = ref.vec[n]!.get(g) ?? 0;
      val[n]! += Math.min(v, r) * r;
    }
    if (hyp.norm[n] !== 0 && ref.norm[n] !== 0) val[n]! /= hyp.norm[n]! * ref.norm[n]!;
    val[n]! *= penalty;
  }
  return val;
}

/** Corpus (mean) and per-item CIDEr-D over aligned tokenised candidates and reference sets. */
export function ciderD(candidates: readonly string[], references: readonly (readonly string[])[]): { score: number; perItem: number[] } {
  const refCounts = references.map((refs) => refs.map((r) => ngramCounts(splitWords(r), N)));
  const df = new Map<string, number>();
  for (const refs of refCounts) {
    const seen = new Set<string>();
    for (const counts of refs) for (const g of counts.keys()) seen.add(g);
    for (const g of seen) df.set(g, (df.get(g) ?? 0) + 1);
  }
  const logDocs = Math.log(references.length);
  const perItem = candidates.map((c, i) => {
    const refs = refCounts[i]!;
    if (refs.length === 0) throw new Error(`ciderD: item ${i} has no references`);
    const hyp = tfidf(ngramCounts(splitWords(c), N), df, logDocs);
    const sum = new Array<number>(N).fill(0);
    for (const r of refs) similarity(hyp, tfidf(r, df, logDocs)).forEach((v, n) => (sum[n]! += v));
    return (mean(sum) / refs.length) * 10;
  });
  return { score: mean(perItem), perItem };
}
