// PixelLLM's typed configuration: which encoders, which language model, the adapter and head sizes. It is written
// beside every checkpoint as config.json; the presets are the paper's two models, a CPU-sized one and the bundled tiny
// one (DESIGN §4). Field names copy the reference configs where they exist (HF / timm names inside backbones).
import type { EvaConfig } from '../eva02.ts';
import { EVA02_LARGE_PATCH14_224 } from '../eva02.ts';
import type { SamConfig } from '../sam/config.ts';
import { SAM_VIT_B, SAM_VIT_H, samConfig } from '../sam/config.ts';
import type { GitTextConfig } from '../git_decoder.ts';
import type { T5Config } from '../t5.ts';
import { FLAN_T5_XL } from '../t5.ts';
import type { LlamaConfig } from '../llama.ts';
import { ConfigError, checkConfig } from '../config.ts';
import type { Task } from '../../data/types.ts';

/** The prompt adapter (the reference's "prompt feature extractor"): a SAM-style two-way transformer with learned queries. */
export interface PromptAdapterConfig {
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  mlp_dim: number;
  attention_downsample_rate: number;
  /** learned query tokens = visual tokens given to the language model (32 in the paper) */
  num_queries: number;
  /** each query's own output projection width (1024 in the paper) */
  query_output_size: number;
}

export interface LoraSettings {
  r: number;
  alpha: number;
  /** Linear keys inside the language model to wrap (globs or bare names) */
  targets: string[];
}

export type TextConfig =
  | { kind: 'git'; config: GitTextConfig }
  | { kind: 't5'; config: T5Config; lora: LoraSettings | null }
  | { kind: 'llama'; config: LlamaConfig; lora: LoraSettings | null };

export interface PixelLLMConfig {
  /** S: images are resized so the longer side is S, then padded to S×S */
  image_size: number;
  /** the trainable encoder (EVA02, timm keys under `git_backbone.`), or null to use the SAM branch alone */
  eva: EvaConfig | null;
  /** SAM: its image encoder (`sam_backbone.`), prompt encoder and mask decoder */
  sam: SamConfig;
  /** the SAM image encoder is trained (the tiny model, trained from scratch) or frozen (the paper) */
  sam_trainable: boolean;
  prompt_adapter: PromptAdapterConfig;
  text: TextConfig;
  /**
   * 'mlp' (the reference, the default): an MLP on each hidden state; 'grid': each hidden state points at a cell of the
   * fused map and an MLP gives the box's extents (an addition for small models trained from scratch, point_head.ts)
   */
  point_head: { hidden_size: number; num_layers: number; kind?: 'mlp' | 'grid' };
  /**
   * k: a k×k grid of the fused map sampled inside the prompt box, appended to the visual tokens (an addition,
   * region_tokens.ts); 0 or absent: only the adapter's queries, as the reference
   */
  region_tokens?: number;
  mask_adapter: { hidden_size: number; num_layers: number; num_attention_heads: number };
  /** class-agnostic CenterNet-style proposals on the fused map (dense captioning) */
  proposal_head: { hidden_size: number; max_proposals: number; score_threshold: number };
  /** the tokenizer file, relative to the model folder (vocab.txt, tokenizer.json, spiece.model, …) */
  tokenizer: string;
  /** the text prompt of each task at test time (DESIGN §2) */
  prompts: Record<Task, string>;
  max_text_tokens: number;
  max_prompt_tokens: number;
}

export const DEFAULT_TASK_PROMPTS: Record<Task, string> = {
  trace: 'A long image caption: ',
  caption: 'A photo of ',
  refer: 'where is {text}',
  regioncap: 'an object of ',
};

/** Width of the fused map the adapter and proposal head read: EVA02's channels plus SAM's neck channels. */
export function fusedChannels(c: PixelLLMConfig): number {
  return (c.eva?.embed_dim ?? 0) + c.sam.vision_config.output_channels;
}

/** The fused map's grid side: EVA02's patch grid when present, else SAM's. */
export function fusedGrid(c: PixelLLMConfig): number {
  return Math.floor(c.image_size / (c.eva?.patch_size ?? c.sam.vision_config.patch_size));
}

export function textWidth(t: TextConfig): number {
  return t.kind === 't5' ? t.config.d_model : t.config.hidden_size;
}

export function checkPixelLLMConfig(c: PixelLLMConfig): void {
  const S = c.image_size;
  checkConfig(Number.isInteger(S) && S > 0, () => `image_size ${S} must be a positive integer`);
  const v = c.sam.vision_config;
  checkConfig(S % v.patch_size === 0, () => `image_size ${S} is not a multiple of sam.vision_config.patch_size ${v.patch_size}`);
  // EVA02's patch embedding floors: 384 / 14 gives the paper's 27×27 grid (the last 6 pixels are not read)
  if (c.eva) checkConfig(S >= c.eva.patch_size, () => `image_size ${S} is smaller than eva.patch_size ${c.eva!.patch_size}`);
  const p = c.sam.prompt_encoder_config;
  checkConfig(p.image_size === S, () => `sam.prompt_encoder_config.image_size ${p.image_size} must equal image_size ${S} (prompt boxes are in pixels of the S×S canvas)`);
  const a = c.prompt_adapter;
  checkConfig(a.hidden_size % a.attention_downsample_rate === 0 && (a.hidden_size / a.attention_downsample_rate) % a.num_attention_heads === 0,
    () => `prompt_adapter.hidden_size ${a.hidden_size} / attention_downsample_rate ${a.attention_downsample_rate} must be divisible by num_attention_heads ${a.num_attention_heads}`);
  checkConfig(a.num_queries > 0, () => `prompt_adapter.num_queries ${a.num_queries} must be positive`);
  const m = c.mask_adapter;
  checkConfig(m.hidden_size % m.num_attention_heads === 0, () => `mask_adapter.hidden_size ${m.hidden_size} is not divisible by num_attention_heads ${m.num_attention_heads}`);
  checkConfig(c.point_head.kind === undefined || c.point_head.kind === 'mlp' || c.point_head.kind === 'grid', () => `point_head.kind '${c.point_head.kind}' is not one of mlp, grid`);
  const k = c.region_tokens ?? 0;
  checkConfig(Number.isInteger(k) && k >= 0, () => `region_tokens ${k} must be a whole number ≥ 0 (the side of the sampled grid; 0 turns them off)`);
  checkConfig(c.point_head.num_layers >= 1, () => `point_head.num_layers ${c.point_head.num_layers} must be at least 1`);
  if (!['git', 't5', 'llama'].includes(c.text.kind)) throw new ConfigError(`text.kind '${c.text.kind}' is not one of git, t5, llama`);
}

/** SAM with its prompt encoder sized for an S×S canvas (the prompt encoder works in canvas pixels). */
export function samAt(base: SamConfig, S: number): SamConfig {
  return samConfig({
    vision_config: { ...base.vision_config },
    prompt_encoder_config: { ...base.prompt_encoder_config, image_size: S, patch_size: base.vision_config.patch_size },
    mask_decoder_config: { ...base.mask_decoder_config },
  });
}

const BERT_UNCASED_GIT: GitTextConfig = {
  vocab_size: 30522, hidden_size: 768, num_hidden_layers: 6, num_attention_heads: 12, intermediate_size: 3072,
  hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: 1024,
  layer_norm_eps: 1e-12, pad_token_id: 0, bos_token_id: 101, eos_token_id: 102,
};

const PAPER_ADAPTER: PromptAdapterConfig = {
  hidden_size: 512, num_hidden_layers: 6, num_attention_heads: 8, mlp_dim: 2048, attention_downsample_rate: 2,
  num_queries: 32, query_output_size: 1024,
};

const PAPER_COMMON = {
  image_size: 384,
  sam_trainable: false,
  prompt_adapter: PAPER_ADAPTER,
  point_head: { hidden_size: 512, num_layers: 3, kind: 'mlp' as const },
  region_tokens: 0,
  mask_adapter: { hidden_size: 256, num_layers: 2, num_attention_heads: 8 },
  proposal_head: { hidden_size: 256, max_proposals: 100, score_threshold: 0.05 },
  prompts: DEFAULT_TASK_PROMPTS,
  max_text_tokens: 128,
  max_prompt_tokens: 32,
};


/** The paper's model: EVA02-L/14 + SAM-H at 384, Flan-T5-XL with LoRA r 32 (scale 2) on q and v. */
export const PIXELLLM_T5_XL: PixelLLMConfig = {
  ...PAPER_COMMON,
  eva: EVA02_LARGE_PATCH14_224,
  sam: samAt(SAM_VIT_H, 384),
  text: { kind: 't5', config: FLAN_T5_XL, lora: { r: 32, alpha: 64, targets: ['q', 'v'] } },
  tokenizer: 'spiece.model',
};

/** The paper's small variant: the same encoders and a GIT-style BERT decoder (6×768, WordPiece uncased), trained fully. */
export const PIXELLLM_BERT: PixelLLMConfig = {
  ...PAPER_COMMON,
  eva: EVA02_LARGE_PATCH14_224,
  sam: samAt(SAM_VIT_H, 384),
  text: { kind: 'git', config: BERT_UNCASED_GIT },
  tokenizer: 'vocab.txt',
};

/** What a laptop runs: SAM-B alone at 256 (frozen), a 4-layer adapter and the GIT-base decoder. */
export const PIXELLLM_CPU: PixelLLMConfig = {
  ...PAPER_COMMON,
  image_size: 256,
  eva: null,
  sam: samAt(SAM_VIT_B, 256),
  prompt_adapter: { ...PAPER_ADAPTER, hidden_size: 256, num_hidden_layers: 4, mlp_dim: 1024, num_queries: 32, query_output_size: 512 },
  text: { kind: 'git', config: { ...BERT_UNCASED_GIT, max_position_embeddings: 512 } },
  tokenizer: 'vocab.txt',
};

/** The bundled model, trained here from scratch on the synthetic dataset: small SAM-style ViT at 128, a small GIT decoder. */
export const PIXELLLM_TINY: PixelLLMConfig = {
  image_size: 128,
  eva: null,
  sam: samConfig({
    vision_config: {
      hidden_size: 192, output_channels: 128, num_hidden_layers: 4, num_attention_heads: 4, image_size: 128, patch_size: 8,
      window_size: 8, global_attn_indexes: [1, 3], num_pos_feats: 64, mlp_dim: 768,
    },
    prompt_encoder_config: { hidden_size: 128, image_size: 128, patch_size: 8, mask_input_channels: 16 },
    mask_decoder_config: { hidden_size: 128, mlp_dim: 512, num_hidden_layers: 2, num_attention_heads: 4, iou_head_hidden_dim: 128 },
  }),
  sam_trainable: true,
  prompt_adapter: { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 4, mlp_dim: 512, attention_downsample_rate: 2, num_queries: 16, query_output_size: 256 },
  text: {
    kind: 'git',
    config: { ...BERT_UNCASED_GIT, vocab_size: 264, pad_token_id: 0, bos_token_id: 2, eos_token_id: 3, hidden_size: 256, num_hidden_layers: 3, num_attention_heads: 4, intermediate_size: 1024, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0, max_position_embeddings: 192 },
  },
  // trained from scratch on little data, it points at cells and reads the prompted region directly (the additions of
  // point_head.ts and region_tokens.ts): through the adapter's queries and an MLP alone it learned neither in 2000 updates
  point_head: { hidden_size: 256, num_layers: 3, kind: 'grid' },
  region_tokens: 4,
  mask_adapter: { hidden_size: 128, num_layers: 2, num_attention_heads: 4 },
  proposal_head: { hidden_size: 128, max_proposals: 100, score_threshold: 0.05 },
  tokenizer: 'vocab.txt',
  prompts: DEFAULT_TASK_PROMPTS,
  max_text_tokens: 96,
  max_prompt_tokens: 24,
};

export const PRESETS: Record<string, PixelLLMConfig> = {
  'pixelllm-t5-xl': PIXELLLM_T5_XL,
  'pixelllm-bert': PIXELLLM_BERT,
  'pixelllm-cpu': PIXELLLM_CPU,
  'pixelllm-tiny': PIXELLLM_TINY,
};
