// Region tokens (an addition to the reference, off unless `region_tokens` is set): a k×k grid of bilinear samples of
// the fused map inside each row's prompt box (RoIAlign with one sample per bin, as GRiT pools its region features),
// projected to the language model's width, with a learned embedding per grid slot and an embedding of the box itself.
// They are appended to the prompt adapter's visual tokens, so the decoder reads the prompted region's pixels directly;
// a model trained from scratch on little data does not learn to route them through the adapter's learned queries.
import { Tensor } from '../../tensor/index.ts';
import { LayerNorm, Linear, Module } from '../../nn/index.ts';
import { normalInit } from '../../nn/init.ts';

export class RegionTokens extends Module {
  /** (k², W) one embedding per sample position, row-major from the box's top-left */
  slot_embed: Tensor;
  feature_proj: Linear;
  /** the box (x0, y0, x1, y1) as fractions of the canvas → W: where the region is and how big */
  box_proj: Linear;
  norm: LayerNorm;

  constructor(readonly side: number, channels: number, width: number) {
    super();
    this.slot_embed = normalInit([side * side, width], 0.02);
    this.feature_proj = new Linear(channels, width);
    this.box_proj = new Linear(4, width);
    this.norm = new LayerNorm(width);
  }

  /** fused (B, g, g, C) channels-last, boxes (B, 4) canvas pixels of an S×S canvas → (B, k², W) */
  forward(fused: Tensor, boxes: Tensor, S: number): Tensor {
    const [B, g, , C] = fused.shape as [number, number, number, number];
    const weights = new Tensor(roiSampleWeights(boxes.values() as Float32Array, B, this.side, g, S), [B, this.side * this.side, g * g]);
    const pooled = weights.matmul(fused.reshape(B, g * g, C)); // (B, k², C)
    const box = this.box_proj.forward(boxes.div(S)).unsqueeze(1); // (B, 1, W)
    return this.norm.forward(this.feature_proj.forward(pooled).add(this.slot_embed).add(box)); // (B, k², W)
  }
}

/**
 * Bilinear weights (B, k², g²) that sample a g×g grid of cells (cell i's centre at (i + ½)·S/g pixels) at the centres
 * of a k×k split of each box; samples outside the grid are clamped to its edge cells.
 */
export function roiSampleWeights(boxes: ArrayLike<number>, B: number, k: number, g: number, S: number): Float32Array {
  const out = new Float32Array(B * k * k * g * g);
  const cell = S / g;
  // the two cells either side of pixel coordinate p, and the far one's weight
  const split = (p: number): [number, number, number] => {
    const u = Math.min(g - 1, Math.max(0, p / cell - 0.5));
    const lo = Math.min(g - 2, Math.floor(u));
    return lo < 0 ? [0, 0, 0] : [lo, lo + 1, u - lo];
  };
  for (let b = 0; b < B; b++) {
    const [x0, y0, x1, y1] = [boxes[b * 4]!, boxes[b * 4 + 1]!, boxes[b * 4 + 2]!, boxes[b * 4 + 3]!];
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const [ya, yb, fy] = split(y0 + ((i + 0.5) * (y1 - y0)) / k);
      const [xa, xb, fx] = split(x0 + ((j + 0.5) * (x1 - x0)) / k);
      const row = ((b * k + i) * k + j) * g * g;
      out[row + ya * g + xa]! += (1 - fy) * (1 - fx);
      out[row + ya * g + xb]! += (1 - fy) * fx;
      out[row + yb * g + xa]! += fy * (1 - fx);
      out[row + yb * g + xb]! += fy * fx;
    }
  }
  return out;
}
