// ROUGE-L as pycocoevalcap's rouge.py computes it: LCS against each reference, max precision and max recall taken
// separately over the references, F-measure with beta 1.2; tokens split on single spaces (as Python's split(" ")).
// https://github.com/tylin/coco-caption/blob/master/pycocoevalcap/rouge/rouge.py

const BETA = 1.2;

function lcsLength(a: readonly string[], b: readonly string[]): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    prev = cur;
  }
  return prev[b.length]!;
}

/** ROUGE-L of one tokenised candidate against its tokenised references. */
export function rougeL(candidate: string, references: readonly string[]): number {
  if (references.length === 0) throw new Error('rougeL: no references');
  const c = candidate.split(' ');
  let precMax = 0;
  let recMax = 0;
  for (const ref of references) {
    const r = ref.split(' ');
    const lcs = lcsLength(r, c);
    precMax = Math.max(precMax, lcs / c.length);
    recMax = Math.max(recMax, lcs / r.length);
  }
  if (precMax === 0 || recMax === 0) return 0;
  return ((1 + BETA ** 2) * precMax * recMax) / (recMax + BETA ** 2 * precMax);
}

/** Mean and per-item ROUGE-L over aligned candidates and reference sets. */
export function rouge(candidates: readonly string[], references: readonly (readonly string[])[]): { score: number; perItem: number[] } {
  const perItem = candidates.map((c, i) => rougeL(c, references[i]!));
  return { score: mean(perItem), perItem };
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}
