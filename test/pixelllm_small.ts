// Small PixelLLM configs with the structure of each preset (the same kinds of encoders, fusion, language model and
// LoRA) but tiny widths and depths, so tests build and run them in milliseconds; and random text inputs.
import { Generator, Tensor } from '../src/tensor/index.ts';
import { samConfig } from '../src/models/sam/config.ts';
import type { LlamaConfig } from '../src/models/llama.ts';
import { TINYLLAMA_1_1B } from '../src/models/llama.ts';
import type { T5Config } from '../src/models/t5.ts';
import type { GitTextConfig } from '../src/models/git_decoder.ts';
import type { EvaConfig } from '../src/models/eva02.ts';
import {
  PIXELLLM_BERT, PIXELLLM_CPU, PIXELLLM_T5_XL, PIXELLLM_TINY, samAt, type PixelLLMConfig,
} from '../src/models/pixelllm/config.ts';
import type { TextInputs } from '../src/models/pixelllm/text_model.ts';

const t5Preset = PIXELLLM_T5_XL.text as Extract<PixelLLMConfig['text'], { kind: 't5' }>;
const gitPreset = PIXELLLM_BERT.text as Extract<PixelLLMConfig['text'], { kind: 'git' }>;

/** Flan-T5-XL's settings (gated GELU, untied head, 32 buckets) at width 16. */
export const SMALL_T5: T5Config = { ...t5Preset.config, vocab_size: 40, d_model: 16, d_kv: 4, d_ff: 24, num_layers: 2, num_decoder_layers: 2, num_heads: 4 };
/** The BERT-style GIT decoder at width 16 (ids 1 and 2 for BOS and EOS, inside the small vocabulary). */
export const SMALL_GIT: GitTextConfig = {
  ...gitPreset.config, vocab_size: 40, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 24,
  max_position_embeddings: 64, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, bos_token_id: 1, eos_token_id: 2,
};
/** TinyLlama's settings (grouped-query attention, untied head, no pad id) at width 16. */
export const SMALL_LLAMA: LlamaConfig = {
  ...TINYLLAMA_1_1B, vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
};

/** EVA02-L's structure (SwiGLU, rotary, separate q/k/v) at width 32, one block; S = 112 gives an 8×8 grid. */
export const SMALL_EVA: EvaConfig = { ...PIXELLLM_T5_XL.eva!, img_size: 112, embed_dim: 32, depth: 1, num_heads: 2, ref_feat_shape: [8, 8] };

function smallSam(S: number, patch: number) {
  return samAt(samConfig({
    vision_config: { hidden_size: 32, output_channels: 16, num_hidden_layers: 2, num_attention_heads: 2, image_size: S, patch_size: patch, window_size: 2, global_attn_indexes: [1], num_pos_feats: 8 },
    prompt_encoder_config: { hidden_size: 16, image_size: S, patch_size: patch },
    mask_decoder_config: { hidden_size: 16, mlp_dim: 32, num_hidden_layers: 1, num_attention_heads: 2, iou_head_hidden_dim: 16 },
  }), S);
}

const SMALL_HEADS = {
  prompt_adapter: { hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, mlp_dim: 32, attention_downsample_rate: 2, num_queries: 4, query_output_size: 24 },
  point_head: { hidden_size: 16, num_layers: 2 },
  mask_adapter: { hidden_size: 16, num_layers: 1, num_attention_heads: 2 },
  proposal_head: { hidden_size: 8, max_proposals: 10, score_threshold: 0.05 },
};

/** Each preset's structure, small; plus the paper's encoders with a Llama decoder under LoRA. */
export const SMALL_VARIANTS: Record<string, PixelLLMConfig> = {
  't5-xl': { ...PIXELLLM_T5_XL, ...SMALL_HEADS, image_size: 112, eva: SMALL_EVA, sam: smallSam(112, 16), text: { ...t5Preset, config: SMALL_T5, lora: { ...t5Preset.lora!, r: 4 } } },
  bert: { ...PIXELLLM_BERT, ...SMALL_HEADS, image_size: 112, eva: SMALL_EVA, sam: smallSam(112, 16), text: { kind: 'git', config: SMALL_GIT } },
  cpu: { ...PIXELLLM_CPU, ...SMALL_HEADS, image_size: 64, sam: smallSam(64, 16), text: { kind: 'git', config: SMALL_GIT } },
  // as the bundled model: the grid-pointer point head and a 2×2 grid of region tokens
  tiny: {
    ...PIXELLLM_TINY, ...SMALL_HEADS, point_head: { ...SMALL_HEADS.point_head, kind: 'grid' }, region_tokens: 2,
    image_size: 64, sam: smallSam(64, 8), text: { kind: 'git', config: SMALL_GIT },
  },
  llama: { ...PIXELLLM_BERT, ...SMALL_HEADS, image_size: 112, eva: SMALL_EVA, sam: smallSam(112, 16), text: { kind: 'llama', config: SMALL_LLAMA, lora: { r: 4, alpha: 8, targets: ['q_proj', 'v_proj'] } } },
};

/**
 * Random text inputs as the collator makes them: per row a prompt of `prompt` ids + EOS and a text of BOS + `text`
 * ids + EOS, each padded on the right to the batch's longest; ordinary ids are drawn from [3, V).
 */
export function randomTextInputs(rng: Generator, rows: { prompt: number; text: number }[], { N, C, V, bos, eos, pad }: {
  N: number; C: number; V: number; bos: number; eos: number; pad: number;
}): TextInputs {
  const B = rows.length;
  const P = Math.max(...rows.map((r) => r.prompt + 1));
  const T = Math.max(...rows.map((r) => r.text + 2));
  const id = (): number => 3 + Math.floor(rng.next() * (V - 3));
  const promptIds = new Int32Array(B * P).fill(pad);
  const promptMask = new Uint8Array(B * P);
  const tokens = new Int32Array(B * T).fill(pad);
  const tokenMask = new Uint8Array(B * T);
  rows.forEach(({ prompt, text }, b) => {
    promptIds.set([...Array.from({ length: prompt }, id), eos], b * P);
    promptMask.fill(1, b * P, b * P + prompt + 1);
    tokens.set([bos, ...Array.from({ length: text }, id), eos], b * T);
    tokenMask.fill(1, b * T, b * T + text + 2);
  });
  return {
    visual: rng.normal([B, N, C]),
    promptIds: new Tensor(promptIds, [B, P]), promptMask: new Tensor(promptMask, [B, P]),
    tokens: new Tensor(tokens, [B, T]), tokenMask: new Tensor(tokenMask, [B, T]),
  };
}

/** The tiny preset's structure, small, with the bundled tiny model's vocabulary (ids 0 pad, 2 BOS, 3 EOS): trainable on synthetic data. */
export function trainableTiny(): PixelLLMConfig {
  const base = SMALL_VARIANTS.tiny!;
  return { ...base, max_text_tokens: 48, text: { kind: 'git', config: { ...SMALL_GIT, vocab_size: 264, pad_token_id: 0, bos_token_id: 2, eos_token_id: 3, max_position_embeddings: 96 } } };
}
