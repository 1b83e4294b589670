// The point head: a LayerNorm and an MLP with exact GELU on the language model's final hidden state at each position,
// giving 2 points × (x, y, 2 unused logits) per token (DESIGN §2). Coordinates (raw + 1) / 2 are fractions of the
// valid (unpadded) image, not clipped; the 2 points are a box's top-left and bottom-right.
import { Tensor, concat, softmax, zerosLike } from '../../tensor/index.ts';
import { LayerNorm, Linear, MLP, Module } from '../../nn/index.ts';

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

/**
 * The grid-pointer point head (an addition, `point_head.kind: 'grid'`): each position's hidden state queries the fused
 * map's cells; the softmax over cells places the box centre at the expected cell centre, and an MLP on the hidden
 * state and the attended cell features gives its four extents. Its output has the MLP head's layout, so losses and
 * inference are unchanged. A small model trained from scratch learns to point at a cell far faster than to regress
 * coordinates from one vector, which is what the reference's MLP asks of a large pretrained model.
 */
export class GridPointPredictor extends Module {
  norm: LayerNorm;
  query: Linear;
  key: Linear;
  key_pe: Linear;
  value: Linear;
  extent: MLP;

  constructor(width: number, channels: number, peChannels: number, readonly hidden: number, numLayers: number) {
    super();
    this.norm = new LayerNorm(width, 1e-6);
    this.query = new Linear(width, hidden);
    this.key = new Linear(channels, hidden);
    this.key_pe = new Linear(peChannels, hidden);
    this.value = new Linear(channels, hidden);
    this.extent = new MLP([width + hidden, ...Array.from({ length: numLayers - 1 }, () => hidden), 4], 'gelu');
  }

  /**
   * hidden (B, T, W), cells (B, g, g, C) channels-last, pe (1, g, g, Cp) their positional encoding, S the canvas side,
   * validSize (B, 2) → raw outputs (B, T, 8) as PointPredictor's.
   */
  forward(hidden: Tensor, cells: Tensor, pe: Tensor, S: number, validSize: Tensor): Tensor {
    return this.withCellLogits(hidden, cells, pe, S, validSize).raw;
  }

  /** As forward, with the pointing logits over the g² cells (B, T, g²) that training also supervises directly. */
  withCellLogits(hidden: Tensor, cells: Tensor, pe: Tensor, S: number, validSize: Tensor): { raw: Tensor; cellLogits: Tensor } {
    const [B, g, , C] = cells.shape as [number, number, number, number];
    const D = this.hidden;
    const h = this.norm.forward(hidden); // (B, T, W)
    const flat = cells.reshape(B, g * g, C); // (B, g², C)
    const keys = this.key.forward(flat).add(this.key_pe.forward(pe.reshape(1, g * g, -1))); // (B, g², D)
    const cellLogits = this.query.forward(h).matmul(keys.transpose(1, 2)).div(Math.sqrt(D)); // (B, T, g²)
    const attention = softmax(cellLogits, -1); // (B, T, g²)
    const centre = attention.matmul(cellCentres(g, S)); // (B, T, 2) pixels
    const read = attention.matmul(this.value.forward(flat)); // (B, T, D)
    // extents ≥ 0 in pixels: softplus, in units of a sixteenth of the canvas
    const z = this.extent.forward(concat([h, read], -1)).clamp(-20, 20); // (B, T, 4)
    const extent = z.exp().add(1).log().mul(S / 16); // (B, T, 4)
    const topLeft = centre.sub(extent.slice(-1, 0, 2)); // (B, T, 2)
    const bottomRight = centre.add(extent.slice(-1, 2, 4)); // (B, T, 2)
    const valid = validSize.reshape(B, 1, 2).to('float32');
    const raw = (p: Tensor) => p.div(valid).mul(2).sub(1); // pixels → (raw + 1) / 2 fractions of the valid image
    const unused = zerosLike(topLeft); // (B, T, 2) constant: the two logits per point the MLP head also emits
    return { raw: concat([raw(topLeft), unused, raw(bottomRight), unused], -1), cellLogits }; // raw (B, T, 8)
  }
}

/** (g², 2) pixel centres (x, y) of a g×g grid over an S×S canvas, row-major. */
function cellCentres(g: number, S: number): Tensor {
  const out = new Float32Array(g * g * 2);
  for (let i = 0; i < g; i++) for (let j = 0; j < g; j++) out.set([((j + 0.5) * S) / g, ((i + 0.5) * S) / g], (i * g + j) * 2);
  return new Tensor(out, [g * g, 2]);
}
