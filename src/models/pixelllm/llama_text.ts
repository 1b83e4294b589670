// A Llama-family decoder as PixelLLM's language model (`textual.`): one causal sequence per row, [visual tokens ;
// prompt without its EOS ; text], packed to the left as the GIT-style decoder packs it; the visual tokens take the
// first positions of the rotary embedding. HF Llama's keys below the prefix (`textual.model.layers.{i}.…`,
// `textual.lm_head.weight`), so public checkpoints load with only the prefix added.
import { Tensor, concat } from '../../tensor/index.ts';
import { LlamaWithHead, type LlamaConfig } from '../llama.ts';
import type { DecodeSession } from '../generate.ts';
import { ConfigError } from '../config.ts';
import type { PixelTextModel, TextInputs } from './text_model.ts';
import { firstDecodeIds, gatherText, packPromptAndText } from './text_packing.ts';

export class LlamaTextModel extends LlamaWithHead implements PixelTextModel {
  constructor(config: LlamaConfig) {
    super(config);
    const eos = config.eos_token_id;
    if (eos === null || eos === undefined || (Array.isArray(eos) && eos.length === 0)) {
      throw new ConfigError('text.config.eos_token_id is not set: PixelLLM decodes each text until its EOS; set it to the tokenizer\'s end id');
    }
  }

  get width(): number {
    return this.config.hidden_size;
  }
  get vocabSize(): number {
    return this.config.vocab_size;
  }
  get bosId(): number {
    return this.config.bos_token_id ?? this.eosId;
  }
  get eosId(): number {
    const eos = this.config.eos_token_id;
    return Array.isArray(eos) ? eos[0]! : (eos as number);
  }
  /** Llama checkpoints usually name no pad id; padding is masked out, so the EOS id serves (as HF's generate does). */
  get padId(): number {
    return this.config.pad_token_id ?? this.eosId;
  }

  forward({ visual, ...text }: TextInputs): Tensor {
    const [B, N] = visual.shape as [number, number];
    const { ids, mask, textStart } = packPromptAndText(text, this.padId);
    const x = concat([visual, this.embed(ids)], 1); // (B, N + L, C)
    const attentionMask = concat([new Tensor(new Uint8Array(B * N).fill(1), [B, N]), mask], 1); // (B, N + L)
    const hidden = this.lastHiddenState(x, { attentionMask }); // (B, N + L, C)
    return gatherText(hidden, N, textStart, text.tokens.shape[1]!); // (B, T, C)
  }

  /** The visual tokens run as a prefix of embeddings ahead of the first step's ids (the prompt, then BOS). */
  startDecoding(visual: Tensor, promptIds: Tensor, promptMask: Tensor, maxLength: number): { session: DecodeSession; first: Tensor } {
    const first = firstDecodeIds(promptIds, promptMask, this.bosId); // (B, p + 1)
    const session = this.decodeSession({ batch: visual.shape[0]!, prefixEmbeds: visual, maxLength: first.shape[1]! + maxLength });
    return { session, first };
  }
}
