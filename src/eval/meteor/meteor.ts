// METEOR 1.5 (English, "rank" task defaults) as pycocoevalcap and DenseCap run it (`-l en -norm`): alignment by exact,
// stem and WordNet-synonym matches (no paraphrase table), parameters alpha 0.85, beta 0.2, gamma 0.6, delta 0.75 and
// module weights 1.0 / 0.6 / 0.8; against several references the best-scoring reference's statistics are kept, and the
// corpus score is computed from the statistics summed over all segments (as METEOR's EVAL line does).
// https://github.com/cmu-mtlab/meteor/blob/master/src/edu/cmu/meteor/scorer/MeteorScorer.java
import { align } from './align.ts';
import { FUNCTION_WORDS } from './function_words.ts';
import { meteorNormalize } from './normalize.ts';
import { wordnet, type SynonymDictionary } from './wordnet.ts';

export const METEOR_PARAMS = { alpha: 0.85, beta: 0.2, gamma: 0.6, delta: 0.75, weights: [1.0, 0.6, 0.8] } as const;

/** METEOR's sufficient statistics of one hypothesis/reference pair (summable over a corpus). */
export interface MeteorStats {
  testLength: number;
  referenceLength: number;
  testFunctionWords: number;
  referenceFunctionWords: number;
  /** per module: [exact, stem, synonym] */
  testContent: number[];
  referenceContent: number[];
  testFunction: number[];
  referenceFunction: number[];
  chunks: number;
}

export interface MeteorOptions {
  /** false: exact and stem matching only (no WordNet) */
  synonyms?: boolean;
}

function pairStats(test: string[], reference: string[], synonyms: SynonymDictionary | null): MeteorStats {
  const a = align(test, reference, synonyms);
  const zero = (): number[] => [0, 0, 0];
  const s: MeteorStats = {
    testLength: test.length, referenceLength: reference.length,
    testFunctionWords: test.filter((w) => FUNCTION_WORDS.has(w)).length,
    referenceFunctionWords: reference.filter((w) => FUNCTION_WORDS.has(w)).length,
    testContent: zero(), referenceContent: zero(), testFunction: zero(), referenceFunction: zero(), chunks: a.chunks,
  };
  for (const m of a.matches) {
    if (m === null) continue;
    (FUNCTION_WORDS.has(test[m.matchStart]!) ? s.testFunction : s.testContent)[m.module]!++;
    (FUNCTION_WORDS.has(reference[m.start]!) ? s.referenceFunction : s.referenceContent)[m.module]!++;
  }
  return s;
}

const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

/** The METEOR score of (possibly summed) statistics. */
export function meteorScore(s: MeteorStats): number {
  const { alpha, beta, gamma, delta, weights } = METEOR_PARAMS;
  const weighted = (content: number[], fn: number[]): number =>
    content.reduce((acc, c, i) => acc + c * weights[i]! * delta, 0) + fn.reduce((acc, f, i) => acc + f * weights[i]! * (1 - delta), 0);
  const testLen = delta * (s.testLength - s.testFunctionWords) + (1 - delta) * s.testFunctionWords;
  const refLen = delta * (s.referenceLength - s.referenceFunctionWords) + (1 - delta) * s.referenceFunctionWords;
  const precision = weighted(s.testContent, s.testFunction) / testLen;
  const recall = weighted(s.referenceContent, s.referenceFunction) / refLen;
  const fMean = 1 / ((1 - alpha) / precision + alpha / recall);
  const testMatches = total(s.testContent) + total(s.testFunction);
  const refMatches = total(s.referenceContent) + total(s.referenceFunction);
  // a perfect match has no fragmentation at all
  const frag = testMatches === s.testLength && refMatches === s.referenceLength && s.chunks === 1 ? 0 : s.chunks / ((testMatches + refMatches) / 2);
  const score = fMean * (1 - gamma * frag ** beta);
  return Number.isNaN(score) ? 0 : Math.max(score, 0);
}

/** Statistics of a raw hypothesis against raw references: those of the best-scoring reference (the first on ties). */
export function meteorStats(hypothesis: string, references: readonly string[], opts: MeteorOptions = {}): MeteorStats {
  const synonyms = opts.synonyms === false ? null : wordnet();
  const test = meteorNormalize(hypothesis);
  let best: MeteorStats | null = null;
  let bestScore = -1;
  for (const ref of references) {
    const s = pairStats(test, meteorNormalize(ref), synonyms);
    const score = meteorScore(s);
    if (score > bestScore) [best, bestScore] = [s, score];
  }
  return best ?? pairStats(test, [], synonyms);
}

export function sumStats(all: readonly MeteorStats[]): MeteorStats {
  const add = (a: number[], b: number[]): number[] => a.map((x, i) => x + b[i]!);
  return all.reduce((acc, s) => ({
    testLength: acc.testLength + s.testLength, referenceLength: acc.referenceLength + s.referenceLength,
    testFunctionWords: acc.testFunctionWords + s.testFunctionWords, referenceFunctionWords: acc.referenceFunctionWords + s.referenceFunctionWords,
    testContent: add(acc.testContent, s.testContent), referenceContent: add(acc.referenceContent, s.referenceContent),
    testFunction: add(acc.testFunction, s.testFunction), referenceFunction: add(acc.referenceFunction, s.referenceFunction),
    chunks: acc.chunks + s.chunks,
  }), { testLength: 0, referenceLength: 0, testFunctionWords: 0, referenceFunctionWords: 0, testContent: [0, 0, 0], referenceContent: [0, 0, 0], testFunction: [0, 0, 0], referenceFunction: [0, 0, 0], chunks: 0 });
}

/** Corpus METEOR (from summed statistics) and per-item scores over aligned hypotheses and reference sets. */
export function meteor(hypotheses: readonly string[], references: readonly (readonly string[])[], opts: MeteorOptions = {}): { score: number; perItem: number[] } {
  const stats = hypotheses.map((h, i) => meteorStats(h, references[i]!, opts));
  return { score: stats.length === 0 ? NaN : meteorScore(sumStats(stats)), perItem: stats.map(meteorScore) };
}

