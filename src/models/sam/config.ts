// SAM's configuration, field for field as HF transformers' SamConfig writes it to config.json (vision_config,
// prompt_encoder_config, mask_decoder_config), with HF's defaults and the presets of the public checkpoints.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/configuration_sam.py
import { UserError } from '../../errors.ts';

/** A SAM config.json that cannot build a model: the message names the key, the value and what is expected. */
export class SamConfigError extends UserError {
  override name = 'SamConfigError';
}

export interface SamVisionConfig {
  hidden_size: number;
  output_channels: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_channels: number;
  /** The pretraining input size: pos_embed and the global layers' rel_pos tables are sized for it. */
  image_size: number;
  patch_size: number;
  hidden_act: string;
  layer_norm_eps: number;
  qkv_bias: boolean;
  mlp_ratio: number;
  use_abs_pos: boolean;
  use_rel_pos: boolean;
  window_size: number;
  global_attn_indexes: number[];
  num_pos_feats: number;
  mlp_dim: number;
}

export interface SamPromptEncoderConfig {
  hidden_size: number;
  /** The input size prompt coordinates are given in (pixels of the resized, padded image). */
  image_size: number;
  patch_size: number;
  mask_input_channels: number;
  num_point_embeddings: number;
  hidden_act: string;
  layer_norm_eps: number;
  image_embedding_size: number;
}

export interface SamMaskDecoderConfig {
  hidden_size: number;
  hidden_act: string;
  mlp_dim: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  attention_downsample_rate: number;
  num_multimask_outputs: number;
  iou_head_depth: number;
  iou_head_hidden_dim: number;
  layer_norm_eps: number;
}

export interface SamConfig {
  vision_config: SamVisionConfig;
  prompt_encoder_config: SamPromptEncoderConfig;
  mask_decoder_config: SamMaskDecoderConfig;
}

const VISION_DEFAULTS: Omit<SamVisionConfig, 'mlp_dim'> = {
  hidden_size: 768, output_channels: 256, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3,
  image_size: 1024, patch_size: 16, hidden_act: 'gelu', layer_norm_eps: 1e-6, qkv_bias: true, mlp_ratio: 4,
  use_abs_pos: true, use_rel_pos: true, window_size: 14, global_attn_indexes: [2, 5, 8, 11], num_pos_feats: 128,
};

const PROMPT_DEFAULTS: Omit<SamPromptEncoderConfig, 'image_embedding_size'> = {
  hidden_size: 256, image_size: 1024, patch_size: 16, mask_input_channels: 16, num_point_embeddings: 4,
  hidden_act: 'gelu', layer_norm_eps: 1e-6,
};

const DECODER_DEFAULTS: SamMaskDecoderConfig = {
  hidden_size: 256, hidden_act: 'relu', mlp_dim: 2048, num_hidden_layers: 2, num_attention_heads: 8,
  attention_downsample_rate: 2, num_multimask_outputs: 3, iou_head_depth: 3, iou_head_hidden_dim: 256, layer_norm_eps: 1e-6,
};

type Raw = Record<string, unknown>;

/** Fills HF's defaults, derives mlp_dim and image_embedding_size as HF does, and checks every value. */
export function samConfig(raw: { vision_config?: Raw; prompt_encoder_config?: Raw; mask_decoder_config?: Raw } = {}, source = 'SAM config'): SamConfig {
  const v = { ...VISION_DEFAULTS, ...pick(raw.vision_config, VISION_DEFAULTS) } as SamVisionConfig;
  // HF: mlp_dim = int(hidden_size * mlp_ratio) when absent or null
  v.mlp_dim = typeof raw.vision_config?.mlp_dim === 'number' ? raw.vision_config.mlp_dim : Math.trunc(v.hidden_size * v.mlp_ratio);
  const p = { ...PROMPT_DEFAULTS, ...pick(raw.prompt_encoder_config, PROMPT_DEFAULTS) } as SamPromptEncoderConfig;
  // HF derives it in __init__ (a stored value is ignored there too)
  p.image_embedding_size = Math.trunc(p.image_size / p.patch_size);
  const d = { ...DECODER_DEFAULTS, ...pick(raw.mask_decoder_config, DECODER_DEFAULTS) } as SamMaskDecoderConfig;
  const config = { vision_config: v, prompt_encoder_config: p, mask_decoder_config: d };
  validate(config, source);
  return config;
}

/** The keys of `raw` that the interface knows (HF's config.json also carries id2label, dtype, …). */
function pick(raw: Raw | undefined, known: object): Raw {
  if (raw === undefined) return {};
  return Object.fromEntries(Object.entries(raw).filter(([k, val]) => k in known && val !== null));
}

function validate(c: SamConfig, source: string): void {
  const fail = (section: string, key: string, value: unknown, want: string): never => {
    throw new SamConfigError(`${source}: ${section}.${key} is ${JSON.stringify(value)}; ${want}`);
  };
  const positiveInts = (section: keyof SamConfig, keys: string[]): void => {
    const s = c[section] as unknown as Raw;
    for (const k of keys) if (!Number.isInteger(s[k]) || (s[k] as number) <= 0) fail(section, k, s[k], 'expected a positive integer');
  };
  const v = c.vision_config;
  positiveInts('vision_config', ['hidden_size', 'output_channels', 'num_hidden_layers', 'num_attention_heads', 'num_channels', 'image_size', 'patch_size', 'num_pos_feats', 'mlp_dim']);
  if (v.hidden_size % v.num_attention_heads !== 0) {
    fail('vision_config', 'hidden_size', v.hidden_size, `not divisible by num_attention_heads ${v.num_attention_heads}`);
  }
  if (!Number.isInteger(v.window_size) || v.window_size < 0) fail('vision_config', 'window_size', v.window_size, 'expected 0 (all global) or a positive integer');
  if (!Array.isArray(v.global_attn_indexes) || !v.global_attn_indexes.every((i) => Number.isInteger(i) && i >= 0 && i < v.num_hidden_layers)) {
    fail('vision_config', 'global_attn_indexes', v.global_attn_indexes, `expected layer indexes below num_hidden_layers ${v.num_hidden_layers}`);
  }
  if (!(v.layer_norm_eps > 0)) fail('vision_config', 'layer_norm_eps', v.layer_norm_eps, 'expected a positive number');
  const p = c.prompt_encoder_config;
  positiveInts('prompt_encoder_config', ['hidden_size', 'image_size', 'patch_size', 'mask_input_channels', 'num_point_embeddings', 'image_embedding_size']);
  if (p.num_point_embeddings < 4) fail('prompt_encoder_config', 'num_point_embeddings', p.num_point_embeddings, 'SAM needs 4 (negative, positive, two box corners)');
  if (p.mask_input_channels % 4 !== 0) fail('prompt_encoder_config', 'mask_input_channels', p.mask_input_channels, 'expected a multiple of 4 (the first mask conv has a quarter of them)');
  if (p.hidden_size !== v.output_channels) {
    fail('prompt_encoder_config', 'hidden_size', p.hidden_size, `must equal vision_config.output_channels ${v.output_channels} (prompts live in the image embedding's space)`);
  }
  if (2 * v.num_pos_feats !== v.output_channels) {
    fail('vision_config', 'num_pos_feats', v.num_pos_feats, `must be half of output_channels ${v.output_channels} (sin and cos of each feature)`);
  }
  const d = c.mask_decoder_config;
  positiveInts('mask_decoder_config', ['hidden_size', 'mlp_dim', 'num_hidden_layers', 'num_attention_heads', 'attention_downsample_rate', 'num_multimask_outputs', 'iou_head_hidden_dim']);
  if (!Number.isInteger(d.iou_head_depth) || d.iou_head_depth < 2) fail('mask_decoder_config', 'iou_head_depth', d.iou_head_depth, 'expected an integer ≥ 2 (input and output layers)');
  if (d.hidden_size !== p.hidden_size) fail('mask_decoder_config', 'hidden_size', d.hidden_size, `must equal prompt_encoder_config.hidden_size ${p.hidden_size}`);
  if (d.hidden_size % 8 !== 0) fail('mask_decoder_config', 'hidden_size', d.hidden_size, 'expected a multiple of 8 (the upscaling convs divide it by 4 and 8)');
  const inner = d.hidden_size / d.attention_downsample_rate;
  if (!Number.isInteger(inner) || inner % d.num_attention_heads !== 0) {
    fail('mask_decoder_config', 'attention_downsample_rate', d.attention_downsample_rate,
      `hidden_size ${d.hidden_size} / rate must be divisible by num_attention_heads ${d.num_attention_heads}`);
  }
}

/** The vision settings of the public checkpoints facebook/sam-vit-{base,large,huge}; the rest is HF's defaults. */
const vit = (hidden_size: number, num_hidden_layers: number, num_attention_heads: number, global_attn_indexes: number[]): SamConfig =>
  samConfig({ vision_config: { hidden_size, num_hidden_layers, num_attention_heads, global_attn_indexes } });

export const SAM_VIT_B: SamConfig = vit(768, 12, 12, [2, 5, 8, 11]);
export const SAM_VIT_L: SamConfig = vit(1024, 24, 16, [5, 11, 17, 23]);
export const SAM_VIT_H: SamConfig = vit(1280, 32, 16, [7, 15, 23, 31]);
