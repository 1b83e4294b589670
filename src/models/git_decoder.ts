// GIT's text decoder: a BERT encoder stack (post-norm layers, learned absolute positions) run over
// [image tokens ; text tokens] with GIT's mask, as HF transformers writes it (GitEmbeddings … GitEncoder):
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/git/modeling_git.py
// Keys are HF's below `git.`: `embeddings.word_embeddings.weight`, `encoder.layer.{i}.attention.self.query.weight`, …
import { Generator, Tensor, full, ne, type LinearActivation } from '../tensor/index.ts';
import { Dropout, Embedding, LayerNorm, Linear, Module } from '../nn/index.ts';
import { ConfigError, checkConfig } from './config.ts';
import { fusableAct, hiddenAct, type HiddenAct } from './hidden_act.ts';
import { attend } from './attention.ts';
import { mergeHeads, splitHeads } from './heads.ts';
import type { KVCache } from './kv_cache.ts';

/** The keys of HF's GitConfig that shape the decoder. */
export interface GitTextConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: HiddenAct;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  layer_norm_eps: number;
  pad_token_id: number | null;
  bos_token_id: number;
  eos_token_id: number;
}

export function checkGitTextConfig(c: GitTextConfig): void {
  checkConfig(c.hidden_size % c.num_attention_heads === 0,
    () => `hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  for (const key of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    checkConfig(c[key] >= 0 && c[key] < 1, () => `${key} ${c[key]} must be in [0, 1)`);
  }
  hiddenAct(c.hidden_act);
}

/** Word + position embeddings, then LayerNorm and dropout. */
export class GitEmbeddings extends Module {
  word_embeddings: Embedding;
  position_embeddings: Embedding;
  LayerNorm: LayerNorm; // sic: BERT's TensorFlow-era key
  dropout: Dropout;

  constructor(readonly config: GitTextConfig, rng: Generator) {
    super();
    this.word_embeddings = new Embedding(config.vocab_size, config.hidden_size);
    this.position_embeddings = new Embedding(config.max_position_embeddings, config.hidden_size);
    this.LayerNorm = new LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.dropout = new Dropout(config.hidden_dropout_prob, rng);
  }

  /** ids (B, T) int32 at positions start … start + T − 1, or at explicit positions (B or 1, T) → (B, T, C). */
  forward(ids: Tensor, positions: number | Tensor = 0): Tensor {
    const [, T] = ids.shape as [number, number];
    const { max_position_embeddings: P, vocab_size: V, pad_token_id: pad } = this.config;
    const last = typeof positions === 'number' ? positions + T - 1 : Math.max(...positions.toArray());
    if (last >= P) throw new ConfigError(`text position ${last} is past max_position_embeddings ${P}`);
    const bad = ids.toArray().find((id) => id < 0 || id >= V);
    if (bad !== undefined) throw new ConfigError(`token id ${bad} is outside the vocabulary [0, ${V})`);
    let words = this.word_embeddings.forward(ids); // (B, T, C)
    if (pad !== null && ids.toArray().includes(pad)) {
      // torch's padding_idx: the pad row's value is used but gets no gradient
      const keep = ne(ids, pad).to(words.dtype).unsqueeze(-1); // (B, T, 1)
      words = words.mul(keep).add(words.detach().mul(keep.neg().add(1)));
    }
    const table = this.position_embeddings;
    const pos = typeof positions === 'number' ? table.weight.slice(0, positions, positions + T) : table.forward(positions); // (T, C) or (B, T, C)
    return this.dropout.forward(this.LayerNorm.forward(words.add(pos)));
  }
}

export class GitSelfAttention extends Module {
  query: Linear;
  key: Linear;
  value: Linear;

  constructor(readonly config: GitTextConfig, readonly rng: Generator) {
    super();
    const C = config.hidden_size;
    this.query = new Linear(C, C);
    this.key = new Linear(C, C);
    this.value = new Linear(C, C);
  }

  /** x (B, T, C) → context (B, T, C); with a cache, its keys/values are appended and every cached token attended to. */
  forward(x: Tensor, mask: Tensor, cache: KVCache | null, layer: number): Tensor {
    const nh = this.config.num_attention_heads;
    let k = splitHeads(this.key.forward(x), nh); // (B, nh, T, hs)
    let v = splitHeads(this.value.forward(x), nh);
    if (cache !== null) [k, v] = cache.append(layer, k, v); // (B, nh, L + T, hs)
    const q = splitHeads(this.query.forward(x), nh);
    const dropout = { p: this.config.attention_probs_dropout_prob, rng: this.rng, training: this.training };
    return mergeHeads(attend(q, k, v, { bias: mask, dropout }));
  }
}

/** dense → dropout → LayerNorm(· + residual): BERT's post-norm sub-layer output (GitSelfOutput and GitOutput). */
export class GitResidualOutput extends Module {
  dense: Linear;
  LayerNorm: LayerNorm;
  dropout: Dropout;

  constructor(inFeatures: number, config: GitTextConfig, rng: Generator) {
    super();
    this.dense = new Linear(inFeatures, config.hidden_size);
    this.LayerNorm = new LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.dropout = new Dropout(config.hidden_dropout_prob, rng);
  }

  forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(this.dropout.forward(this.dense.forward(x)).add(residual));
  }
}

export class GitAttention extends Module {
  self: GitSelfAttention;
  output: GitResidualOutput;

  constructor(config: GitTextConfig, rng: Generator) {
    super();
    this.self = new GitSelfAttention(config, rng);
    this.output = new GitResidualOutput(config.hidden_size, config, rng);
  }
}

export class GitIntermediate extends Module {
  dense: Linear;
  readonly #act: (x: Tensor) => Tensor;
  readonly #fused: LinearActivation | null;

  constructor(config: GitTextConfig) {
    super();
    this.dense = new Linear(config.hidden_size, config.intermediate_size);
    this.#act = hiddenAct(config.hidden_act);
    this.#fused = fusableAct(config.hidden_act);
  }

  forward(x: Tensor): Tensor {
    return this.#fused ? this.dense.forward(x, this.#fused) : this.#act(this.dense.forward(x));
  }
}

export class GitLayer extends Module {
  attention: GitAttention;
  intermediate: GitIntermediate;
  output: GitResidualOutput;

  constructor(config: GitTextConfig, rng: Generator) {
    super();
    this.attention = new GitAttention(config, rng);
    this.intermediate = new GitIntermediate(config);
    this.output = new GitResidualOutput(config.intermediate_size, config, rng);
  }

  forward(x: Tensor, mask: Tensor, cache: KVCache | null, layer: number): Tensor {
    const context = this.attention.self.forward(x, mask, cache, layer);
    const a = this.attention.output.forward(context, x); // (B, T, C)
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

export class GitEncoder extends Module {
  layer: GitLayer[];

  constructor(config: GitTextConfig, rng: Generator) {
    super();
    this.layer = Array.from({ length: config.num_hidden_layers }, () => new GitLayer(config, rng));
  }

  /** x (B, T, C) → (B, T, C); a cache supplies the earlier tokens' keys/values and keeps these ones. */
  forward(x: Tensor, mask: Tensor, cache: KVCache | null = null): Tensor {
    this.layer.forEach((layer, i) => (x = layer.forward(x, mask, cache, i)));
    return x;
  }
}

const F32_MIN = -3.4028234663852886e38;

/**
 * GIT's additive attention mask for N new image tokens and T new text tokens after `past` cached keys
 * (image tokens come first, so N > 0 only when past is 0): image tokens see every image token and no text;
 * text tokens see every image token, the cached text and the new text up to themselves.
 * textMask (B, cached + new text tokens), 1 = real token, 0 = padding, hides padded text keys from every query.
 * → (1, 1, Tq, Tk), or (B, 1, Tq, Tk) with a textMask.
 */
export function gitAttentionMask(N: number, T: number, past: number, imageTokens: number, textMask: Tensor | null = null): Tensor {
  checkConfig(N === 0 || past === 0, () => `image tokens must come first: ${N} new image tokens after ${past} cached keys`);
  const Tq = N + T;
  const Tk = past + N + T;
  const m = full([Tq, Tk], 0);
  for (let r = 0; r < N; r++) for (let j = N; j < Tk; j++) m.data[r * Tk + j] = -Infinity;
  for (let i = 0; i < T; i++) for (let j = past + N + i + 1; j < Tk; j++) m.data[(N + i) * Tk + j] = -Infinity;
  if (textMask === null) return m.reshape(1, 1, Tq, Tk);
  const [B, Lt] = textMask.shape as [number, number];
  const image = past === 0 ? N : imageTokens;
  checkConfig(Lt === Tk - image, () => `attention mask covers ${Lt} text tokens, the sequence has ${Tk - image}`);
  const keys = full([B, 1, 1, Tk], 0);
  const flags = textMask.toArray();
  // HF's padding value: the float32 minimum, so a row with every key padded stays finite
  for (let b = 0; b < B; b++) for (let j = 0; j < Lt; j++) if (flags[b * Lt + j] === 0) keys.data[b * Tk + image + j] = F32_MIN;
  return m.add(keys); // (B, 1, Tq, Tk)
}
