// T5 as PixelLLM's language model (`textual.`), as the paper uses Flan-T5-XL: the encoder reads [visual tokens ;
// embedded prompt + EOS] under the prompt's padding mask, the decoder the text tokens, which start with T5's decoder
// start id (the pad id 0). HF T5's keys below the prefix (`textual.shared.weight`, `textual.encoder.block.{i}.…`,
// `textual.decoder.…`, `textual.lm_head.weight`), so public T5 checkpoints load with only the prefix added.
// https://github.com/google-research/scenic/tree/main/scenic/projects/pixel_llm
import { Tensor, concat, full, noGrad } from '../../tensor/index.ts';
import { T5EncoderDecoder } from '../t5.ts';
import type { DecodeSession } from '../generate.ts';
import type { PixelTextModel, TextInputs } from './text_model.ts';

export class T5TextModel extends T5EncoderDecoder implements PixelTextModel {
  get width(): number {
    return this.config.d_model;
  }
  get vocabSize(): number {
    return this.config.vocab_size;
  }
  /** The text's first token is the decoder start id (HF's decoder_start_token_id, the pad id for T5). */
  get bosId(): number {
    return this.config.decoder_start_token_id ?? this.padId;
  }
  get eosId(): number {
    return this.config.eos_token_id ?? 1;
  }
  get padId(): number {
    return this.config.pad_token_id ?? 0;
  }

  /** The encoder's input (B, N + P, C) and its padding mask (B, N + P): every visual token is real. */
  #encoderInputs(visual: Tensor, promptIds: Tensor, promptMask: Tensor): { inputsEmbeds: Tensor; attentionMask: Tensor } {
    const [B, N] = visual.shape as [number, number];
    const inputsEmbeds = concat([visual, this.embed(promptIds)], 1); // (B, N + P, C)
    const attentionMask = concat([full([B, N], 1, 'int32'), promptMask.to('int32')], 1); // (B, N + P)
    return { inputsEmbeds, attentionMask };
  }

  /** The decoder's final-normed hidden states (B, T, C), unscaled: logits() applies the config's d_model^−½ where it has one. */
  forward({ visual, promptIds, promptMask, tokens }: TextInputs): Tensor {
    const { inputsEmbeds, attentionMask } = this.#encoderInputs(visual, promptIds, promptMask);
    const encoded = this.encode(inputsEmbeds, attentionMask).at(-1)!; // (B, N + P, C)
    // the decoder is causal, so the text's right padding needs no mask
    return this.decode(tokens, this.crossContext(encoded, attentionMask)); // (B, T, C)
  }

  /** The encoder runs once here; the first step takes the decoder start id (B, 1). Rows may have prompts of different lengths. */
  startDecoding(visual: Tensor, promptIds: Tensor, promptMask: Tensor, maxLength: number): { session: DecodeSession; first: Tensor } {
    const inputs = noGrad(() => this.#encoderInputs(visual, promptIds, promptMask));
    const first = full([visual.shape[0]!, 1], this.bosId, 'int32'); // (B, 1)
    return { session: this.decodeSession({ ...inputs, maxLength: maxLength + 1 }), first };
  }
}
