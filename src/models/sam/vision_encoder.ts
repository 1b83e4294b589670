// SamVisionEncoder: SAM's image encoder, a ViT with windowed attention in most blocks, global attention at
// global_attn_indexes, decomposed relative positions, and a convolutional neck to output_channels.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/modeling_sam.py
// Inputs of another size than config.image_size run as the PixelLLM reference runs SAM at 384 with a 1024
// checkpoint (scenic segment_anything image_encoder.py): pos_embed is resized with jax.image.resize 'bicubic'
// and the global blocks' relative-position tables with 'linear' (vision_attention.ts).
import { Tensor, layerNorm, pad, resize } from '../../tensor/index.ts';
import { Conv2d, LayerNorm, Module } from '../../nn/index.ts';
import { constantInit } from '../../nn/init.ts';
import { UserError } from '../../errors.ts';
import type { SamVisionConfig } from './config.ts';
import { SamLayerNorm2d, SamMLPBlock, activation } from './layers.ts';
import { SamVisionAttention } from './vision_attention.ts';

/** Pixel values that the encoder cannot take (wrong rank, channel count or smaller than one patch). */
export class SamInputError extends UserError {
  override name = 'SamInputError';
}

/** Non-overlapping patch × patch squares → hidden_size channels. */
export class SamPatchEmbeddings extends Module {
  projection: Conv2d;
  constructor(readonly config: SamVisionConfig) {
    super();
    const p = config.patch_size;
    this.projection = new Conv2d(config.num_channels, config.hidden_size, p, { stride: p });
  }
  /** pixels (B, 3, H, W) → (B, H/p, W/p, C), channels last; pixels past the last whole patch are dropped, as the convolution does. */
  forward(pixels: Tensor): Tensor {
    const { num_channels: channels, patch_size: p } = this.config;
    if (pixels.ndim !== 4 || pixels.shape[1] !== channels || pixels.shape[2]! < p || pixels.shape[3]! < p) {
      throw new SamInputError(`SAM pixel_values must be (batch, ${channels}, height, width) with height and width at least the patch size ${p}; got [${pixels.shape.join(', ')}]`);
    }
    // a stride-p p×p convolution is one product of each patch's pixels, in the weight's (channel, row, column) order
    const [B, , H, W] = pixels.shape as [number, number, number, number];
    const [h, w] = [Math.floor(H / p), Math.floor(W / p)];
    const whole = H === h * p && W === w * p ? pixels : pixels.slice(2, 0, h * p).slice(3, 0, w * p);
    const patches = whole.reshape(B, channels, h, p, w, p).permute(0, 2, 4, 1, 3, 5).reshape(B, h, w, channels * p * p); // (B, h, w, 3·p·p)
    const { weight, bias } = this.projection;
    const y = patches.matmul(weight.reshape(weight.shape[0]!, -1).transpose()); // (B, h, w, C)
    return bias ? y.add(bias) : y;
  }
}

/** Splits (B, H, W, C) into (B·nH·nW, ws, ws, C) windows, zero-padding the bottom and right to a multiple of ws. */
export function windowPartition(x: Tensor, ws: number): Tensor {
  const [B, H, W, C] = x.shape as [number, number, number, number];
  const Hp = Math.ceil(H / ws) * ws;
  const Wp = Math.ceil(W / ws) * ws;
  const padded = Hp === H && Wp === W ? x : pad(x, [0, 0, 0, Wp - W, 0, Hp - H]); // (B, Hp, Wp, C)
  return padded.reshape(B, Hp / ws, ws, Wp / ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, C); // (B·nH·nW, ws, ws, C)
}

/** The inverse of windowPartition: windows (B·nH·nW, ws, ws, C) → (B, H, W, C), padding dropped. */
export function windowUnpartition(windows: Tensor, ws: number, H: number, W: number): Tensor {
  const C = windows.shape[3]!;
  const [nH, nW] = [Math.ceil(H / ws), Math.ceil(W / ws)];
  const B = windows.shape[0]! / (nH * nW);
  const x = windows.reshape(B, nH, nW, ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B, nH * ws, nW * ws, C); // (B, Hp, Wp, C)
  return nH * ws === H && nW * ws === W ? x : x.slice(1, 0, H).slice(2, 0, W).contiguous(); // (B, H, W, C)
}

/** Pre-norm block: x + attn(norm1(x)) (in windows unless global), then + mlp(norm2(x)). */
export class SamVisionLayer extends Module {
  layer_norm1: LayerNorm;
  attn: SamVisionAttention;
  layer_norm2: LayerNorm;
  mlp: SamMLPBlock;
  constructor(config: SamVisionConfig, readonly windowSize: number) {
    super();
    this.layer_norm1 = new LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.attn = new SamVisionAttention(config, windowSize);
    this.layer_norm2 = new LayerNorm(config.hidden_size, config.layer_norm_eps);
    this.mlp = new SamMLPBlock(config.hidden_size, config.mlp_dim, activation(config.hidden_act));
  }
  /** (B, H, W, C) → (B, H, W, C) */
  forward(x: Tensor): Tensor {
    const [, H, W] = x.shape as [number, number, number];
    const h = this.layer_norm1.forward(x);
    const ws = this.windowSize;
    const attended = ws > 0 ? windowUnpartition(this.attn.forward(windowPartition(h, ws)), ws, H, W) : this.attn.forward(h);
    const y = x.add(attended);
    return y.add(this.mlp.forward(this.layer_norm2.forward(y)));
  }
}

/** conv 1×1 → LayerNorm2d → conv 3×3 → LayerNorm2d, both convolutions without bias. */
export class SamVisionNeck extends Module {
  conv1: Conv2d;
  layer_norm1: SamLayerNorm2d;
  conv2: Conv2d;
  layer_norm2: SamLayerNorm2d;
  constructor(config: SamVisionConfig) {
    super();
    const out = config.output_channels;
    this.conv1 = new Conv2d(config.hidden_size, out, 1, { bias: false });
    this.layer_norm1 = new SamLayerNorm2d(out, 1e-6);
    this.conv2 = new Conv2d(out, out, 3, { padding: 1, bias: false });
    this.layer_norm2 = new SamLayerNorm2d(out, 1e-6);
  }
  /** (B, H, W, C) → (B, output_channels, H, W) */
  forward(x: Tensor): Tensor {
    // on channels-last features the 1×1 convolution is a product over channels and LayerNorm2d a plain layer norm
    const { weight } = this.conv1;
    const ln = this.layer_norm1;
    const h = layerNorm(x.matmul(weight.reshape(weight.shape[0]!, -1).transpose()), ln.weight, ln.bias, ln.eps); // (B, H, W, out)
    return this.layer_norm2.forward(this.conv2.forward(h.permute(0, 3, 1, 2))); // (B, out, H, W)
  }
}

export class SamVisionEncoder extends Module {
  patch_embed: SamPatchEmbeddings;
  pos_embed: Tensor | null;
  layers: SamVisionLayer[];
  neck: SamVisionNeck;
  constructor(readonly config: SamVisionConfig) {
    super();
    this.patch_embed = new SamPatchEmbeddings(config);
    const grid = Math.trunc(config.image_size / config.patch_size);
    this.pos_embed = config.use_abs_pos ? constantInit([1, grid, grid, config.hidden_size], 0) : null;
    const global = new Set(config.global_attn_indexes);
    this.layers = Array.from({ length: config.num_hidden_layers }, (_, i) => new SamVisionLayer(config, global.has(i) ? 0 : config.window_size));
    this.neck = new SamVisionNeck(config);
  }

  /** pixels (B, 3, H, W) → image embeddings (B, output_channels, H/p, W/p) */
  forward(pixels: Tensor): Tensor {
    let x = this.patch_embed.forward(pixels); // (B, h, w, C)
    if (this.pos_embed !== null) x = x.add(this.absolutePositions(x.shape[1]!, x.shape[2]!));
    for (const layer of this.layers) x = layer.forward(x);
    return this.neck.forward(x);
  }

  /** pos_embed (1, g, g, C) at an h × w grid: itself at the checkpoint's grid, else resized as jax.image.resize does. */
  absolutePositions(h: number, w: number): Tensor {
    const pos = this.pos_embed!;
    if (pos.shape[1] === h && pos.shape[2] === w) return pos;
    return resize(pos, [h, w], { method: 'bicubic', convention: 'jax', antialias: true, channelsLast: true }); // (1, h, w, C)
  }
}
