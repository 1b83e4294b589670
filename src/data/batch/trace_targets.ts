// Per-token location targets of a Localized Narrative (DESIGN §2 step 3): tokens are matched to utterances by relative
// position, not by string. Reference: scenic/projects/pixel_llm/io/ops.py DecodeLocalizedNarrativesAnnotations
// (steps "1. Compute utterance pos", "2. Compute token pos", "3. Get token to utterance mapping", post-processing).
import type { UtteranceTarget } from '../types.ts';

/** The ids a tokenizer reserves; tokens equal to any of them get no target. */
export interface SpecialTokens {
  bos: number;
  eos: number;
  pad: number;
}

export interface TokenTraceTargets {
  /** (T, 4) [x0, y0, x1, y1] in pixels of the original image, zeros where `mask` is 0 */
  boxes: Float32Array;
  /** (T, 2) the time-averaged trace centre in pixels, zeros where `mask` is 0 */
  centers: Float32Array;
  /** (T) 1 where the token has a target the point loss uses */
  mask: Uint8Array;
}

/**
 * Matches the tokens of a caption (BOS + caption + EOS, already truncated and possibly padded) to its utterances.
 * Valid utterances (non-empty after trimming, centre x and y > 1e-5) sit at k/N, k = 1..N; the M real tokens (not
 * BOS/EOS/pad) sit at 1/N + (j/M)·(1 − 1/N), j = 1..M; each takes the nearest utterance (the first on a tie, as
 * argmin), its box and centre clipped to [0, 1], times (width, height), rounded half to even as tf.round does.
 * With no valid utterance (the reference divides by zero there) no token gets a target. A token whose box is all
 * zeros gets no target either: the reference's "l1_nonzero" point loss skips all-zero targets.
 */
export function tokenTraceTargets(tokens: readonly number[], utterances: readonly UtteranceTarget[], special: SpecialTokens,
  width: number, height: number): TokenTraceTargets {
  const T = tokens.length;
  const boxes = new Float32Array(T * 4);
  const centers = new Float32Array(T * 2);
  const mask = new Uint8Array(T);
  const valid = utterances.filter((u) => u.utterance.trim().length > 0 && u.center[0] > 1e-5 && u.center[1] > 1e-5);
  const isReal = (t: number): boolean => t !== special.bos && t !== special.eos && t !== special.pad;
  const N = valid.length;
  const M = tokens.filter(isReal).length;
  if (N === 0 || M === 0) return { boxes, centers, mask };
  const start = 1 / N;
  let j = 0;
  for (let i = 0; i < T; i++) {
    if (!isReal(tokens[i]!)) continue;
    j++;
    const pos = start + (j / M) * (1 - start);
    let nearest = 0;
    for (let k = 1; k < N; k++) if ((pos - (k + 1) / N) ** 2 < (pos - (nearest + 1) / N) ** 2) nearest = k;
    const u = valid[nearest]!;
    const px = (v: number, size: number): number => roundHalfEven(Math.min(Math.max(v, 0), 1) * size);
    const b = [px(u.box[0], width), px(u.box[1], height), px(u.box[2], width), px(u.box[3], height)];
    if (b.every((v) => v === 0)) continue;
    boxes.set(b, i * 4);
    centers.set([px(u.center[0], width), px(u.center[1], height)], i * 2);
    mask[i] = 1;
  }
  return { boxes, centers, mask };
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
