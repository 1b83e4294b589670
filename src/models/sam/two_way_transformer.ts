// SamTwoWayTransformer: prompt tokens and image cells attend to each other in turn (tokens → tokens, tokens →
// image, MLP on tokens, image → tokens), then a final tokens → image attention. SamAttention projects to
// hidden_size / downsample_rate before splitting heads.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/modeling_sam.py
import { Tensor, scaledDotProductAttention } from '../../tensor/index.ts';
import { LayerNorm, Linear, Module } from '../../nn/index.ts';
import type { SamMaskDecoderConfig } from './config.ts';
import { SamMLPBlock, activation } from './layers.ts';

export class SamAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  out_proj: Linear;
  constructor(hiddenSize: number, readonly numHeads: number, downsampleRate: number) {
    super();
    const inner = hiddenSize / downsampleRate;
    this.q_proj = new Linear(hiddenSize, inner);
    this.k_proj = new Linear(hiddenSize, inner);
    this.v_proj = new Linear(hiddenSize, inner);
    this.out_proj = new Linear(inner, hiddenSize);
  }
  /** query (…, Tq, C), key and value (…, Tk, C) with the same leading dims → (…, Tq, C) */
  forward(query: Tensor, key: Tensor, value: Tensor): Tensor {
    const heads = (x: Tensor): Tensor => {
      const [T, inner] = x.shape.slice(-2) as [number, number];
      return x.reshape(-1, T, this.numHeads, inner / this.numHeads).transpose(1, 2); // (B', nh, T, hs)
    };
    const q = this.q_proj.forward(query);
    const out = scaledDotProductAttention(heads(q), heads(this.k_proj.forward(key)), heads(this.v_proj.forward(value))); // (B', nh, Tq, hs)
    return this.out_proj.forward(out.transpose(1, 2).reshape(...q.shape)); // (…, Tq, C)
  }
}

export class SamTwoWayAttentionBlock extends Module {
  self_attn: SamAttention;
  layer_norm1: LayerNorm;
  cross_attn_token_to_image: SamAttention;
  layer_norm2: LayerNorm;
  mlp: SamMLPBlock;
  layer_norm3: LayerNorm;
  layer_norm4: LayerNorm;
  cross_attn_image_to_token: SamAttention;
  constructor(config: SamMaskDecoderConfig, readonly skipFirstLayerPe: boolean) {
    super();
    const { hidden_size: C, num_attention_heads: nh, attention_downsample_rate: rate, layer_norm_eps: eps } = config;
    this.self_attn = new SamAttention(C, nh, 1);
    this.layer_norm1 = new LayerNorm(C, eps);
    this.cross_attn_token_to_image = new SamAttention(C, nh, rate);
    this.layer_norm2 = new LayerNorm(C, eps);
    this.mlp = new SamMLPBlock(C, config.mlp_dim, activation(config.hidden_act));
    this.layer_norm3 = new LayerNorm(C, eps);
    this.layer_norm4 = new LayerNorm(C, eps);
    this.cross_attn_image_to_token = new SamAttention(C, nh, rate);
  }

  /** queries (…, T, C) with their embedding queryPe, keys (…, hw, C) with keyPe → updated [queries, keys] */
  forward(queries: Tensor, keys: Tensor, queryPe: Tensor, keyPe: Tensor): [Tensor, Tensor] {
    if (this.skipFirstLayerPe) {
      queries = this.self_attn.forward(queries, queries, queries); // the first layer's queries are the prompt embeddings themselves
    } else {
      const q = queries.add(queryPe);
      queries = queries.add(this.self_attn.forward(q, q, queries));
    }
    queries = this.layer_norm1.forward(queries);
    const k = keys.add(keyPe);
    queries = this.layer_norm2.forward(queries.add(this.cross_attn_token_to_image.forward(queries.add(queryPe), k, keys)));
    queries = this.layer_norm3.forward(queries.add(this.mlp.forward(queries)));
    keys = this.layer_norm4.forward(keys.add(this.cross_attn_image_to_token.forward(k, queries.add(queryPe), queries)));
    return [queries, keys];
  }
}

export class SamTwoWayTransformer extends Module {
  layers: SamTwoWayAttentionBlock[];
  final_attn_token_to_image: SamAttention;
  layer_norm_final_attn: LayerNorm;
  constructor(config: SamMaskDecoderConfig) {
    super();
    this.layers = Array.from({ length: config.num_hidden_layers }, (_, i) => new SamTwoWayAttentionBlock(config, i === 0));
    this.final_attn_token_to_image = new SamAttention(config.hidden_size, config.num_attention_heads, config.attention_downsample_rate);
    this.layer_norm_final_attn = new LayerNorm(config.hidden_size); // torch's default eps 1e-5 here, as the reference
  }

  /**
   * pointEmbeddings (B, N, T, C); image and imagePe (B·N, C, h, w) → [tokens (B, N, T, C), image (B·N, 1, h·w, C)]
   */
  forward(pointEmbeddings: Tensor, image: Tensor, imagePe: Tensor): [Tensor, Tensor] {
    // copied once into token order, so that the adds of every layer below read one block
    const cells = (x: Tensor): Tensor => x.flatten(2).transpose(1, 2).contiguous().unsqueeze(1); // (B·N, 1, h·w, C)
    const [B, N, T, C] = pointEmbeddings.shape as [number, number, number, number];
    // attention runs per prompt: tokens as (B·N, 1, T, C) line up with the image cells of their prompt
    const pe = pointEmbeddings.reshape(B * N, 1, T, C);
    const keyPe = cells(imagePe);
    let queries = pe;
    let keys = cells(image);
    for (const layer of this.layers) [queries, keys] = layer.forward(queries, keys, pe, keyPe);
    const attn = this.final_attn_token_to_image.forward(queries.add(pe), keys.add(keyPe), keys);
    queries = this.layer_norm_final_attn.forward(queries.add(attn));
    return [queries.reshape(B, N, T, C), keys];
  }
}
