// T5 as HF's T5ForConditionalGeneration computes it (Flan-T5 and the original T5): pre-norm blocks with T5's RMS
// layer norm, attention without 1/√d scaling plus a learned relative-position bias (bucketed distances, held by the
// first layer of each stack and shared by the others; bidirectional in the encoder, causal in the decoder), a
// gated-GELU (tanh form) or ReLU feed-forward, final norms, and a head that is its own matrix or the shared embedding.
// The encoder takes embeddings and a padding mask, as PixelLLM feeds it [visual tokens ; prompt embeddings].
// Keys are HF's (`encoder.block.0.layer.0.SelfAttention.q.weight`).
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/t5/modeling_t5.py
import { Tensor, embedding, gelu, indexSelect, matmul, noGrad, silu, transpose } from '../tensor/index.ts';
import { Embedding, Linear, Module, RMSNorm, type LoraLinear } from '../nn/index.ts';
import { UserError } from '../errors.ts';
import { attend } from './attention.ts';
import { KVCache } from './kv_cache.ts';
import type { DecodeSession } from './generate.ts';

/** The keys of HF's T5Config that the computation reads (config.json loads as it is). */
export interface T5Config {
  vocab_size: number;
  d_model: number;
  d_kv: number;
  d_ff: number;
  num_layers: number;
  /** Defaults to num_layers. */
  num_decoder_layers?: number | null;
  num_heads: number;
  relative_attention_num_buckets: number;
  relative_attention_max_distance: number;
  layer_norm_epsilon: number;
  /** 'relu' (T5 1.0), 'gated-gelu' (Flan-T5, T5 1.1: GELU in its tanh form), 'gated-silu', … */
  feed_forward_proj: string;
  /** true: the logits read the shared embedding (no lm_head of their own). Flan-T5: false. */
  tie_word_embeddings?: boolean;
  /** Multiply the decoder output by d_model^−½ before the head; configs before transformers 5 imply it by tie_word_embeddings. */
  scale_decoder_outputs?: boolean;
  pad_token_id?: number;
  eos_token_id?: number;
  decoder_start_token_id?: number | null;
}

export class T5ConfigError extends UserError {
  override name = 'T5ConfigError';
}

const FLAN_T5_COMMON = {
  vocab_size: 32128, d_kv: 64, relative_attention_num_buckets: 32, relative_attention_max_distance: 128,
  layer_norm_epsilon: 1e-6, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false, pad_token_id: 0, eos_token_id: 1,
  decoder_start_token_id: 0,
} as const;

/** google/flan-t5-small */
export const FLAN_T5_SMALL: T5Config = { ...FLAN_T5_COMMON, d_model: 512, d_ff: 1024, num_layers: 8, num_decoder_layers: 8, num_heads: 6 };
/** google/flan-t5-base */
export const FLAN_T5_BASE: T5Config = { ...FLAN_T5_COMMON, d_model: 768, d_ff: 2048, num_layers: 12, num_decoder_layers: 12, num_heads: 12 };
/** google/flan-t5-large */
export const FLAN_T5_LARGE: T5Config = { ...FLAN_T5_COMMON, d_model: 1024, d_ff: 2816, num_layers: 24, num_decoder_layers: 24, num_heads: 16 };
/** google/flan-t5-xl: PixelLLM's language model. */
export const FLAN_T5_XL: T5Config = { ...FLAN_T5_COMMON, d_model: 2048, d_ff: 5120, num_layers: 24, num_decoder_layers: 24, num_heads: 32 };

/** The activation and gating that feed_forward_proj names, as HF parses it ('gated-gelu' means the tanh GELU). */
function feedForwardKind(c: T5Config): { gated: boolean; act: (x: Tensor) => Tensor } {
  const parts = c.feed_forward_proj.split('-');
  const gated = parts[0] === 'gated';
  if (parts.length > 2 || (parts.length === 2 && !gated)) {
    throw new T5ConfigError(`T5 config: feed_forward_proj '${c.feed_forward_proj}' is not '<act>' or 'gated-<act>'`);
  }
  const name = parts.at(-1)!;
  const acts: Record<string, (x: Tensor) => Tensor> = {
    relu: (x) => x.clamp(0),
    gelu: (x) => (gated ? gelu(x, 'tanh') : gelu(x)), // HF maps 'gated-gelu' to gelu_new
    gelu_new: (x) => gelu(x, 'tanh'),
    silu: silu,
  };
  const act = acts[name];
  if (!act) throw new T5ConfigError(`T5 config: activation '${name}' of feed_forward_proj is not one of ${Object.keys(acts).join(', ')}`);
  return { gated, act };
}

function checkConfig(c: T5Config): void {
  if (c.relative_attention_num_buckets < 4) throw new T5ConfigError(`T5 config: relative_attention_num_buckets ${c.relative_attention_num_buckets} must be at least 4`);
  feedForwardKind(c);
}

/**
 * The bucket of a relative position (key − query) as HF's _relative_position_bucket: exact below half the buckets,
 * logarithmic up to max_distance; in float32 at each step, as torch computes it, so the bucket edges agree.
 */
export function relativePositionBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  const f32 = Math.fround;
  let bucket = 0;
  let n = numBuckets;
  let distance: number;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (relative > 0) bucket += n;
    distance = Math.abs(relative);
  } else {
    distance = -Math.min(relative, 0);
  }
  const maxExact = Math.floor(n / 2);
  if (distance < maxExact) return bucket + distance;
  const large = maxExact + Math.trunc(f32(f32(f32(Math.log(f32(distance / maxExact))) / f32(Math.log(maxDistance / maxExact))) * (n - maxExact)));
  return bucket + Math.min(large, n - 1);
}

/** A Linear, or the LoRA wrapper that applyLora puts in its place. */
type Projection = Linear | LoraLinear;

class T5Attention extends Module {
  q: Projection;
  k: Projection;
  v: Projection;
  o: Projection;
  relative_attention_bias: Embedding | null;
  constructor(readonly config: T5Config, hasRelativeBias: boolean, readonly bidirectional: boolean) {
    super();
    const inner = config.num_heads * config.d_kv;
    this.q = new Linear(config.d_model, inner, { bias: false });
    this.k = new Linear(config.d_model, inner, { bias: false });
    this.v = new Linear(config.d_model, inner, { bias: false });
    this.o = new Linear(inner, config.d_model, { bias: false });
    this.relative_attention_bias = hasRelativeBias ? new Embedding(config.relative_attention_num_buckets, config.num_heads) : null;
  }

  /** (B, T, C) → (B, nh, T, d_kv) through one of q, k, v. */
  heads(x: Tensor, proj: Projection): Tensor {
    const [B, T] = x.shape as [number, number];
    return proj.forward(x).reshape(B, T, this.config.num_heads, this.config.d_kv).transpose(1, 2);
  }

  /** Keys and values of a source sequence (B, S, C): the encoder output for cross-attention, computed once per decode. */
  keysValues(source: Tensor): [Tensor, Tensor] {
    return [this.heads(source, this.k), this.heads(source, this.v)];
  }

  /** The learned bias (1, nh, T, L) for queries at positions start..start+T−1 over keys 0..L−1. */
  positionBias(start: number, T: number, L: number): Tensor {
    const table = this.relative_attention_bias;
    if (!table) throw new Error('positionBias: only the first layer of a T5 stack holds relative_attention_bias');
    const { relative_attention_num_buckets: nb, relative_attention_max_distance: md } = this.config;
    const buckets = new Int32Array(T * L);
    for (let i = 0; i < T; i++) for (let j = 0; j < L; j++) buckets[i * L + j] = relativePositionBucket(j - (start + i), this.bidirectional, nb, md);
    const values = embedding(table.weight, new Tensor(buckets, [T, L])); // (T, L, nh)
    return values.permute(2, 0, 1).unsqueeze(0); // (1, nh, T, L)
  }

  /**
   * x (B, T, C) attends to `kv` (keys and values (B, nh, L, d_kv)) or, when null, to itself (through the cache
   * when there is one); bias is added to the unscaled scores. → (B, T, C)
   */
  forward(x: Tensor, bias: Tensor | null, { kv = null, cache = null, layer = 0, causal = false }:
    { kv?: [Tensor, Tensor] | null; cache?: KVCache | null; layer?: number; causal?: boolean } = {}): Tensor {
    const [B, T] = x.shape as [number, number];
    const q = this.heads(x, this.q);
    let [k, v] = kv ?? this.keysValues(x);
    if (!kv && cache) [k, v] = cache.append(layer, k, v); // (B, nh, L, d_kv)
    const y = attend(q, k, v, { scale: 1, bias, causal }); // T5 folds 1/√d into its initialisation
    return this.o.forward(y.transpose(1, 2).reshape(B, T, this.config.num_heads * this.config.d_kv));
  }
}

class T5LayerSelfAttention extends Module {
  SelfAttention: T5Attention;
  layer_norm: RMSNorm;
  constructor(c: T5Config, hasRelativeBias: boolean, bidirectional: boolean) {
    super();
    this.SelfAttention = new T5Attention(c, hasRelativeBias, bidirectional);
    this.layer_norm = new RMSNorm(c.d_model, c.layer_norm_epsilon);
  }
}

class T5LayerCrossAttention extends Module {
  EncDecAttention: T5Attention;
  layer_norm: RMSNorm;
  constructor(c: T5Config) {
    super();
    this.EncDecAttention = new T5Attention(c, false, true);
    this.layer_norm = new RMSNorm(c.d_model, c.layer_norm_epsilon);
  }
}

/** wo(act(wi_0 x) · wi_1 x) when gated, wo(act(wi x)) otherwise; keys `wi_0`, `wi_1`, `wi`, `wo` as HF. */
class T5DenseActDense extends Module {
  wi: Linear | null;
  wi_0: Linear | null;
  wi_1: Linear | null;
  wo: Linear;
  readonly #act: (x: Tensor) => Tensor;
  constructor(c: T5Config) {
    super();
    const { gated, act } = feedForwardKind(c);
    this.#act = act;
    this.wi = gated ? null : new Linear(c.d_model, c.d_ff, { bias: false });
    this.wi_0 = gated ? new Linear(c.d_model, c.d_ff, { bias: false }) : null;
    this.wi_1 = gated ? new Linear(c.d_model, c.d_ff, { bias: false }) : null;
    this.wo = new Linear(c.d_ff, c.d_model, { bias: false });
  }
  forward(x: Tensor): Tensor {
    const h = this.wi ? this.#act(this.wi.forward(x)) : this.#act(this.wi_0!.forward(x)).mul(this.wi_1!.forward(x)); // (B, T, d_ff)
    return this.wo.forward(h);
  }
}

class T5LayerFF extends Module {
  DenseReluDense: T5DenseActDense;
  layer_norm: RMSNorm;
  constructor(c: T5Config) {
    super();
    this.DenseReluDense = new T5DenseActDense(c);
    this.layer_norm = new RMSNorm(c.d_model, c.layer_norm_epsilon);
  }
  forward(x: Tensor): Tensor {
    return x.add(this.DenseReluDense.forward(this.layer_norm.forward(x)));
  }
}

/** What a block's attentions read besides the hidden states. */
export interface BlockContext {
  /** Added to the self-attention scores: relative-position bias (and the encoder's padding mask), (B or 1, nh, T, L). */
  selfBias: Tensor;
  /** Decoder only: per-layer cross-attention keys and values over the encoder output, and its padding mask (B, 1, 1, S). */
  cross?: { kv: [Tensor, Tensor][]; bias: Tensor | null };
  cache?: KVCache | null;
}

class T5Block extends Module {
  layer: [T5LayerSelfAttention, T5LayerFF] | [T5LayerSelfAttention, T5LayerCrossAttention, T5LayerFF];
  constructor(c: T5Config, readonly isDecoder: boolean, hasRelativeBias: boolean) {
    super();
    const self = new T5LayerSelfAttention(c, hasRelativeBias, !isDecoder);
    this.layer = isDecoder ? [self, new T5LayerCrossAttention(c), new T5LayerFF(c)] : [self, new T5LayerFF(c)];
  }

  forward(x: Tensor, ctx: BlockContext, index: number): Tensor {
    const self = this.layer[0];
    let h = x.add(self.SelfAttention.forward(self.layer_norm.forward(x), ctx.selfBias, { cache: ctx.cache, layer: index, causal: this.isDecoder }));
    if (this.layer.length === 3) {
      const cross = this.layer[1];
      h = h.add(cross.EncDecAttention.forward(cross.layer_norm.forward(h), ctx.cross!.bias, { kv: ctx.cross!.kv[index] }));
    }
    return (this.layer.at(-1) as T5LayerFF).forward(h);
  }
}

/** T5Stack without its embedding (the model's `shared` table; checkpoints' `encoder.embed_tokens` are aliases of it). */
export class T5Stack extends Module {
  block: T5Block[];
  final_layer_norm: RMSNorm;
  constructor(readonly config: T5Config, readonly isDecoder: boolean) {
    super();
    const n = isDecoder ? (config.num_decoder_layers ?? config.num_layers) : config.num_layers;
    this.block = Array.from({ length: n }, (_, i) => new T5Block(config, isDecoder, i === 0));
    this.final_layer_norm = new RMSNorm(config.d_model, config.layer_norm_epsilon);
  }

  /** The relative-position bias of queries start..start+T−1 over L keys, from the first block's table: (1, nh, T, L). */
  positionBias(start: number, T: number, L: number): Tensor {
    return this.block[0]!.layer[0].SelfAttention.positionBias(start, T, L);
  }

  /** x (B, T, C) → every hidden state: the input, each block's output, and last the final-normed output, as HF's hidden_states. */
  forward(x: Tensor, ctx: BlockContext): Tensor[] {
    const states = [x];
    this.block.forEach((b, i) => states.push(b.forward(states.at(-1)!, ctx, i)));
    states[states.length - 1] = this.final_layer_norm.forward(states.at(-1)!);
    return states;
  }

  /** Per-layer cross-attention keys and values over the encoder output (B, S, C). */
  crossKeysValues(encoderOutput: Tensor): [Tensor, Tensor][] {
    return this.block.map((b) => (b.layer[1] as T5LayerCrossAttention).EncDecAttention.keysValues(encoderOutput));
  }
}

/** (B, S) 1 = token, 0 = padding → additive (B, 1, 1, S): 0, or the lowest float32 as HF's masks (never −∞, so no NaN). */
export function paddingBias(mask: Tensor): Tensor {
  const [B, S] = mask.shape as [number, number];
  const m = mask.values();
  const out = new Float32Array(B * S);
  for (let i = 0; i < out.length; i++) out[i] = m[i] ? 0 : -3.4028234663852886e38;
  return new Tensor(out, [B, 1, 1, S]);
}

export interface T5Output {
  /** The encoder's input and each block's output, the last after the final norm: num_layers + 1 tensors (B, S, C). */
  encoderHiddenStates: Tensor[];
  encoderLastHiddenState: Tensor;
  /** (B, T, C) after the decoder's final norm (the point head's input). */
  decoderLastHiddenState: Tensor;
  /** (B, T, V) */
  logits: Tensor;
}

/**
 * T5ForConditionalGeneration's parameters (HF's keys) and computation without its entry points, so that a model with
 * other inputs (PixelLLM's language model, `textual.`) keeps the keys and reuses the encoder, decoder and head.
 */
export class T5EncoderDecoder extends Module {
  shared: Embedding;
  encoder: T5Stack;
  decoder: T5Stack;
  /** null when tie_word_embeddings: the logits read `shared`. */
  lm_head: Projection | null;
  constructor(readonly config: T5Config) {
    super();
    checkConfig(config);
    this.shared = new Embedding(config.vocab_size, config.d_model);
    this.encoder = new T5Stack(config, false);
    this.decoder = new T5Stack(config, true);
    this.lm_head = config.tie_word_embeddings === false ? new Linear(config.d_model, config.vocab_size, { bias: false }) : null;
  }

  /** ids (…) int32 → (…, C) */
  embed(ids: Tensor): Tensor {
    return this.shared.forward(ids);
  }

  /** inputs (B, S, C) with a padding mask (B, S) → every encoder hidden state (see T5Output). */
  encode(inputsEmbeds: Tensor, attentionMask: Tensor | null = null): Tensor[] {
    const S = inputsEmbeds.shape[1]!;
    let bias = this.encoder.positionBias(0, S, S); // (1, nh, S, S)
    if (attentionMask) bias = bias.add(paddingBias(attentionMask)); // (B, nh, S, S)
    return this.encoder.forward(inputsEmbeds, { selfBias: bias });
  }

  /**
   * Decoder ids (B, T) over an encoder output (B, S, C) → the decoder's last hidden state (B, T, C) after its final
   * norm; with a cache, the ids continue the positions it holds and cross holds precomputed keys and values.
   */
  decode(ids: Tensor, cross: BlockContext['cross'], cache: KVCache | null = null): Tensor {
    const T = ids.shape[1]!;
    const start = cache?.length ?? 0;
    const selfBias = this.decoder.positionBias(start, T, start + T);
    return this.decoder.forward(this.embed(ids), { selfBias, cross, cache }).at(-1)!;
  }

  /** Decoder hidden (…, C) → logits (…, V), scaled by d_model^−½ first where the config says so. */
  logits(hidden: Tensor): Tensor {
    const scale = this.config.scale_decoder_outputs ?? this.config.tie_word_embeddings ?? true;
    const h = scale ? hidden.mul(this.config.d_model ** -0.5) : hidden;
    return this.lm_head ? this.lm_head.forward(h) : matmul(h, transpose(this.shared.weight));
  }

  /** What the decoder's cross-attention reads of an encoder output (B, S, C) and its padding mask (B, S). */
  crossContext(encoderOutput: Tensor, attentionMask: Tensor | null): NonNullable<BlockContext['cross']> {
    return { kv: this.decoder.crossKeysValues(encoderOutput), bias: attentionMask ? paddingBias(attentionMask) : null };
  }

  /**
   * Runs the encoder once on inputs (B, S, C) with their padding mask and returns a session that decodes over it
   * (the first step takes the decoder start token, config.decoder_start_token_id).
   */
  decodeSession({ inputsEmbeds, attentionMask = null, maxLength = 64 }: T5DecodeInputs): DecodeSession {
    return noGrad(() => {
      const encoded = this.encode(inputsEmbeds, attentionMask).at(-1)!; // (B, S, C)
      let { kv, bias } = this.crossContext(encoded, attentionMask); // bias (B, 1, 1, S)
      const c = this.config;
      const cache = new KVCache(this.decoder.block.length, inputsEmbeds.shape[0]!, c.num_heads, c.d_kv, maxLength);
      return {
        get batch() {
          return cache.batch;
        },
        step: (ids: Tensor): Tensor => noGrad(() => this.logits(this.decode(ids, { kv, bias }, cache).slice(1, -1).squeeze(1))), // (B, V)
        select: (rows: ArrayLike<number>): void => {
          const index = new Tensor(Int32Array.from(rows), [rows.length]);
          cache.select(rows);
          kv = kv.map(([k, v]) => [indexSelect(k, 0, index), indexSelect(v, 0, index)]);
          if (bias) bias = indexSelect(bias, 0, index);
        },
      };
    });
  }
}

export interface T5DecodeInputs {
  inputsEmbeds: Tensor;
  attentionMask?: Tensor | null;
  maxLength?: number;
}

export class T5ForConditionalGeneration extends T5EncoderDecoder {
  /** Teacher-forced pass: encoder on embeddings + padding mask, decoder on ids (B, T). */
  forward(inputsEmbeds: Tensor, attentionMask: Tensor | null, decoderInputIds: Tensor): T5Output {
    const encoderHiddenStates = this.encode(inputsEmbeds, attentionMask);
    const encoderLastHiddenState = encoderHiddenStates.at(-1)!;
    const decoderLastHiddenState = this.decode(decoderInputIds, this.crossContext(encoderLastHiddenState, attentionMask));
    return { encoderHiddenStates, encoderLastHiddenState, decoderLastHiddenState, logits: this.logits(decoderLastHiddenState) };
  }

  /** See decodeSession. */
  startDecoding(inputs: T5DecodeInputs): DecodeSession {
    return this.decodeSession(inputs);
  }
}

/**
 * A T5 checkpoint's tensors under this module's keys: HF files repeat the shared table as encoder.embed_tokens and
 * decoder.embed_tokens (and, with a tied head, as lm_head); those aliases are dropped once checked equal to shared.
 */
export function t5StateDict(state: Map<string, Tensor>, model: T5EncoderDecoder, source = 'T5 checkpoint'): Map<string, Tensor> {
  const out = new Map(state);
  const shared = state.get('shared.weight') ?? state.get('encoder.embed_tokens.weight');
  if (shared && !state.has('shared.weight')) out.set('shared.weight', shared);
  const aliases = ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', ...(model.lm_head ? [] : ['lm_head.weight'])];
  for (const key of aliases) {
    const t = state.get(key);
    if (!t) continue;
    const a = t.values();
    const b = shared!.values();
    if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
      throw new T5ConfigError(`${source}: ${key} differs from shared.weight, but this model ties them` +
        (key === 'lm_head.weight' ? '; set tie_word_embeddings to false in the config for a head of its own' : ''));
    }
    out.delete(key);
  }
  return out;
}
