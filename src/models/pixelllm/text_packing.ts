// The decoder-only language models (GIT-style, Llama) read one sequence per row: [visual ; prompt ; text]. The prompt
// comes padded with its EOS (the encoder-decoder layout) and the text padded after it, so each row is packed to the
// left (prompt without its EOS, then the real text tokens, then padding) and the text's positions gathered back.
import { Tensor, indexSelect } from '../../tensor/index.ts';
import { ConfigError } from '../config.ts';
import type { TextInputs } from './text_model.ts';

/** Real tokens at the start of each row of a (B, T) mask. */
function rowLengths(mask: Tensor): number[] {
  const [B, T] = mask.shape as [number, number];
  const m = mask.toArray();
  return Array.from({ length: B }, (_, b) => {
    let n = 0;
    while (n < T && m[b * T + n]) n++;
    return n;
  });
}

export interface PackedText {
  /** (B, L) int32: [prompt without EOS ; text] per row, then padId */
  ids: Tensor;
  /** (B, L) 1 at the real tokens */
  mask: Tensor;
  /** where each row's text starts in `ids` (its prompt's length without EOS) */
  textStart: number[];
}

/** Per row: the prompt without its EOS, then the text's real tokens, packed left and padded right to a common L ≥ every start + T. */
export function packPromptAndText({ promptIds, promptMask, tokens, tokenMask }: Omit<TextInputs, 'visual'>, padId: number): PackedText {
  const [B, T] = tokens.shape as [number, number];
  const P = promptIds.shape[1]!;
  const pIds = promptIds.toArray();
  const tIds = tokens.toArray();
  const textStart = rowLengths(promptMask).map((p) => Math.max(0, p - 1)); // the prompt's EOS is dropped
  const textLength = rowLengths(tokenMask);
  // room for every row's text positions, padded ones included, so the gather below stays inside the row
  const L = Math.max(...textStart.map((s) => s + T));
  const ids = new Int32Array(B * L).fill(padId);
  const mask = new Uint8Array(B * L);
  for (let b = 0; b < B; b++) {
    const s = textStart[b]!;
    ids.set(pIds.slice(b * P, b * P + s), b * L);
    ids.set(tIds.slice(b * T, b * T + textLength[b]!), b * L + s);
    mask.fill(1, b * L, b * L + s + textLength[b]!);
  }
  return { ids: new Tensor(ids, [B, L]), mask: new Tensor(mask, [B, L]), textStart };
}

/** hidden (B, N + L, C) over [N prefix positions ; packed rows] → the text positions (B, T, C), row b's token i at N + textStart[b] + i. */
export function gatherText(hidden: Tensor, N: number, textStart: number[], T: number): Tensor {
  const [B, S] = hidden.shape as [number, number];
  const at = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) at[b * T + i] = b * S + N + textStart[b]! + i;
  return indexSelect(hidden.reshape(B * S, -1), 0, new Tensor(at, [B * T])).reshape(B, T, -1); // (B, T, C)
}

/**
 * The ids a decoder-only session's first step takes: the prompt without its EOS, then the text's start id, (B, p + 1).
 * Rows decoded together share one prompt length (no padding inside a decode).
 */
export function firstDecodeIds(promptIds: Tensor, promptMask: Tensor, startId: number): Tensor {
  const B = promptIds.shape[0]!;
  const P = promptIds.shape[1]!;
  const len = rowLengths(promptMask);
  if (len.some((l) => l !== len[0])) throw new ConfigError(`startDecoding: the rows' prompts differ in length (${len.join(', ')}); decode rows with one prompt together`);
  const p = Math.max(0, len[0]! - 1); // without the prompt's EOS
  const ids = promptIds.toArray();
  const first = new Int32Array(B * (p + 1));
  for (let b = 0; b < B; b++) {
    first.set(ids.slice(b * P, b * P + p), b * (p + 1));
    first[b * (p + 1) + p] = startId;
  }
  return new Tensor(first, [B, p + 1]);
}
