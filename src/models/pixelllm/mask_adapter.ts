// The mask adapter: before SAM's mask decoder, the image embedding's cells attend to the visual tokens and the
// expression's text features, in a few tanh-gated residual layers whose gates start at 0, so at the start of training
// the decoder sees SAM's own embedding (DESIGN §2, referring segmentation).
import { Tensor, concat, full, scaledDotProductAttention } from '../../tensor/index.ts';
import { LayerNorm, Linear, MLP, Module } from '../../nn/index.ts';
import { constantInit } from '../../nn/init.ts';

class GatedCrossAttentionLayer extends Module {
  norm1: LayerNorm;
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  out_proj: Linear;
  norm2: LayerNorm;
  mlp: MLP;
  /** (1) each; tanh(0) = 0: the layer adds nothing until training opens the gate */
  attn_gate: Tensor;
  mlp_gate: Tensor;

  constructor(width: number, readonly numHeads: number) {
    super();
    this.norm1 = new LayerNorm(width);
    this.q_proj = new Linear(width, width);
    this.k_proj = new Linear(width, width);
    this.v_proj = new Linear(width, width);
    this.out_proj = new Linear(width, width);
    this.norm2 = new LayerNorm(width);
    this.mlp = new MLP([width, 4 * width, width], 'gelu');
    this.attn_gate = constantInit([1], 0);
    this.mlp_gate = constantInit([1], 0);
  }

  /** x (B, hw, C) cells, context (B, L, C), bias (B, 1, 1, L) additive key mask → (B, hw, C) */
  forward(x: Tensor, context: Tensor, bias: Tensor): Tensor {
    const heads = (t: Tensor): Tensor => t.reshape(t.shape[0]!, t.shape[1]!, this.numHeads, -1).transpose(1, 2); // (B, nh, T, hs)
    const q = heads(this.q_proj.forward(this.norm1.forward(x)));
    const a = scaledDotProductAttention(q, heads(this.k_proj.forward(context)), heads(this.v_proj.forward(context)), { mask: bias }); // (B, nh, hw, hs)
    x = x.add(this.out_proj.forward(a.transpose(1, 2).reshape(...x.shape)).mul(this.attn_gate.tanh()));
    return x.add(this.mlp.forward(this.norm2.forward(x)).mul(this.mlp_gate.tanh()));
  }
}

export class MaskAdapter extends Module {
  text_proj: Linear;
  visual_proj: Linear;
  layers: GatedCrossAttentionLayer[];

  constructor(width: number, textWidth: number, numLayers: number, numHeads: number) {
    super();
    this.text_proj = new Linear(textWidth, width);
    this.visual_proj = new Linear(textWidth, width);
    this.layers = Array.from({ length: numLayers }, () => new GatedCrossAttentionLayer(width, numHeads));
  }

  /**
   * image (B, C, h, w) SAM embedding, visual (B, Q, W) visual tokens, text (B, T, W) text features with textMask
   * (B, T) 1 on the expression's tokens → (B, C, h, w)
   */
  forward(image: Tensor, visual: Tensor, text: Tensor, textMask: Tensor): Tensor {
    const [B, C, h, w] = image.shape as [number, number, number, number];
    const context = concat([this.visual_proj.forward(visual), this.text_proj.forward(text)], 1); // (B, Q + T, C)
    const Q = visual.shape[1]!;
    const keep = concat([full([B, Q], 1, 'float32'), textMask.to('float32')], 1); // (B, Q + T)
    const bias = keep.sub(1).mul(1e9).reshape(B, 1, 1, -1); // (B, 1, 1, Q + T): −1e9 on padding
    // contiguous once, so that every residual add and norm below runs over one block
    let x = image.flatten(2).transpose(1, 2).contiguous(); // (B, hw, C)
    for (const layer of this.layers) x = layer.forward(x, context, bias);
    return x.transpose(1, 2).reshape(B, C, h, w); // (B, C, h, w)
  }
}
