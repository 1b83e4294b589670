// n-gram counting shared by BLEU and CIDEr (pycocoevalcap's `precook`): whitespace-split words, n = 1..maxN.

/** Counts of every n-gram (n = 1..maxN) of `words`, keyed by the n-gram's words joined with a space. */
export function ngramCounts(words: readonly string[], maxN = 4): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxN; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      const key = words.slice(i, i + n).join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

/** The order n of an n-gram key made by ngramCounts. */
export function ngramOrder(key: string): number {
  let n = 1;
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) === 32) n++;
  return n;
}

/** Python's str.split(): split on runs of whitespace, no empty strings. */
export function splitWords(s: string): string[] {
  return s.split(/\s+/).filter((w) => w.length > 0);
}
