// The prompt adapter (the reference's "prompt feature extractor"): learned queries and the SAM prompt tokens attend
// to the fused image map in a SAM-style two-way transformer; each query's output gets its own projection, and those
// become the language model's visual tokens (after `visual_project_layers`, see pixelllm.ts).
// https://github.com/google-research/scenic/tree/main/scenic/projects/pixel_llm
import { Tensor, concat } from '../../tensor/index.ts';
import { Linear, Module } from '../../nn/index.ts';
import { normalInit, uniformInit } from '../../nn/init.ts';
import { SamTwoWayTransformer } from '../sam/two_way_transformer.ts';
import type { PromptAdapterConfig } from './config.ts';

export class PromptAdapter extends Module {
  /** (Q, D) learned queries */
  query_embed: Tensor;
  image_proj: Linear;
  pe_proj: Linear;
  prompt_proj: Linear;
  transformer: SamTwoWayTransformer;
  /** (Q, D, O) and (Q, O): one Linear(D → O) per query, stored as one batch of weights */
  output_proj_weight: Tensor;
  output_proj_bias: Tensor;

  constructor(readonly config: PromptAdapterConfig, imageChannels: number, promptChannels: number) {
    super();
    const { hidden_size: D, num_queries: Q, query_output_size: O } = config;
    this.query_embed = normalInit([Q, D], 1);
    this.image_proj = new Linear(imageChannels, D);
    this.pe_proj = new Linear(promptChannels, D);
    this.prompt_proj = new Linear(promptChannels, D);
    this.transformer = new SamTwoWayTransformer({
      hidden_size: D, hidden_act: 'relu', mlp_dim: config.mlp_dim, num_hidden_layers: config.num_hidden_layers,
      num_attention_heads: config.num_attention_heads, attention_downsample_rate: config.attention_downsample_rate,
      num_multimask_outputs: 0, iou_head_depth: 2, iou_head_hidden_dim: 0, layer_norm_eps: 1e-6,
    });
    this.output_proj_weight = uniformInit([Q, D, O], D);
    this.output_proj_bias = uniformInit([Q, O], D);
  }

  /**
   * image (B, g, g, Cf) channels-last fused map, imagePe (1, g, g, Cp) its positional encoding, prompt (B, 5, Cp)
   * SAM prompt tokens → (B, Q, O) one feature per query.
   */
  forward(image: Tensor, imagePe: Tensor, prompt: Tensor): Tensor {
    const [B, g] = image.shape as [number, number];
    const { hidden_size: D, num_queries: Q } = this.config;
    const peLast = this.pe_proj.forward(imagePe); // (1, g, g, D)
    const pe = peLast.permute(0, 3, 1, 2).expand(B, D, g, g); // (B, D, g, g)
    // the cells the queries read carry their position too (SAM adds it to keys only): what a query gathers then says
    // where it looked, which a model trained from scratch needs to regress coordinates (a deviation from the reference);
    // added channels-last, where both operands are contiguous
    const cells = this.image_proj.forward(image).add(peLast).permute(0, 3, 1, 2); // (B, D, g, g)
    const queries = this.query_embed.unsqueeze(0).expand(B, Q, D); // (B, Q, D)
    const tokens = concat([queries, this.prompt_proj.forward(prompt)], 1).unsqueeze(1); // (B, 1, Q + 5, D)
    const [out] = this.transformer.forward(tokens, cells, pe); // (B, 1, Q + 5, D)
    const q = out.squeeze(1).slice(1, 0, Q).unsqueeze(2); // (B, Q, 1, D)
    return q.matmul(this.output_proj_weight).squeeze(2).add(this.output_proj_bias); // (B, Q, O)
  }
}
