// What PixelLLM needs of its language model, whichever it is (the GIT-style decoder here, T5, Llama): a teacher-forced
// pass that gives the final hidden state at every text position, a vocabulary head, and a decoding session.
import type { Tensor } from '../../tensor/index.ts';
import type { Module } from '../../nn/index.ts';
import type { DecodeSession } from '../generate.ts';

/** B rows; P prompt tokens (prompt + EOS, padded); T text tokens (BOS + text + EOS, padded); N visual tokens. */
export interface TextInputs {
  /** (B, N, C) visual tokens at the language model's width */
  visual: Tensor;
  /** (B, P) int32 and (B, P) bool */
  promptIds: Tensor;
  promptMask: Tensor;
  /** (B, T) int32 and (B, T) bool */
  tokens: Tensor;
  tokenMask: Tensor;
}

export interface PixelTextModel extends Module {
  /** hidden width C (what the visual projection maps to) */
  readonly width: number;
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  /**
   * The final hidden state (after the last norm, before the vocabulary head) at each text position: (B, T, C), row i
   * from the position whose input is tokens[i], so it predicts tokens[i + 1] and regresses token i's location.
   */
  forward(inputs: TextInputs): Tensor;
  /** hidden (…, C) → logits (…, V) */
  logits(hidden: Tensor): Tensor;
  /**
   * A decoding session for rows that all share one prompt: `first` (B, t) are the ids its first step() takes (the
   * prompt's tokens and what starts the text: BOS for decoders, the start id for T5); later steps take the new ids.
   */
  startDecoding(visual: Tensor, promptIds: Tensor, promptMask: Tensor, maxLength: number): { session: DecodeSession; first: Tensor };
}
