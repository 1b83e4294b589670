// CLIP's vision transformer as GIT uses it (HF transformers' GitVisionModel, a copy of CLIPVisionModel):
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/git/modeling_git.py
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/clip/modeling_clip.py
// Keys are HF's: `vision_model.embeddings.patch_embedding.weight`, `vision_model.encoder.layers.{i}.self_attn.q_proj.weight`, …
import { Tensor, concat, resize, type LinearActivation } from '../tensor/index.ts';
import { Conv2d, Embedding, LayerNorm, Linear, Module, normalInit } from '../nn/index.ts';
import { ConfigError, checkConfig } from './config.ts';
import { fusableAct, hiddenAct, type HiddenAct } from './hidden_act.ts';
import { multiHeadAttention } from './heads.ts';

/** The keys of HF's CLIPVisionConfig / GitVisionConfig that shape the model. */
export interface CLIPVisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_channels: number;
  image_size: number;
  patch_size: number;
  hidden_act: HiddenAct;
  layer_norm_eps: number;
}

/** ViT-B/16 at 224 with quick-GELU: the image encoder of microsoft/git-base (and CLIP ViT-B/16). */
export const CLIP_VIT_B16: CLIPVisionConfig = {
  hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, num_channels: 3,
  image_size: 224, patch_size: 16, hidden_act: 'quick_gelu', layer_norm_eps: 1e-5,
};

/** ViT-L/14 at 224: the image encoder of microsoft/git-large (and CLIP ViT-L/14). */
export const CLIP_VIT_L14: CLIPVisionConfig = {
  ...CLIP_VIT_B16, hidden_size: 1024, intermediate_size: 4096, num_hidden_layers: 24, num_attention_heads: 16, patch_size: 14,
};

export function checkCLIPVisionConfig(c: CLIPVisionConfig): void {
  checkConfig(c.hidden_size % c.num_attention_heads === 0,
    () => `vision hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  checkConfig(c.image_size >= c.patch_size && c.patch_size > 0,
    () => `vision image_size ${c.image_size} is smaller than patch_size ${c.patch_size}`);
  hiddenAct(c.hidden_act);
}

export class CLIPVisionEmbeddings extends Module {
  class_embedding: Tensor;
  patch_embedding: Conv2d;
  position_embedding: Embedding;

  constructor(readonly config: CLIPVisionConfig) {
    super();
    const { hidden_size: D, patch_size: p, image_size: S } = config;
    this.class_embedding = normalInit([D], 0.02);
    this.patch_embedding = new Conv2d(config.num_channels, D, p, { stride: p, bias: false });
    this.position_embedding = new Embedding((Math.floor(S / p)) ** 2 + 1, D);
  }

  /** pixels (B, C, H, W) → (B, 1 + gh·gw, D): class token first, then the patches row by row. */
  forward(pixels: Tensor, interpolatePosEncoding = false): Tensor {
    const [B, C, H, W] = pixels.shape as [number, number, number, number];
    const { image_size: S, patch_size: p, num_channels, hidden_size: D } = this.config;
    if (C !== num_channels || H < p || W < p) {
      throw new ConfigError(`pixel values ${JSON.stringify(pixels.shape)} do not fit the vision config: need (B, ${num_channels}, H ≥ ${p}, W ≥ ${p})`);
    }
    if (!interpolatePosEncoding && (H !== S || W !== S)) {
      throw new ConfigError(`input image size ${H}×${W} does not match the model's ${S}×${S}; pass interpolatePosEncoding to resize the position embeddings`);
    }
    const patches = this.patch_embedding.forward(pixels).flatten(2).transpose(1, 2); // (B, gh·gw, D)
    const cls = this.class_embedding.reshape(1, 1, D).expand(B, 1, D); // (B, 1, D)
    const tokens = concat([cls, patches], 1); // (B, 1 + gh·gw, D)
    const pos = interpolatePosEncoding ? this.interpolatePosEncoding(tokens.shape[1]! - 1, H, W) : this.position_embedding.weight;
    return tokens.add(pos);
  }

  /**
   * The position table for an H×W input: the patch part resized bicubically (torch interpolate, align_corners=False)
   * to the new grid. As HF, a square input with as many patches as the table keeps the table as it is.
   */
  interpolatePosEncoding(numPatches: number, H: number, W: number): Tensor {
    const table = this.position_embedding.weight; // (1 + s², D)
    const [P, D] = table.shape as [number, number];
    if (numPatches === P - 1 && H === W) return table;
    const s = Math.round(Math.sqrt(P - 1));
    const patchPos = table.slice(0, 1, P).reshape(1, s, s, D).permute(0, 3, 1, 2); // (1, D, s, s)
    const p = this.config.patch_size;
    const resized = resize(patchPos, [Math.floor(H / p), Math.floor(W / p)], { method: 'bicubic', convention: 'torch' }); // (1, D, gh, gw)
    return concat([table.slice(0, 0, 1), resized.permute(0, 2, 3, 1).reshape(-1, D)], 0); // (1 + gh·gw, D)
  }
}

export class CLIPAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  out_proj: Linear;

  constructor(readonly config: CLIPVisionConfig) {
    super();
    const D = config.hidden_size;
    this.q_proj = new Linear(D, D);
    this.k_proj = new Linear(D, D);
    this.v_proj = new Linear(D, D);
    this.out_proj = new Linear(D, D);
  }

  /** (B, T, D) → (B, T, D); every token sees every token. */
  forward(x: Tensor): Tensor {
    const nh = this.config.num_attention_heads;
    const y = multiHeadAttention(this.q_proj.forward(x), this.k_proj.forward(x), this.v_proj.forward(x), nh);
    return this.out_proj.forward(y);
  }
}

export class CLIPMLP extends Module {
  fc1: Linear;
  fc2: Linear;
  readonly #act: (x: Tensor) => Tensor;
  readonly #fused: LinearActivation | null;

  constructor(config: CLIPVisionConfig) {
    super();
    this.fc1 = new Linear(config.hidden_size, config.intermediate_size);
    this.fc2 = new Linear(config.intermediate_size, config.hidden_size);
    this.#act = hiddenAct(config.hidden_act);
    this.#fused = fusableAct(config.hidden_act);
  }

  forward(x: Tensor): Tensor {
    const h = this.#fused ? this.fc1.forward(x, this.#fused) : this.#act(this.fc1.forward(x)); // (B, T, intermediate)
    return this.fc2.forward(h);
  }
}

/** Pre-norm block: x + attn(ln1(x)), then x + mlp(ln2(x)). */
export class CLIPEncoderLayer extends Module {
  self_attn: CLIPAttention;
  layer_norm1: LayerNorm;
  mlp: CLIPMLP;
  layer_norm2: LayerNorm;

  constructor(config: CLIPVisionConfig) {
    super();
    this.self_attn = new CLIPAttention(config);
    this.layer_norm1 = new LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.mlp = new CLIPMLP(config);
    this.layer_norm2 = new LayerNorm(config.hidden_size, config.layer_norm_eps);
  }

  forward(x: Tensor): Tensor {
    x = x.add(this.self_attn.forward(this.layer_norm1.forward(x)));
    return x.add(this.mlp.forward(this.layer_norm2.forward(x)));
  }
}

export class CLIPEncoder extends Module {
  layers: CLIPEncoderLayer[];

  constructor(config: CLIPVisionConfig) {
    super();
    this.layers = Array.from({ length: config.num_hidden_layers }, () => new CLIPEncoderLayer(config));
  }

  forward(x: Tensor): Tensor {
    for (const layer of this.layers) x = layer.forward(x);
    return x;
  }
}

export class CLIPVisionTransformer extends Module {
  embeddings: CLIPVisionEmbeddings;
  pre_layrnorm: LayerNorm; // sic: HF's key
  encoder: CLIPEncoder;
  post_layernorm: LayerNorm;

  constructor(readonly config: CLIPVisionConfig) {
    super();
    checkCLIPVisionConfig(config);
    this.embeddings = new CLIPVisionEmbeddings(config);
    this.pre_layrnorm = new LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.encoder = new CLIPEncoder(config);
    this.post_layernorm = new LayerNorm(config.hidden_size, config.layer_norm_eps);
  }

  /**
   * pixels (B, C, H, W) → last hidden state (B, 1 + gh·gw, D). As GIT's copy does, post_layernorm normalises every
   * token (CLIP's own model applies it to the class token only, for the pooled output).
   */
  forward(pixels: Tensor, { interpolatePosEncoding = false } = {}): Tensor {
    const x = this.pre_layrnorm.forward(this.embeddings.forward(pixels, interpolatePosEncoding));
    return this.post_layernorm.forward(this.encoder.forward(x));
  }
}

/** The vision tower under HF's wrapper key `vision_model.` (GIT loads it as `git.image_encoder.`). */
export class CLIPVisionModel extends Module {
  vision_model: CLIPVisionTransformer;

  constructor(readonly config: CLIPVisionConfig) {
    super();
    this.vision_model = new CLIPVisionTransformer(config);
  }

  forward(pixels: Tensor, opts: { interpolatePosEncoding?: boolean } = {}): Tensor {
    return this.vision_model.forward(pixels, opts);
  }
}
