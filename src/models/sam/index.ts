// SAM (Segment Anything) as HF transformers' SamModel, loading its checkpoints' keys unchanged.
export { samConfig, SamConfigError, SAM_VIT_B, SAM_VIT_L, SAM_VIT_H, type SamConfig, type SamVisionConfig, type SamPromptEncoderConfig, type SamMaskDecoderConfig } from './config.ts';
export { SamModel } from './sam_model.ts';
export { SamVisionEncoder, SamVisionLayer, SamVisionNeck, SamPatchEmbeddings, SamInputError, windowPartition, windowUnpartition } from './vision_encoder.ts';
export { SamVisionAttention, relativePositions } from './vision_attention.ts';
export { SamPositionalEmbedding } from './positional_embedding.ts';
export { SamPromptEncoder, SamMaskEmbedding, SamPromptError, type SamPrompts } from './prompt_encoder.ts';
export { SamMaskDecoder, type SamMasks } from './mask_decoder.ts';
export { SamTwoWayTransformer, SamTwoWayAttentionBlock, SamAttention } from './two_way_transformer.ts';
export { SamMLPBlock, SamLayerNorm2d, SamFeedForward } from './layers.ts';
