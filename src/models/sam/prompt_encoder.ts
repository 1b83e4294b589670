// SamPromptEncoder: points (label 1 foreground, 0 background, −1 "not a point", −10 padding), boxes (two corner
// tokens) and masks (downscaled by convolutions) to the sparse and dense prompt embeddings of the mask decoder.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/modeling_sam.py
import { Tensor, concat, full, where, zeros } from '../../tensor/index.ts';
import { Conv2d, Embedding, Module, activate, type Activation } from '../../nn/index.ts';
import { UserError } from '../../errors.ts';
import type { SamPromptEncoderConfig } from './config.ts';
import { SamLayerNorm2d, activation } from './layers.ts';
import type { SamPositionalEmbedding } from './positional_embedding.ts';

/** Prompts whose shapes do not fit together; the message names the shapes expected. */
export class SamPromptError extends UserError {
  override name = 'SamPromptError';
}

/** A mask prompt (B, 1, 4h, 4w) → (B, C, h, w): two stride-2 convolutions with LayerNorm2d and the activation, then 1×1. */
export class SamMaskEmbedding extends Module {
  conv1: Conv2d;
  layer_norm1: SamLayerNorm2d;
  conv2: Conv2d;
  layer_norm2: SamLayerNorm2d;
  conv3: Conv2d;
  readonly act: Activation;
  constructor(config: SamPromptEncoderConfig) {
    super();
    const quarter = config.mask_input_channels / 4;
    this.conv1 = new Conv2d(1, quarter, 2, { stride: 2 });
    this.layer_norm1 = new SamLayerNorm2d(quarter, config.layer_norm_eps);
    this.conv2 = new Conv2d(quarter, config.mask_input_channels, 2, { stride: 2 });
    this.layer_norm2 = new SamLayerNorm2d(config.mask_input_channels, config.layer_norm_eps);
    this.conv3 = new Conv2d(config.mask_input_channels, config.hidden_size, 1);
    this.act = activation(config.hidden_act);
  }
  forward(masks: Tensor): Tensor {
    const h = activate(this.layer_norm1.forward(this.conv1.forward(masks)), this.act); // (B, C/4·…, 2h, 2w)
    const g = activate(this.layer_norm2.forward(this.conv2.forward(h)), this.act); // (B, mask_input_channels, h, w)
    return this.conv3.forward(g); // (B, C, h, w)
  }
}

export interface SamPrompts {
  /** (B, N, P, 2) pixel coordinates (x, y) in the prompt encoder's image_size; N prompts per image, P points each. */
  points?: Tensor;
  /** (B, N, P) int32 labels: 1 foreground, 0 background, −1 not a point, −10 padding. */
  labels?: Tensor;
  /** (B, N, 4) boxes (x1, y1, x2, y2) in pixels. */
  boxes?: Tensor;
  /** (B, 1, 4h, 4w) mask logits. */
  masks?: Tensor;
}

export class SamPromptEncoder extends Module {
  mask_embed: SamMaskEmbedding;
  no_mask_embed: Embedding;
  point_embed: Embedding[];
  not_a_point_embed: Embedding;
  constructor(readonly config: SamPromptEncoderConfig, readonly shared_embedding: SamPositionalEmbedding) {
    super();
    const C = config.hidden_size;
    this.mask_embed = new SamMaskEmbedding(config);
    this.no_mask_embed = new Embedding(1, C);
    this.point_embed = Array.from({ length: config.num_point_embeddings }, () => new Embedding(1, C));
    this.not_a_point_embed = new Embedding(1, C);
  }

  /**
   * Sparse (B, N, tokens, C) or null when there is neither a point nor a box, and dense (B, C, h, w) embeddings
   * (without a mask, the no-mask embedding over an h × w grid: the config's image_embedding_size by default).
   * Points alone get a padding point (label −1) appended, as the reference does, since no box follows them.
   */
  forward(prompts: SamPrompts, grid: [number, number] = [this.config.image_embedding_size, this.config.image_embedding_size]): { sparse: Tensor | null; dense: Tensor } {
    const { points, labels, boxes, masks } = prompts;
    const parts: Tensor[] = [];
    if (points !== undefined) {
      if (labels === undefined) throw new SamPromptError('SAM prompts: points were given without labels; pass labels (B, N, P) with 1 foreground, 0 background');
      parts.push(this.embedPoints(points, labels, boxes === undefined));
    }
    if (boxes !== undefined) parts.push(this.embedBoxes(boxes));
    const batch = boxes?.shape[0] ?? points?.shape[0] ?? 1;
    const sparse = parts.length === 0 ? null : concat(parts, 2); // (B, N, tokens, C)
    const dense = masks !== undefined
      ? this.mask_embed.forward(masks)
      : this.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(batch, -1, grid[0], grid[1]); // (B, C, h, w)
    return { sparse, dense };
  }

  private inputSize(): [number, number] {
    return [this.config.image_size, this.config.image_size];
  }

  embedPoints(points: Tensor, labels: Tensor, pad: boolean): Tensor {
    if (points.ndim !== 4 || points.shape[3] !== 2 || labels.ndim !== 3 || labels.shape.some((d, i) => d !== points.shape[i])) {
      throw new SamPromptError(`SAM prompts: points must be (B, N, P, 2) and labels (B, N, P); got points [${points.shape.join(', ')}] and labels [${labels.shape.join(', ')}]`);
    }
    let coords = points.to('float64').add(0.5); // pixel centres (float64: see SamPositionalEmbedding)
    let lab = labels.to('int32');
    if (pad) {
      const [B, N] = points.shape as [number, number];
      coords = concat([coords, zeros([B, N, 1, 2], coords.dtype)], 2); // (B, N, P+1, 2)
      lab = concat([lab, full([B, N, 1], -1, 'int32')], 2); // (B, N, P+1)
    }
    let emb = this.shared_embedding.forward(coords, this.inputSize()); // (B, N, P, C)
    const is = (v: number): Tensor => lab.eq(v).unsqueeze(-1); // (B, N, P, 1)
    emb = where(is(-1), this.not_a_point_embed.weight, emb);
    emb = where(is(-10), 0, emb);
    emb = where(is(0), emb.add(this.point_embed[0]!.weight), emb);
    return where(is(1), emb.add(this.point_embed[1]!.weight), emb); // (B, N, P, C)
  }

  embedBoxes(boxes: Tensor): Tensor {
    if (boxes.ndim !== 3 || boxes.shape[2] !== 4) {
      throw new SamPromptError(`SAM prompts: boxes must be (B, N, 4) as (x1, y1, x2, y2); got [${boxes.shape.join(', ')}]`);
    }
    const [B, N] = boxes.shape as [number, number];
    const corners = boxes.to('float64').add(0.5).reshape(B, N, 2, 2); // (B, N, 2 corners, xy)
    const corner = concat([this.point_embed[2]!.weight, this.point_embed[3]!.weight], 0); // (2, C): top-left, bottom-right
    return this.shared_embedding.forward(corners, this.inputSize()).add(corner); // (B, N, 2, C)
  }
}
