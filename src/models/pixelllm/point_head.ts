// The point head: a LayerNorm and an MLP with exact GELU on the language model's final hidden state at each position,
// giving 2 points × (x, y, 2 unused logits) per token (DESIGN §2). Coordinates (raw + 1) / 2 are fractions of the
// valid (unpadded) image, not clipped; the 2 points are a box's top-left and bottom-right.
import { Tensor, concat } from '../../tensor/index.ts';
import { LayerNorm, MLP, Module } from '../../nn/index.ts';

export class PointPredictor extends Module {
  norm: LayerNorm;
  mlp: MLP;

  constructor(width: number, hidden: number, numLayers: number) {
    super();
    this.norm = new LayerNorm(width, 1e-6);
    this.mlp = new MLP([width, ...Array.from({ length: numLayers }, () => hidden), 8], 'gelu');
  }

  /** hidden (…, C) → raw outputs (…, 8) */
  forward(hidden: Tensor): Tensor {
    return this.mlp.forward(this.norm.forward(hidden));
  }
}

/** Raw head outputs (…, 8) → boxes (…, 4) [x0, y0, x1, y1] in pixels, given the valid size (…, 2) [w, h] broadcastable. */
export function pointsToBoxes(raw: Tensor, validSize: Tensor): Tensor {
  const xy = concat([raw.slice(-1, 0, 2), raw.slice(-1, 4, 6)], -1); // (…, 4) the two points' (x, y)
  const wh = concat([validSize, validSize], -1).to('float32'); // (…, 4)
  return xy.add(1).div(2).mul(wh); // (…, 4) pixels
}
