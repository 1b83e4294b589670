// SamMaskDecoder: an IoU token and 1 + num_multimask_outputs mask tokens join the prompt tokens in the two-way
// transformer; the image cells are upscaled 4× by two transposed convolutions, each mask token's hypernetwork MLP
// gives the weights that turn upscaled cells into mask logits, and the IoU head scores every mask.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/modeling_sam.py
import { Tensor, concat, gelu, stack } from '../../tensor/index.ts';
import { ConvTranspose2d, Embedding, Module } from '../../nn/index.ts';
import type { SamMaskDecoderConfig } from './config.ts';
import { SamFeedForward, SamLayerNorm2d } from './layers.ts';
import { SamTwoWayTransformer } from './two_way_transformer.ts';

export interface SamMasks {
  /** (B, N, M, 4h, 4w) mask logits: M = num_multimask_outputs with multimask output, else 1. */
  masks: Tensor;
  /** (B, N, M) predicted IoU of each mask. */
  iouScores: Tensor;
}

export class SamMaskDecoder extends Module {
  iou_token: Embedding;
  mask_tokens: Embedding;
  transformer: SamTwoWayTransformer;
  upscale_conv1: ConvTranspose2d;
  upscale_conv2: ConvTranspose2d;
  upscale_layer_norm: SamLayerNorm2d;
  output_hypernetworks_mlps: SamFeedForward[];
  iou_prediction_head: SamFeedForward;
  readonly numMaskTokens: number;

  constructor(config: SamMaskDecoderConfig) {
    super();
    const C = config.hidden_size;
    this.numMaskTokens = config.num_multimask_outputs + 1;
    this.iou_token = new Embedding(1, C);
    this.mask_tokens = new Embedding(this.numMaskTokens, C);
    this.transformer = new SamTwoWayTransformer(config);
    this.upscale_conv1 = new ConvTranspose2d(C, C / 4, 2, { stride: 2 });
    this.upscale_conv2 = new ConvTranspose2d(C / 4, C / 8, 2, { stride: 2 });
    this.upscale_layer_norm = new SamLayerNorm2d(C / 4, 1e-6);
    this.output_hypernetworks_mlps = Array.from({ length: this.numMaskTokens }, () => new SamFeedForward(C, C, C / 8, 3));
    this.iou_prediction_head = new SamFeedForward(C, config.iou_head_hidden_dim, this.numMaskTokens, config.iou_head_depth);
  }

  /**
   * image and imagePe (B, C, h, w), sparse (B, N, tokens, C) or null, dense (B, C, h, w). With multimask output the
   * masks of tokens 1… are returned (the ambiguity-aware ones), else token 0's single mask, as the reference selects them.
   */
  forward(image: Tensor, imagePe: Tensor, sparse: Tensor | null, dense: Tensor, multimaskOutput: boolean): SamMasks {
    const [B, C, h, w] = image.shape as [number, number, number, number];
    const N = sparse?.shape[1] ?? 1;
    const output = concat([this.iou_token.weight, this.mask_tokens.weight], 0).expand(B, N, 1 + this.numMaskTokens, C); // (B, N, 1+M, C)
    const tokens = sparse === null ? output : concat([output, sparse], 2); // (B, N, T, C)
    // every prompt of an image sees that image: repeat_interleave over the batch
    const perPrompt = (x: Tensor): Tensor => x.unsqueeze(1).expand(B, N, C, h, w).reshape(B * N, C, h, w); // (B·N, C, h, w)
    const [out, cells] = this.transformer.forward(tokens, perPrompt(image.add(dense)), perPrompt(imagePe.expand(B, C, h, w)));
    const iouOut = out.slice(2, 0, 1).squeeze(2); // (B, N, C)
    const maskOut = out.slice(2, 1, 1 + this.numMaskTokens); // (B, N, M, C)

    const grid = cells.squeeze(1).transpose(1, 2).reshape(B * N, C, h, w); // (B·N, C, h, w)
    const up1 = gelu(this.upscale_layer_norm.forward(this.upscale_conv1.forward(grid))); // (B·N, C/4, 2h, 2w)
    const up = gelu(this.upscale_conv2.forward(up1)); // (B·N, C/8, 4h, 4w)
    const hyper = stack(this.output_hypernetworks_mlps.map((mlp, i) => mlp.forward(maskOut.slice(2, i, i + 1).squeeze(2))), 2); // (B, N, M, C/8)
    const [H, W] = [up.shape[2]!, up.shape[3]!];
    const masks = hyper.matmul(up.reshape(B, N, C / 8, H * W)).reshape(B, N, this.numMaskTokens, H, W); // (B, N, M, 4h, 4w)
    const iou = this.iou_prediction_head.forward(iouOut); // (B, N, M)
    const [from, to] = multimaskOutput ? [1, this.numMaskTokens] : [0, 1];
    return { masks: masks.slice(2, from, to), iouScores: iou.slice(2, from, to) };
  }
}
