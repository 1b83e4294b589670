// PixelLLM composed from its config (DESIGN §2): encoders and their fusion, SAM's prompt encoder, the prompt adapter,
// the visual projection, the language model, the point head, the mask adapter + SAM mask decoder, and the proposal
// head. Field names are the reference's checkpoint prefixes (DESIGN §3); inside a backbone, its public checkpoint's keys.
import { Generator, Tensor, concat, resize } from '../../tensor/index.ts';
import { LayerNorm, Linear, Module } from '../../nn/index.ts';
import { applyLora } from '../../nn/lora.ts';
import { Eva } from '../eva02.ts';
import { SamVisionEncoder } from '../sam/vision_encoder.ts';
import { SamPositionalEmbedding } from '../sam/positional_embedding.ts';
import { SamPromptEncoder } from '../sam/prompt_encoder.ts';
import { SamMaskDecoder } from '../sam/mask_decoder.ts';
import type { Normalization } from '../../data/image/normalize.ts';
import { ConfigError } from '../config.ts';
import { checkPixelLLMConfig, fusedChannels, textWidth, type PixelLLMConfig } from './config.ts';
import { PromptAdapter } from './prompt_adapter.ts';
import { GridPointPredictor, PointPredictor } from './point_head.ts';
import { RegionTokens } from './region_tokens.ts';
import { MaskAdapter } from './mask_adapter.ts';
import { BoxDecoder } from './proposal_head.ts';
import type { PixelTextModel, TextInputs } from './text_model.ts';
import { buildTextModel } from './text_models.ts';

/** Linear(query features → LM width) + LayerNorm: the visual tokens the language model reads. */
export class VisualProjection extends Module {
  linear: Linear;
  norm: LayerNorm;
  constructor(inFeatures: number, width: number) {
    super();
    this.linear = new Linear(inFeatures, width);
    this.norm = new LayerNorm(width);
  }
  forward(x: Tensor): Tensor {
    return this.norm.forward(this.linear.forward(x));
  }
}

/** The image side of a batch: the fused map for the adapter and proposals, SAM's embedding for the mask decoder. */
export interface ImageFeatures {
  /** (B, g, g, Cf) channels-last */
  fused: Tensor;
  /** (B, Cs, h, w) SAM's neck output */
  sam: Tensor;
}

export class PixelLLM extends Module {
  git_backbone: Eva | null;
  sam_backbone: SamVisionEncoder;
  prompt_encoder: SamPromptEncoder;
  prompt_adapter: PromptAdapter;
  visual_project_layers: VisualProjection;
  textual: PixelTextModel;
  point_predictor: PointPredictor | GridPointPredictor;
  region_tokens: RegionTokens | null;
  mask_adapter: MaskAdapter;
  mask_decoder: SamMaskDecoder;
  box_decoder: BoxDecoder;

  constructor(readonly config: PixelLLMConfig, rng = new Generator(0)) {
    super();
    checkPixelLLMConfig(config);
    const sam = config.sam;
    const Cs = sam.vision_config.output_channels;
    this.git_backbone = config.eva ? new Eva(config.eva) : null;
    this.sam_backbone = new SamVisionEncoder(sam.vision_config);
    // an encoder trained from scratch starts from MAE's fixed 2-D sin-cos positions (SAM's zeros suit only its checkpoints)
    if (config.sam_trainable && this.sam_backbone.pos_embed) this.sam_backbone.pos_embed.data.set(sinCos2d(this.sam_backbone.pos_embed.shape[1]!, sam.vision_config.hidden_size));
    // Fourier frequencies ~ N(0, 1), the original SAM's PositionEmbeddingRandom: smooth codes a model trained from
    // scratch can regress coordinates from (HF's init scale, hidden_size / 2, aliases a 16×16 grid into noise; public
    // checkpoints bring their own values either way)
    this.prompt_encoder = new SamPromptEncoder(sam.prompt_encoder_config, new SamPositionalEmbedding(sam.vision_config.num_pos_feats, 1));
    const a = config.prompt_adapter;
    this.prompt_adapter = new PromptAdapter(a, fusedChannels(config), Cs);
    const W = textWidth(config.text);
    this.visual_project_layers = new VisualProjection(a.query_output_size, W);
    this.textual = buildTextModel(config.text, rng);
    const ph = config.point_head;
    this.point_predictor = ph.kind === 'grid'
      ? new GridPointPredictor(W, fusedChannels(config), sam.prompt_encoder_config.hidden_size, ph.hidden_size, ph.num_layers)
      : new PointPredictor(W, ph.hidden_size, ph.num_layers);
    this.region_tokens = config.region_tokens ? new RegionTokens(config.region_tokens, fusedChannels(config), W) : null;
    const m = config.mask_adapter;
    if (m.hidden_size !== Cs) throw new ConfigError(`mask_adapter.hidden_size ${m.hidden_size} must equal SAM's output_channels ${Cs} (it adapts SAM's embedding in place)`);
    this.mask_adapter = new MaskAdapter(m.hidden_size, W, m.num_layers, m.num_attention_heads);
    this.mask_decoder = new SamMaskDecoder(sam.mask_decoder_config);
    this.box_decoder = new BoxDecoder(fusedChannels(config), config.proposal_head.hidden_size);
    if (config.text.kind !== 'git' && config.text.lora) {
      const { r, alpha, targets } = config.text.lora;
      applyLora(this.textual, { r, alpha, targets });
    }
  }

  /** The normalised copies of the image the encoders read. */
  get normalizations(): Normalization[] {
    return this.git_backbone ? ['clip', 'sam'] : ['sam'];
  }

  /** images: (B, 3, S, S) per normalisation → the fused map and SAM's embedding. */
  encode(images: Partial<Record<Normalization, Tensor>>): ImageFeatures {
    const need = (n: Normalization): Tensor => {
      const t = images[n];
      if (!t) throw new ConfigError(`PixelLLM.encode: the '${n}'-normalised image is missing (the loader's normalizations must include it)`);
      return t;
    };
    const sam = this.sam_backbone.forward(need('sam')); // (B, Cs, h, w)
    const samLast = sam.permute(0, 2, 3, 1); // (B, h, w, Cs)
    if (!this.git_backbone) return { fused: samLast, sam };
    const eva = this.git_backbone.forwardFeatures(need('clip')); // (B, 1 + g², De)
    const [B, n, De] = eva.shape as [number, number, number];
    const g = Math.round(Math.sqrt(n - 1));
    const grid = eva.slice(1, 1, n).reshape(B, g, g, De); // (B, g, g, De): the class token dropped
    // SAM's map at EVA's grid, bicubic as jax.image.resize does it
    const samAtGrid = resize(samLast, [g, g], { method: 'bicubic', convention: 'jax', antialias: true, channelsLast: true }); // (B, g, g, Cs)
    return { fused: concat([grid, samAtGrid], -1), sam }; // (B, g, g, De + Cs)
  }

  /** One box per row (B, 4) in canvas pixels → the 5 SAM prompt tokens (B, 5, Cp): two corners, three no-mask embeddings. */
  promptTokens(boxes: Tensor): Tensor {
    const B = boxes.shape[0]!;
    const corners = this.prompt_encoder.embedBoxes(boxes.reshape(B, 1, 4)).squeeze(1); // (B, 2, Cp)
    const noMask = this.prompt_encoder.no_mask_embed.weight.unsqueeze(0).expand(B, 3, -1); // (B, 3, Cp)
    return concat([corners, noMask], 1); // (B, 5, Cp)
  }

  /** The language model's visual tokens (B, Q, W) for the fused map and one prompt box per row. */
  visualTokens(features: ImageFeatures, boxes: Tensor): Tensor {
    const q = this.prompt_adapter.forward(features.fused, this.fusedPe(features), this.promptTokens(boxes)); // (B, Q, O)
    const visual = this.visual_project_layers.forward(q); // (B, Q, W)
    if (!this.region_tokens) return visual;
    return concat([visual, this.region_tokens.forward(features.fused, boxes, this.config.image_size)], 1); // (B, Q + k², W)
  }

  /** SAM's positional encoding of the fused map's cells, (1, g, g, Cp) channels-last. */
  fusedPe(features: ImageFeatures): Tensor {
    const g = features.fused.shape[1]!;
    return this.prompt_encoder.shared_embedding.dense(g, g).permute(0, 2, 3, 1); // (1, g, g, Cp)
  }

  /** The point head on hidden states (B, T, W) → raw (B, T, 8); validSize (B, 2) is each row's unpadded [w, h]. */
  points(hidden: Tensor, features: ImageFeatures, validSize: Tensor): Tensor {
    return this.pointHead(hidden, features, validSize).raw;
  }

  /** As points, with the grid head's pointing logits over the fused map's cells (B, T, g²) (null for the MLP head). */
  pointHead(hidden: Tensor, features: ImageFeatures, validSize: Tensor): { raw: Tensor; cellLogits: Tensor | null } {
    const head = this.point_predictor;
    if (head instanceof PointPredictor) return { raw: head.forward(hidden), cellLogits: null };
    return head.withCellLogits(hidden, features.fused, this.fusedPe(features), this.config.image_size, validSize);
  }

  /** Teacher-forced text: hidden states (B, T, W) aligned with the tokens. */
  text(inputs: TextInputs): Tensor {
    return this.textual.forward(inputs);
  }

  /**
   * Mask logits (B, 4h, 4w) and predicted IoU (B) for one box per row (B, 4), with the mask adapter reading the visual
   * tokens and the text's hidden states (B, T, W) under textMask (B, T).
   */
  masks(features: ImageFeatures, visual: Tensor, text: Tensor, textMask: Tensor, boxes: Tensor): { logits: Tensor; iou: Tensor } {
    const [B, , h, w] = features.sam.shape as [number, number, number, number];
    const image = this.mask_adapter.forward(features.sam, visual, text, textMask); // (B, Cs, h, w)
    const { sparse, dense } = this.prompt_encoder.forward({ boxes: boxes.reshape(B, 1, 4) }, [h, w]);
    const pe = this.prompt_encoder.shared_embedding.dense(h, w); // (1, Cs, h, w)
    const out = this.mask_decoder.forward(image, pe, sparse, dense, false);
    return { logits: out.masks.reshape(B, out.masks.shape[3]!, out.masks.shape[4]!), iou: out.iouScores.reshape(B) };
  }
}


/** MAE's 2-D sin-cos position table for a g × g grid, (g, g, C) flattened: half the channels encode y, half x. */
export function sinCos2d(g: number, C: number): Float32Array {
  const out = new Float32Array(g * g * C);
  const quarter = C / 4;
  for (let y = 0; y < g; y++) for (let x = 0; x < g; x++) {
    const at = (y * g + x) * C;
    for (let i = 0; i < quarter; i++) {
      const omega = 1 / 10000 ** (i / quarter);
      out[at + i] = Math.sin(y * omega);
      out[at + quarter + i] = Math.cos(y * omega);
      out[at + 2 * quarter + i] = Math.sin(x * omega);
      out[at + 3 * quarter + i] = Math.cos(x * omega);
    }
  }
  return out;
}
