// Score-ordered BPE, shared by SentencePiece BPE models and llama2.c's tokenizer: repeatedly merge the adjacent pair
// whose concatenation is the vocabulary piece with the highest score, the leftmost pair on ties, until no adjacent
// pair forms a piece. A heap of candidate pairs makes it O(n log n); stale candidates are skipped when popped.
// https://github.com/google/sentencepiece/blob/master/src/bpe_model.cc (SampleEncode with alpha 0)

interface Candidate {
  left: number;
  right: number;
  score: number;
  /** length of the merged piece when queued; a different length now means one side has changed since */
  length: number;
}

/**
 * The pieces `symbols` (initial pieces, usually single characters) end up as. `scoreOf` gives the score of a piece,
 * or undefined when it may not be formed by merging; `frozen[i]` marks symbols that never merge (user-defined
 * pieces); `onQueued` sees every pair as it is queued (sentencepiece records UNUSED pieces' halves there).
 */
export function mergeByScore(
  symbols: string[],
  scoreOf: (piece: string) => number | undefined,
  frozen?: readonly boolean[],
  onQueued?: (merged: string, left: string, right: string) => void,
): string[] {
  const n = symbols.length;
  const piece = symbols.slice();
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  const heap: Candidate[] = [];

  const queue = (left: number, right: number): void => {
    if (left < 0 || right < 0 || frozen?.[left] || frozen?.[right]) return;
    const merged = piece[left]! + piece[right]!;
    const score = scoreOf(merged);
    if (score === undefined) return;
    push(heap, { left, right, score, length: merged.length });
    onQueued?.(merged, piece[left]!, piece[right]!);
  };

  for (let i = 1; i < n; i++) queue(i - 1, i);
  while (heap.length > 0) {
    const top = pop(heap);
    const l = piece[top.left]!;
    const r = piece[top.right]!;
    if (l === '' || r === '' || l.length + r.length !== top.length) continue;
    piece[top.left] = l + r;
    piece[top.right] = '';
    next[top.left] = next[top.right]!;
    if (next[top.right]! >= 0) prev[next[top.right]!] = top.left;
    queue(prev[top.left]!, top.left);
    queue(top.left, next[top.left]!);
  }
  const out: string[] = [];
  for (let i = n > 0 ? 0 : -1; i >= 0; i = next[i]!) out.push(piece[i]!);
  return out;
}

/** a comes out of the heap before b: higher score first, then the leftmost pair */
const before = (a: Candidate, b: Candidate): boolean => a.score > b.score || (a.score === b.score && a.left < b.left);

function push(heap: Candidate[], c: Candidate): void {
  let i = heap.length;
  heap.push(c);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(c, heap[parent]!)) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = c;
}

function pop(heap: Candidate[]): Candidate {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= heap.length) break;
    const r = l + 1;
    const child = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
    if (!before(heap[child]!, last)) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
