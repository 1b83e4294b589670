// Llama as HF's LlamaForCausalLM computes it: pre-norm decoder blocks with RMSNorm, rotary position embedding in
// HF's rotate_half layout, grouped-query attention (num_key_value_heads), a SwiGLU MLP, optionally tied embeddings.
// Keys are those of HF checkpoints (`model.layers.0.self_attn.q_proj.weight`), so hub safetensors load unchanged.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/llama/modeling_llama.py
import { Tensor, concat, matmul, silu, transpose } from '../tensor/index.ts';
import { Embedding, Linear, Module, RMSNorm, type LoraLinear } from '../nn/index.ts';
import { UserError } from '../errors.ts';
import { attend } from './attention.ts';
import { KVCache } from './kv_cache.ts';
import type { DecodeSession } from './generate.ts';
import { PaddingMaskError, PaddingRecord, maskFlags, realPrefix, type Placement } from './left_padding.ts';

/** The keys of HF's LlamaConfig that the computation reads (config.json loads as it is). */
export interface LlamaConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Defaults to num_attention_heads (plain multi-head attention). */
  num_key_value_heads?: number;
  /** Defaults to hidden_size / num_attention_heads. */
  head_dim?: number;
  rms_norm_eps: number;
  /** transformers 4 keeps it at the top level, transformers 5 in rope_parameters. */
  rope_theta?: number;
  rope_parameters?: { rope_theta?: number; rope_type?: string } | null;
  rope_scaling?: { rope_type?: string; type?: string } | null;
  max_position_embeddings?: number;
  tie_word_embeddings?: boolean;
  attention_bias?: boolean;
  mlp_bias?: boolean;
  hidden_act?: string;
  bos_token_id?: number | null;
  eos_token_id?: number | number[] | null;
  pad_token_id?: number | null;
}

export class LlamaConfigError extends UserError {
  override name = 'LlamaConfigError';
}

/** TinyLlama-1.1B (TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T and its Chat-v1.0). */
export const TINYLLAMA_1_1B: LlamaConfig = {
  vocab_size: 32000, hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22, num_attention_heads: 32,
  num_key_value_heads: 4, rms_norm_eps: 1e-5, rope_theta: 10000, max_position_embeddings: 2048, tie_word_embeddings: false,
  bos_token_id: 1, eos_token_id: 2,
};

/** HuggingFaceTB/SmolLM2-135M. */
export const SMOLLM2_135M: LlamaConfig = {
  vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30, num_attention_heads: 9,
  num_key_value_heads: 3, head_dim: 64, rms_norm_eps: 1e-5, rope_theta: 100000, max_position_embeddings: 8192,
  tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 0,
};

/** HuggingFaceTB/SmolLM2-360M. */
export const SMOLLM2_360M: LlamaConfig = {
  vocab_size: 49152, hidden_size: 960, intermediate_size: 2560, num_hidden_layers: 32, num_attention_heads: 15,
  num_key_value_heads: 5, head_dim: 64, rms_norm_eps: 1e-5, rope_theta: 100000, max_position_embeddings: 8192,
  tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 0,
};

/** The derived sizes, after checking the config is consistent. */
function sizes(c: LlamaConfig): { heads: number; kvHeads: number; headDim: number; theta: number } {
  const heads = c.num_attention_heads;
  const kvHeads = c.num_key_value_heads ?? heads;
  const headDim = c.head_dim ?? c.hidden_size / heads;
  const theta = c.rope_parameters?.rope_theta ?? c.rope_theta ?? 10000;
  const fail = (why: string): never => {
    throw new LlamaConfigError(`Llama config: ${why}`);
  };
  if (!Number.isInteger(headDim)) fail(`hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${heads} (and no head_dim is given)`);
  if (headDim % 2 !== 0) fail(`head_dim ${headDim} must be even for rotary embedding`);
  if (heads % kvHeads !== 0) fail(`num_attention_heads ${heads} is not a multiple of num_key_value_heads ${kvHeads}`);
  const ropeType = c.rope_parameters?.rope_type ?? c.rope_scaling?.rope_type ?? c.rope_scaling?.type ?? 'default';
  if (ropeType !== 'default') fail(`rope type '${ropeType}' is not supported (only the default rotary embedding is)`);
  if ((c.hidden_act ?? 'silu') !== 'silu') fail(`hidden_act '${c.hidden_act}' is not supported (Llama uses silu)`);
  return { heads, kvHeads, headDim, theta };
}

/** A Linear, or the LoRA wrapper that applyLora puts in its place. */
type Projection = Linear | LoraLinear;

/**
 * cos and sin of the rotary angles pos·θ^(−2i/hs) for the positions (B·T, row-major), each frequency twice ([f, f],
 * HF's layout), rounded through float32 at each step as HF computes them: (T, hs) when every row has the same
 * positions, else (B, 1, T, hs), one table per row (left-padded batches).
 */
function rotaryTables(positions: Int32Array, B: number, T: number, headDim: number, theta: number): [Tensor, Tensor] {
  const half = headDim / 2;
  const f32 = Math.fround;
  const invFreq = Array.from({ length: half }, (_, i) => f32(1 / f32(theta ** f32((2 * i) / headDim))));
  const shared = positions.every((p, i) => p === positions[i % T]);
  const n = shared ? T : B * T;
  const cos = new Float32Array(n * headDim);
  const sin = new Float32Array(n * headDim);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < half; i++) {
      const angle = f32(positions[t]! * invFreq[i]!);
      cos[t * headDim + i] = cos[t * headDim + half + i] = Math.cos(angle);
      sin[t * headDim + i] = sin[t * headDim + half + i] = Math.sin(angle);
    }
  }
  const shape = shared ? [T, headDim] : [B, 1, T, headDim];
  return [new Tensor(cos, shape), new Tensor(sin, shape)];
}

/** The default placement: positions start..start+T−1 in every row, nothing padded. */
function contiguousPlacement(B: number, T: number, start: number): Placement {
  return { positions: Int32Array.from({ length: B * T }, (_, i) => start + (i % T)), keyBias: null };
}

/** x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁] over the two halves of the last dim. */
function applyRotary(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const half = x.shape.at(-1)! / 2;
  const rotated = concat([x.slice(-1, half).neg(), x.slice(-1, 0, half)], -1);
  return x.mul(cos).add(rotated.mul(sin));
}

class LlamaAttention extends Module {
  q_proj: Projection;
  k_proj: Projection;
  v_proj: Projection;
  o_proj: Projection;
  constructor(readonly config: LlamaConfig) {
    super();
    const { heads, kvHeads, headDim } = sizes(config);
    const bias = config.attention_bias ?? false;
    this.q_proj = new Linear(config.hidden_size, heads * headDim, { bias });
    this.k_proj = new Linear(config.hidden_size, kvHeads * headDim, { bias });
    this.v_proj = new Linear(config.hidden_size, kvHeads * headDim, { bias });
    this.o_proj = new Linear(heads * headDim, config.hidden_size, { bias });
  }

  /** x (B, T, C) → (B, T, C); with a cache, attends over every position it holds, padded keys hidden by keyBias (B, 1, 1, L). */
  forward(x: Tensor, rope: [Tensor, Tensor], keyBias: Tensor | null, cache: KVCache | null, layer: number): Tensor {
    const [B, T] = x.shape as [number, number];
    const { heads, kvHeads, headDim } = sizes(this.config);
    const split = (t: Tensor, n: number): Tensor => t.reshape(B, T, n, headDim).transpose(1, 2); // (B, n, T, hs)
    const q = applyRotary(split(this.q_proj.forward(x), heads), ...rope);
    let k = applyRotary(split(this.k_proj.forward(x), kvHeads), ...rope);
    let v = split(this.v_proj.forward(x), kvHeads);
    if (cache) [k, v] = cache.append(layer, k, v); // (B, nkv, L, hs)
    const y = attend(q, k, v, { causal: true, bias: keyBias }); // (B, nh, T, hs)
    return this.o_proj.forward(y.transpose(1, 2).reshape(B, T, heads * headDim));
  }
}

class LlamaMLP extends Module {
  gate_proj: Projection;
  up_proj: Projection;
  down_proj: Projection;
  constructor(c: LlamaConfig) {
    super();
    const bias = c.mlp_bias ?? false;
    this.gate_proj = new Linear(c.hidden_size, c.intermediate_size, { bias });
    this.up_proj = new Linear(c.hidden_size, c.intermediate_size, { bias });
    this.down_proj = new Linear(c.intermediate_size, c.hidden_size, { bias });
  }
  forward(x: Tensor): Tensor {
    return this.down_proj.forward(silu(this.gate_proj.forward(x)).mul(this.up_proj.forward(x)));
  }
}

class LlamaDecoderLayer extends Module {
  self_attn: LlamaAttention;
  mlp: LlamaMLP;
  input_layernorm: RMSNorm;
  post_attention_layernorm: RMSNorm;
  constructor(c: LlamaConfig) {
    super();
    this.self_attn = new LlamaAttention(c);
    this.mlp = new LlamaMLP(c);
    this.input_layernorm = new RMSNorm(c.hidden_size, c.rms_norm_eps);
    this.post_attention_layernorm = new RMSNorm(c.hidden_size, c.rms_norm_eps);
  }
  forward(x: Tensor, rope: [Tensor, Tensor], keyBias: Tensor | null, cache: KVCache | null, layer: number): Tensor {
    const h = x.add(this.self_attn.forward(this.input_layernorm.forward(x), rope, keyBias, cache, layer));
    return h.add(this.mlp.forward(this.post_attention_layernorm.forward(h)));
  }
}

class LlamaModel extends Module {
  embed_tokens: Embedding;
  layers: LlamaDecoderLayer[];
  norm: RMSNorm;
  constructor(readonly config: LlamaConfig) {
    super();
    this.embed_tokens = new Embedding(config.vocab_size, config.hidden_size);
    this.layers = Array.from({ length: config.num_hidden_layers }, () => new LlamaDecoderLayer(config));
    this.norm = new RMSNorm(config.hidden_size, config.rms_norm_eps);
  }

  /**
   * inputs (B, T, C) → last hidden state (B, T, C) after the final norm; a cache supplies and keeps earlier
   * positions. `placement` gives each token's position and the padded keys; by default the tokens follow the cache.
   */
  forward(inputsEmbeds: Tensor, cache: KVCache | null = null, placement: Placement | null = null): Tensor {
    const { headDim, theta } = sizes(this.config);
    const [B, T] = inputsEmbeds.shape as [number, number];
    const { positions, keyBias } = placement ?? contiguousPlacement(B, T, cache?.length ?? 0);
    const rope = rotaryTables(positions, B, T, headDim, theta);
    let h = inputsEmbeds;
    this.layers.forEach((layer, i) => (h = layer.forward(h, rope, keyBias, cache, i)));
    return this.norm.forward(h);
  }
}

export interface LlamaOutput {
  /** (B, T, C), after the final norm. */
  lastHiddenState: Tensor;
  /** (B, T, V) */
  logits: Tensor;
}

/**
 * LlamaForCausalLM's parameters (HF's keys) and computation without its entry points, so that a model with other
 * inputs (PixelLLM's language model, `textual.`) keeps the keys and reuses the stack, the head and the decode session.
 */
export class LlamaWithHead extends Module {
  model: LlamaModel;
  /** null when tie_word_embeddings: the logits then read the input embedding table (HF checkpoints then have no lm_head.weight). */
  lm_head: Projection | null;
  constructor(readonly config: LlamaConfig) {
    super();
    sizes(config);
    this.model = new LlamaModel(config);
    this.lm_head = config.tie_word_embeddings ? null : new Linear(config.hidden_size, config.vocab_size, { bias: false });
  }

  /** ids (B, T) int32 → (B, T, C) */
  embed(ids: Tensor): Tensor {
    return this.model.embed_tokens.forward(ids);
  }

  /** hidden (…, C) → logits (…, V) */
  logits(hidden: Tensor): Tensor {
    return this.lm_head ? this.lm_head.forward(hidden) : matmul(hidden, transpose(this.model.embed_tokens.weight));
  }

  /**
   * Token ids (B, T) int32, or embeddings (B, T, C) (a prefix of other features may lead the text) → the last hidden
   * state (B, T, C). attentionMask (B, T), 1 for a real token and 0 for padding, places each token after the real ones
   * before it in its row and hides the padding from every query (outputs at padded positions are meaningless), as HF
   * generate's left padding.
   */
  lastHiddenState(input: Tensor, { attentionMask = null }: { attentionMask?: Tensor | null } = {}): Tensor {
    const [B, T] = input.shape as [number, number];
    const placement = attentionMask ? new PaddingRecord(B).extend(T, maskFlags(attentionMask, B, T)) : null;
    return this.model.forward(input.dtype === 'int32' ? this.embed(input) : input, null, placement);
  }

  /**
   * A decode session over `batch` rows; `prefixEmbeds` (B, P, C), when given, is run ahead of the first ids.
   * attentionMask (B, t) marks the padding of the prompt that the first step feeds (prompts of different lengths,
   * padded on the left); a step may also pass the mask of its own tokens. The session remembers which cached
   * positions are padding, through select() too.
   */
  decodeSession({ batch, prefixEmbeds = null, maxLength = 64, attentionMask = null }: LlamaDecodeInputs): LlamaDecodeSession {
    const { kvHeads, headDim } = sizes(this.config);
    if (prefixEmbeds && (prefixEmbeds.ndim !== 3 || prefixEmbeds.shape[0] !== batch || prefixEmbeds.shape[2] !== this.config.hidden_size)) {
      throw new LlamaConfigError(`prefix embeddings must be (${batch}, P, ${this.config.hidden_size}), got [${prefixEmbeds.shape}]`);
    }
    const cache = new KVCache(this.config.num_hidden_layers, batch, kvHeads, headDim, maxLength + (prefixEmbeds?.shape[1] ?? 0));
    const padding = new PaddingRecord(batch);
    let prefix = prefixEmbeds;
    let promptMask = attentionMask;
    return {
      get batch() {
        return cache.batch;
      },
      step: (ids: Tensor, stepMask: Tensor | null = null): Tensor => {
        const [B, t] = ids.shape as [number, number];
        const mask = stepMask ?? promptMask;
        promptMask = null;
        const flags = mask ? maskFlags(mask, B, t) : null;
        for (let b = 0; flags && b < B; b++) {
          if (!flags[b * t + t - 1]) throw new PaddingMaskError(`row ${b} ends in padding, so it would predict from a pad token; pad prompts on the left`);
        }
        let x = this.embed(ids); // (B, t, C)
        if (prefix) x = concat([prefix, x], 1); // (B, P + t, C)
        const placement = padding.extend(x.shape[1]!, flags && prefix ? realPrefix(flags, B, prefix.shape[1]!) : flags);
        prefix = null;
        const h = this.model.forward(x, cache, placement);
        return this.logits(h.slice(1, -1).squeeze(1)); // (B, V)
      },
      select: (rows) => {
        if (prefix || promptMask) throw new LlamaConfigError('select before the first step would drop the prefix or the prompt mask; step the prompt first');
        cache.select(rows);
        padding.select(rows);
      },
    };
  }
}

export interface LlamaDecodeInputs {
  batch: number;
  prefixEmbeds?: Tensor | null;
  maxLength?: number;
  attentionMask?: Tensor | null;
}

export type LlamaDecodeSession = DecodeSession & { step(ids: Tensor, attentionMask?: Tensor | null): Tensor };

export class LlamaForCausalLM extends LlamaWithHead {
  /** Logits and last hidden state of ids or embeddings (B, T); see lastHiddenState for the attention mask. */
  forward(input: Tensor, opts: { attentionMask?: Tensor | null } = {}): LlamaOutput {
    const lastHiddenState = this.lastHiddenState(input, opts);
    return { lastHiddenState, logits: this.logits(lastHiddenState) };
  }

  /** See decodeSession. */
  startDecoding(inputs: LlamaDecodeInputs): LlamaDecodeSession {
    return this.decodeSession(inputs);
  }
}
