// GIT (GenerativeImage2Text) as HF transformers writes it: a CLIP vision tower, a projection to the decoder width,
// and a BERT-style decoder over [image tokens ; text tokens] (GitModel, GitForCausalLM):
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/git/modeling_git.py
// Keys are HF's: `git.image_encoder.vision_model.…`, `git.visual_projection.visual_projection.{0,1}.…`,
// `git.embeddings.…`, `git.encoder.layer.{i}.…`, `output.weight`.
import { Generator, Tensor, concat, indexSelect, noGrad, tensor } from '../tensor/index.ts';
import { LayerNorm, Linear, Module } from '../nn/index.ts';
import { ConfigError, checkConfig } from './config.ts';
import type { DecodeSession } from './generate.ts';
import { CLIPVisionModel, CLIP_VIT_B16, type CLIPVisionConfig } from './clip_vision.ts';
import { GitEmbeddings, GitEncoder, checkGitTextConfig, gitAttentionMask, type GitTextConfig } from './git_decoder.ts';
import { KVCache } from './kv_cache.ts';

/** The keys of HF's GitConfig this model reads. */
export interface GitConfig extends GitTextConfig {
  vision_config: CLIPVisionConfig;
  /** Video GIT's per-frame embeddings; only null (single images) is supported. */
  num_image_with_embedding: number | null;
  tie_word_embeddings: boolean;
}

/** microsoft/git-base: CLIP ViT-B/16 at 224 and a 6-layer, 768-wide decoder over the BERT uncased vocabulary. */
export const GIT_BASE: GitConfig = {
  vision_config: CLIP_VIT_B16,
  vocab_size: 30522, hidden_size: 768, num_hidden_layers: 6, num_attention_heads: 12, intermediate_size: 3072,
  hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: 1024,
  layer_norm_eps: 1e-12, pad_token_id: 0, bos_token_id: 101, eos_token_id: 102, num_image_with_embedding: null,
  tie_word_embeddings: false,
};

export function checkGitConfig(c: GitConfig): void {
  checkGitTextConfig(c);
  checkConfig(c.num_image_with_embedding === null,
    () => `num_image_with_embedding ${c.num_image_with_embedding}: video GIT (per-frame temporal embeddings) is not supported`);
  checkConfig(!c.tie_word_embeddings, 'tie_word_embeddings true: GIT checkpoints keep output.weight untied');
}

/**
 * What decode calls leave for the next: every layer's keys and values, image tokens first (written once, as the
 * prefix), in a preallocated cache that each call appends to in place (GitModel.newCache makes an empty one).
 */
export interface GitCache {
  kv: KVCache;
  imageTokens: number;
  textTokens: number;
}

/** Linear to the decoder width, then LayerNorm (an nn.Sequential in HF, hence the keys `visual_projection.{0,1}`). */
export class GitProjection extends Module {
  visual_projection: [Linear, LayerNorm];

  constructor(config: GitConfig) {
    super();
    const v = config.vision_config;
    this.visual_projection = [new Linear(v.hidden_size, config.hidden_size), new LayerNorm(config.hidden_size, v.layer_norm_eps)];
  }

  forward(x: Tensor): Tensor {
    const [linear, norm] = this.visual_projection;
    return norm.forward(linear.forward(x));
  }
}

/** What a GIT-style decoder is made of: HF's GitModel, or PixelLLM's text decoder (`textual.`). */
export interface GitDecoderParts {
  readonly config: GitTextConfig;
  embeddings: GitEmbeddings;
  encoder: GitEncoder;
}

/** An empty cache for `batch` rows of a GIT-style decoder, with room for `capacity` tokens before it grows. */
export function newGitCache(config: GitTextConfig, batch: number, capacity: number): GitCache {
  const { num_hidden_layers: layers, num_attention_heads: nh, hidden_size: C } = config;
  return { kv: new KVCache(layers, batch, nh, C / nh, capacity), imageTokens: 0, textTokens: 0 };
}

/** The decoder over [visual (B, N, C) ; embedded ids (B, T)] → hidden states (B, N + T, C) (see GitModel.decode). */
export function gitDecode(parts: GitDecoderParts, visual: Tensor | null, ids: Tensor, { cache = null, attentionMask = null, positionIds = null }: DecodeOptions = {}): Tensor {
  const past = cache?.kv.length ?? 0;
  if (past > 0 && visual !== null) throw new ConfigError('decode: the image tokens are already in the cache; pass visual = null with a filled cache');
  const B = ids.shape[0]!;
  const textStart = cache?.textTokens ?? 0;
  const words = parts.embeddings.forward(ids, positionIds ?? textStart); // (B, T, C)
  let x = words;
  if (visual !== null) {
    // as HF, an image batch that divides the text batch is tiled (torch .repeat) to match it
    const Bv = visual.shape[0]!;
    checkConfig(visual.ndim === 3 && visual.shape[2] === parts.config.hidden_size && B % Bv === 0,
      () => `visual tokens ${JSON.stringify(visual.shape)} do not fit text batch ${B} at width ${parts.config.hidden_size}`);
    const tiled = Bv === B ? visual : concat(Array.from({ length: B / Bv }, () => visual), 0);
    x = concat([tiled, words], 1); // (B, N + T, C)
  }
  const N = visual?.shape[1] ?? 0;
  const imageTokens = past > 0 ? cache!.imageTokens : N;
  const mask = gitAttentionMask(N, ids.shape[1]!, past, imageTokens, attentionMask);
  const hidden = parts.encoder.forward(x, mask, cache?.kv ?? null);
  if (cache !== null) Object.assign(cache, { imageTokens, textTokens: textStart + ids.shape[1]! });
  return hidden;
}

/** What a decode session needs of a GIT-style decoder with its vocabulary head. */
export interface GitDecoderWithHead extends GitDecoderParts {
  output: Linear;
}

export interface DecodeOptions {
  /** What earlier calls left (their tokens are attended to, not recomputed); this call's tokens are appended to it. */
  cache?: GitCache | null;
  /** (B, cached + new text tokens): 1 for a real token, 0 for padding. */
  attentionMask?: Tensor | null;
  /** Position ids (B or 1, T) of the new text tokens, as HF's position_ids; by default they follow the cached text. */
  positionIds?: Tensor | null;
}

export class GitModel extends Module {
  embeddings: GitEmbeddings;
  image_encoder: CLIPVisionModel;
  encoder: GitEncoder;
  visual_projection: GitProjection;

  /** rng draws the dropout masks in training. */
  constructor(readonly config: GitConfig, rng = new Generator(0)) {
    super();
    checkGitConfig(config);
    this.embeddings = new GitEmbeddings(config, rng);
    this.image_encoder = new CLIPVisionModel(config.vision_config);
    this.encoder = new GitEncoder(config, rng);
    this.visual_projection = new GitProjection(config);
  }

  /** pixels (B, 3, H, W) → image tokens at the decoder width (B, N, C), N = 1 + grid cells. */
  encodeImage(pixels: Tensor, opts: { interpolatePosEncoding?: boolean } = {}): Tensor {
    return this.visual_projection.forward(this.image_encoder.forward(pixels, opts));
  }

  /** An empty cache for `batch` rows, with room for `capacity` tokens (image tokens included) before it grows. */
  newCache(batch: number, capacity: number): GitCache {
    return newGitCache(this.config, batch, capacity);
  }

  /**
   * The decoder over [visual (B, N, C) ; embedded ids (B, T)] → hidden states (B, N + T, C). With a cache, these
   * tokens' keys and values are appended to it; once it holds the image tokens, visual is null.
   * visual may also be any prefix of tokens at the decoder width (PixelLLM's prompt-adapter output).
   */
  decode(visual: Tensor | null, ids: Tensor, opts: DecodeOptions = {}): Tensor {
    return gitDecode(this, visual, ids, opts);
  }

  /** HF's GitModel forward: last hidden state over [image tokens ; text tokens] (B, N + T, C). */
  forward(pixels: Tensor | null, ids: Tensor, opts: { interpolatePosEncoding?: boolean; attentionMask?: Tensor | null } = {}): Tensor {
    const visual = pixels === null ? null : this.encodeImage(pixels, opts);
    return this.decode(visual, ids, { attentionMask: opts.attentionMask });
  }
}

export class GitForCausalLM extends Module {
  git: GitModel;
  output: Linear;

  constructor(readonly config: GitConfig, rng = new Generator(0)) {
    super();
    this.git = new GitModel(config, rng);
    this.output = new Linear(config.hidden_size, config.vocab_size);
  }

  /** Logits (B, N + T, V) and the last hidden state (B, N + T, C), image positions included, as HF returns them. */
  forward(pixels: Tensor | null, ids: Tensor, opts: { interpolatePosEncoding?: boolean; attentionMask?: Tensor | null } = {}): { logits: Tensor; hidden: Tensor } {
    const hidden = this.git.forward(pixels, ids, opts);
    return { logits: this.output.forward(hidden), hidden };
  }

  /**
   * A batch to decode from images (B, 3, H, W) or from image tokens already at the decoder width (B, N, C);
   * maxLength: the text tokens a generation will need (the cache grows past it if need be).
   */
  startDecoding(inputs: { pixelValues: Tensor; interpolatePosEncoding?: boolean } | { visual: Tensor },
    opts: { hfPositions?: boolean; maxLength?: number } = {}): GitDecodeSession {
    const visual = 'visual' in inputs ? inputs.visual : noGrad(() => this.git.encodeImage(inputs.pixelValues, inputs));
    const { config, embeddings, encoder } = this.git;
    return new GitDecodeSession({ config, embeddings, encoder, output: this.output }, visual, opts.hfPositions ?? false, opts.maxLength ?? 64);
  }
}

/**
 * Rows being decoded by generate.ts (greedy, beam search): the first step runs the image tokens with the prompt, later steps
 * only the new text against the cache. hfPositions reproduces transformers 5's GitModel under generate(): a one-token
 * step gets position i (from the text attention mask) plus the cache length (N image + i text tokens), N + 2i,
 * where the full forward puts text token i at i; only for matching HF's generated ids.
 */
export class GitDecodeSession implements DecodeSession {
  #visual: Tensor | null; // the image tokens until the first step writes them into the cache
  readonly #cache: GitCache;

  constructor(readonly model: GitDecoderWithHead, visual: Tensor, readonly hfPositions: boolean, maxLength = 64) {
    this.#visual = visual;
    this.#cache = newGitCache(model.config, visual.shape[0]!, visual.shape[1]! + maxLength);
  }

  get batch(): number {
    return this.#cache.kv.batch;
  }

  /** ids (B, t) after the tokens already fed → logits after the last of them (B, V). */
  step(ids: Tensor): Tensor {
    return noGrad(() => {
      const cache = this.#cache;
      const i = cache.textTokens;
      const positionIds = this.hfPositions && this.#visual === null && ids.shape[1] === 1 ? tensor([[cache.imageTokens + 2 * i]], { dtype: 'int32' }) : null;
      const hidden = gitDecode(this.model, this.#visual, ids, { cache, positionIds });
      this.#visual = null;
      const B = hidden.shape[0]!;
      return this.model.output.forward(hidden.slice(1, -1)).reshape(B, this.model.config.vocab_size); // (B, V)
    });
  }

  /** Row r continues as old row rows[r] (beam search expands and reorders rows this way). */
  select(rows: ArrayLike<number>): void {
    if (this.#visual !== null) this.#visual = indexSelect(this.#visual, 0, tensor(Array.from(rows), { dtype: 'int32' }));
    this.#cache.kv.select(rows);
  }
}
