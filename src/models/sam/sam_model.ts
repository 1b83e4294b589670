// SamModel: the image encoder, the shared positional embedding, the prompt encoder and the mask decoder, under
// HF's keys (vision_encoder., shared_image_embedding., prompt_encoder., mask_decoder.) so checkpoints of
// facebook/sam-vit-{base,large,huge} load as they are.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/modeling_sam.py
import { ones, type Tensor } from '../../tensor/index.ts';
import { Module, type LoadReport } from '../../nn/index.ts';
import type { SamConfig } from './config.ts';
import { SamVisionEncoder } from './vision_encoder.ts';
import { SamPositionalEmbedding } from './positional_embedding.ts';
import { SamPromptEncoder, SamPromptError, type SamPrompts } from './prompt_encoder.ts';
import { SamMaskDecoder, type SamMasks } from './mask_decoder.ts';

// The reference ties the prompt encoder's copy of the Fourier frequencies to the model's; a checkpoint may hold
// either key or both. Here the prompt encoder owns the one tensor and the model's key is an alias of it.
const TIED = 'shared_image_embedding.positional_embedding';
const OWNER = 'prompt_encoder.shared_embedding.positional_embedding';

export class SamModel extends Module {
  vision_encoder: SamVisionEncoder;
  prompt_encoder: SamPromptEncoder;
  mask_decoder: SamMaskDecoder;

  constructor(readonly config: SamConfig) {
    super();
    const v = config.vision_config;
    this.vision_encoder = new SamVisionEncoder(v);
    this.prompt_encoder = new SamPromptEncoder(config.prompt_encoder_config, new SamPositionalEmbedding(v.num_pos_feats, Math.trunc(v.hidden_size / 2)));
    this.mask_decoder = new SamMaskDecoder(config.mask_decoder_config);
  }

  get shared_image_embedding(): SamPositionalEmbedding {
    return this.prompt_encoder.shared_embedding;
  }

  /** Both tied keys, as the reference saves them. */
  override stateDict(): Map<string, Tensor> {
    const state = super.stateDict();
    state.set(TIED, state.get(OWNER)!);
    return state;
  }

  /** Accepts a checkpoint that holds either of the tied keys. */
  override loadStateDict(state: Map<string, Tensor>, opts: Parameters<Module['loadStateDict']>[1] = {}): LoadReport {
    const full = new Map(state);
    const one = state.get(TIED) ?? state.get(OWNER);
    if (one !== undefined) {
      if (!full.has(TIED)) full.set(TIED, one);
      if (!full.has(OWNER)) full.set(OWNER, one);
    }
    return super.loadStateDict(full, opts);
  }

  /** pixels (B, 3, H, W), normalised → image embeddings (B, C, H/p, W/p) */
  getImageEmbeddings(pixels: Tensor): Tensor {
    return this.vision_encoder.forward(pixels);
  }

  /** The dense positional encoding of the image-embedding grid (1, C, h, w); the config's grid by default. */
  getImageWidePositionalEmbeddings(h = this.config.prompt_encoder_config.image_embedding_size, w = h): Tensor {
    return this.shared_image_embedding.dense(h, w);
  }

  getPromptEmbeddings(prompts: SamPrompts): { sparse: Tensor | null; dense: Tensor } {
    return this.prompt_encoder.forward(prompts);
  }

  /** Masks and IoU scores for the prompts, from pixels or from image embeddings computed earlier. */
  forward(input: ({ pixels: Tensor } | { imageEmbeddings: Tensor }) & SamPrompts & { multimaskOutput?: boolean }): SamMasks {
    const image = 'pixels' in input ? this.getImageEmbeddings(input.pixels) : input.imageEmbeddings;
    const B = image.shape[0]!;
    for (const [name, t] of [['points', input.points], ['boxes', input.boxes]] as const) {
      if (t !== undefined && t.shape[0] !== B) {
        throw new SamPromptError(`SAM prompts: ${name} are for ${t.shape[0]} images but there are ${B} image embeddings`);
      }
    }
    if (input.points !== undefined && input.boxes !== undefined && input.points.shape[1] !== input.boxes.shape[1]) {
      throw new SamPromptError(`SAM prompts: ${input.points.shape[1]} point prompts but ${input.boxes.shape[1]} boxes per image; give one box per point prompt`);
    }
    // points without labels are foreground points, as the reference defaults them
    const labels = input.labels ?? (input.points && ones(input.points.shape.slice(0, 3), 'int32'));
    // the image embeddings' own grid (the config's at the checkpoint's input size)
    const [h, w] = image.shape.slice(2) as [number, number];
    const { sparse, dense } = this.prompt_encoder.forward({ ...input, labels }, [h, w]);
    const pe = this.getImageWidePositionalEmbeddings(h, w);
    return this.mask_decoder.forward(image, pe, sparse, dense, input.multimaskOutput ?? true);
  }
}
