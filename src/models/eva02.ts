// EVA02 as timm's `Eva` builds it with the EVA02 settings: rotary position embedding on the patch tokens, SwiGLU MLP
// with a LayerNorm before its output projection ("scale MLP"), separate q/k/v projections (k without bias), a class
// token, absolute position embeddings, and a final norm:
// https://github.com/huggingface/pytorch-image-models/blob/main/timm/models/eva.py
// Keys are timm's: `patch_embed.proj.weight`, `blocks.{i}.attn.q_proj.weight`, `blocks.{i}.mlp.fc1_g.weight`, `norm.weight`, …
import { Tensor, concat, resize, untracked } from '../tensor/index.ts';
import { Conv2d, LayerNorm, Linear, Module, normalInit } from '../nn/index.ts';
import { ConfigError, checkConfig } from './config.ts';
import { attend } from './attention.ts';
import { mergeHeads, splitHeads } from './heads.ts';
import { applyRotary, rotaryTables, type RotaryTables } from './rotary_embedding.ts';

/** timm's Eva keyword arguments (the ones EVA02 sets; timm's defaults for the rest). */
export interface EvaConfig {
  img_size: number;
  patch_size: number;
  in_chans: number;
  embed_dim: number;
  depth: number;
  num_heads: number;
  mlp_ratio: number;
  qkv_bias: boolean;
  qkv_fused: boolean;
  swiglu_mlp: boolean;
  scale_mlp: boolean;
  /** EVA02-CLIP's LayerNorm on the attention output before its projection (`attn.norm`). */
  scale_attn_inner: boolean;
  use_rot_pos_emb: boolean;
  /** The grid the rotary coordinates are scaled to (pretraining's); null: plain grid indices. */
  ref_feat_shape: [number, number] | number | null;
  rope_temperature: number;
  /** 'avg' pools the patch tokens and norms them with `fc_norm` (then no final `norm`); '' and 'token' keep `norm`. */
  global_pool: '' | 'avg' | 'token';
  num_classes: number;
}

/** timm's defaults for what a kwargs object leaves out. */
export const EVA_DEFAULTS: EvaConfig = {
  img_size: 224, patch_size: 16, in_chans: 3, embed_dim: 768, depth: 12, num_heads: 12, mlp_ratio: 4, qkv_bias: true,
  qkv_fused: true, swiglu_mlp: false, scale_mlp: false, scale_attn_inner: false, use_rot_pos_emb: false,
  ref_feat_shape: null, rope_temperature: 10000, global_pool: 'avg', num_classes: 1000,
};

/** timm's eva02_large_patch14_224 (the MIM-pretrained EVA02-L/14 trunk, no classifier). */
export const EVA02_LARGE_PATCH14_224: EvaConfig = {
  ...EVA_DEFAULTS, img_size: 224, patch_size: 14, embed_dim: 1024, depth: 24, num_heads: 16, mlp_ratio: (4 * 2) / 3,
  qkv_fused: false, swiglu_mlp: true, scale_mlp: true, use_rot_pos_emb: true, ref_feat_shape: [16, 16], num_classes: 0,
};

/** timm's eva02_large_patch14_448 (ImageNet fine-tuned at 448: a 32×32 grid whose rotary coordinates keep the 16×16 scale). */
export const EVA02_LARGE_PATCH14_448: EvaConfig = { ...EVA02_LARGE_PATCH14_224, img_size: 448, num_classes: 1000 };

/** A kwargs object (timm's names, e.g. from a fixture's meta.json) completed with timm's defaults and checked. */
export function evaConfig(kwargs: Partial<EvaConfig>): EvaConfig {
  const c = { ...EVA_DEFAULTS, ...kwargs };
  checkConfig(c.embed_dim % c.num_heads === 0, () => `embed_dim ${c.embed_dim} is not divisible by num_heads ${c.num_heads}`);
  checkConfig(c.swiglu_mlp && c.scale_mlp && !c.qkv_fused,
    () => `swiglu_mlp ${c.swiglu_mlp}, scale_mlp ${c.scale_mlp}, qkv_fused ${c.qkv_fused}: only EVA02's SwiGLU with scale norm and separate q/k/v projections are built`);
  checkConfig(['', 'avg', 'token'].includes(c.global_pool), () => `global_pool '${c.global_pool}' is not one of '', 'avg', 'token'`);
  checkConfig(c.img_size >= c.patch_size, () => `img_size ${c.img_size} is smaller than patch_size ${c.patch_size}`);
  return c;
}

const LN_EPS = 1e-6; // timm's LayerNorm default, which Eva uses everywhere

const grid = (c: EvaConfig): number => Math.floor(c.img_size / c.patch_size);

export class PatchEmbed extends Module {
  proj: Conv2d;

  constructor(c: EvaConfig) {
    super();
    this.proj = new Conv2d(c.in_chans, c.embed_dim, c.patch_size, { stride: c.patch_size });
  }

  /** (B, C, H, W) → tokens (B, gh·gw, D), row-major, and the grid. */
  forward(x: Tensor): { tokens: Tensor; grid: [number, number] } {
    const y = this.proj.forward(x); // (B, D, gh, gw)
    return { tokens: y.flatten(2).transpose(1, 2), grid: [y.shape[2]!, y.shape[3]!] };
  }
}

export class EvaAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  norm: LayerNorm | null;
  proj: Linear;

  constructor(readonly c: EvaConfig) {
    super();
    const D = c.embed_dim;
    this.q_proj = new Linear(D, D, { bias: c.qkv_bias });
    this.k_proj = new Linear(D, D, { bias: false });
    this.v_proj = new Linear(D, D, { bias: c.qkv_bias });
    this.norm = c.scale_attn_inner ? new LayerNorm(D, LN_EPS) : null;
    this.proj = new Linear(D, D);
  }

  /** x (B, 1 + N, D) → (B, 1 + N, D); the rotary embedding turns the N patch queries and keys, not the class token. */
  forward(x: Tensor, rope: RotaryTables | null): Tensor {
    const nh = this.c.num_heads;
    let q = splitHeads(this.q_proj.forward(x), nh); // (B, nh, 1 + N, hs)
    let k = splitHeads(this.k_proj.forward(x), nh);
    const v = splitHeads(this.v_proj.forward(x), nh);
    if (rope !== null) {
      q = concat([q.slice(2, 0, 1), applyRotary(q.slice(2, 1), rope)], 2);
      k = concat([k.slice(2, 0, 1), applyRotary(k.slice(2, 1), rope)], 2);
    }
    let y = mergeHeads(attend(q, k, v)); // (B, 1 + N, D)
    if (this.norm !== null) y = this.norm.forward(y);
    return this.proj.forward(y);
  }
}

/** SiLU(x·W_g) ⊙ (x·W_x), LayerNorm, then the output projection. */
export class SwiGLU extends Module {
  fc1_g: Linear;
  fc1_x: Linear;
  norm: LayerNorm;
  fc2: Linear;

  constructor(dim: number, hidden: number) {
    super();
    this.fc1_g = new Linear(dim, hidden);
    this.fc1_x = new Linear(dim, hidden);
    this.norm = new LayerNorm(hidden, LN_EPS);
    this.fc2 = new Linear(hidden, dim);
  }

  forward(x: Tensor): Tensor {
    const g = this.fc1_g.forward(x);
    const h = g.mul(g.sigmoid()).mul(this.fc1_x.forward(x)); // (B, T, hidden)
    return this.fc2.forward(this.norm.forward(h));
  }
}

/** Pre-norm block: x + attn(norm1(x)), then x + mlp(norm2(x)). */
export class EvaBlock extends Module {
  norm1: LayerNorm;
  attn: EvaAttention;
  norm2: LayerNorm;
  mlp: SwiGLU;

  constructor(c: EvaConfig) {
    super();
    this.norm1 = new LayerNorm(c.embed_dim, LN_EPS);
    this.attn = new EvaAttention(c);
    this.norm2 = new LayerNorm(c.embed_dim, LN_EPS);
    this.mlp = new SwiGLU(c.embed_dim, Math.floor(c.embed_dim * c.mlp_ratio));
  }

  forward(x: Tensor, rope: RotaryTables | null): Tensor {
    x = x.add(this.attn.forward(this.norm1.forward(x), rope));
    return x.add(this.mlp.forward(this.norm2.forward(x)));
  }
}

export class Eva extends Module {
  patch_embed: PatchEmbed;
  cls_token: Tensor;
  pos_embed: Tensor;
  blocks: EvaBlock[];
  norm: LayerNorm | null;
  fc_norm: LayerNorm | null;
  head: Linear | null;
  readonly config: EvaConfig;
  readonly #rope = new Map<string, RotaryTables>();

  /** kwargs as timm's Eva takes them; what they leave out takes timm's default. */
  constructor(kwargs: Partial<EvaConfig>) {
    super();
    const c = (this.config = evaConfig(kwargs));
    const D = c.embed_dim;
    this.patch_embed = new PatchEmbed(c);
    this.cls_token = normalInit([1, 1, D], 0.02);
    this.pos_embed = normalInit([1, grid(c) ** 2 + 1, D], 0.02);
    this.blocks = Array.from({ length: c.depth }, () => new EvaBlock(c));
    const avg = c.global_pool === 'avg';
    this.norm = avg ? null : new LayerNorm(D, LN_EPS);
    this.fc_norm = avg ? new LayerNorm(D, LN_EPS) : null;
    this.head = c.num_classes > 0 ? new Linear(D, c.num_classes) : null;
  }

  /**
   * timm's forward_features: pixels (B, C, H, W) → tokens (B, 1 + gh·gw, D), class token first, after the final norm
   * (none with global_pool 'avg'). Another input size works as timm's dynamic_img_size does it: the position table is
   * resampled (bicubic, antialiased) and the rotary grid rebuilt for the new grid, keeping ref_feat_shape's scale.
   */
  forwardFeatures(pixels: Tensor): Tensor {
    const c = this.config;
    if (pixels.ndim !== 4 || pixels.shape[1] !== c.in_chans || pixels.shape[2]! < c.patch_size || pixels.shape[3]! < c.patch_size) {
      throw new ConfigError(`pixel values ${JSON.stringify(pixels.shape)} do not fit: need (B, ${c.in_chans}, H ≥ ${c.patch_size}, W ≥ ${c.patch_size})`);
    }
    const { tokens, grid: g } = this.patch_embed.forward(pixels);
    const [B, , D] = tokens.shape as [number, number, number];
    let x = concat([this.cls_token.expand(B, 1, D), tokens], 1); // (B, 1 + N, D)
    x = x.add(this.posEmbed(g));
    const rope = c.use_rot_pos_emb ? this.rope(g) : null;
    for (const block of this.blocks) x = block.forward(x, rope);
    return this.norm === null ? x : this.norm.forward(x);
  }

  /** timm's forward_head: pool ('avg' over the patch tokens, 'token' the class token), fc_norm, classifier. */
  forwardHead(x: Tensor): Tensor {
    const pool = this.config.global_pool;
    if (pool === 'avg') x = x.slice(1, 1).mean(1); // (B, D)
    else if (pool === 'token') x = x.slice(1, 0, 1).squeeze(1);
    if (this.fc_norm !== null) x = this.fc_norm.forward(x);
    return this.head === null ? x : this.head.forward(x);
  }

  forward(pixels: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(pixels));
  }

  /** The absolute position table for a gh×gw grid (1, 1 + gh·gw, D): timm's resample_abs_pos_embed when it differs. */
  posEmbed([gh, gw]: [number, number]): Tensor {
    const s = grid(this.config);
    if (gh === s && gw === s) return this.pos_embed;
    const D = this.config.embed_dim;
    const patches = this.pos_embed.slice(1, 1).reshape(1, s, s, D).permute(0, 3, 1, 2); // (1, D, s, s)
    const resized = resize(patches, [gh, gw], { method: 'bicubic', convention: 'torch', antialias: true }); // (1, D, gh, gw)
    return concat([this.pos_embed.slice(1, 0, 1), resized.permute(0, 2, 3, 1).reshape(1, gh * gw, D)], 1);
  }

  /** The rotary tables for a grid, built once per grid size. */
  rope([gh, gw]: [number, number]): RotaryTables {
    const key = `${gh}x${gw}`;
    let t = this.#rope.get(key);
    if (t === undefined) {
      const ref = this.config.ref_feat_shape;
      const refPair: [number, number] | null = ref === null ? null : typeof ref === 'number' ? [ref, ref] : ref;
      // kept across training steps: allocated outside the step's recycling scope
      t = untracked(() => rotaryTables([gh, gw], this.config.embed_dim / this.config.num_heads, refPair, this.config.rope_temperature));
      this.#rope.set(key, t);
    }
    return t;
  }
}
