// A class-agnostic CenterNet-style proposal head on the fused map, for dense captioning: per cell an objectness
// heatmap and the distances from the cell centre to the box's four sides. It stands in for the reference's
// CenterNet2, whose first stage is this same centre heatmap with box regression; CenterNet2's second, cascaded
// RoI stage (and its multi-level FPN) is left out: proposals here come from one map, ranked by heatmap score.
import { Tensor, noGrad } from '../../tensor/index.ts';
import { Conv2d, Module } from '../../nn/index.ts';
import type { Box } from '../../data/types.ts';

export class BoxDecoder extends Module {
  conv1: Conv2d;
  conv2: Conv2d;
  heatmap: Conv2d;
  ltrb: Conv2d;

  constructor(channels: number, hidden: number) {
    super();
    this.conv1 = new Conv2d(channels, hidden, 3, { padding: 1 });
    this.conv2 = new Conv2d(hidden, hidden, 3, { padding: 1 });
    this.heatmap = new Conv2d(hidden, 1, 1);
    this.ltrb = new Conv2d(hidden, 4, 1);
    // CenterNet's prior: every cell starts at objectness sigmoid(−2.19) ≈ 0.1
    this.heatmap.bias!.data.fill(-2.19);
  }

  /** fused (B, g, g, C) → heatmap logits (B, g, g) and log side distances in cells (B, g, g, 4) */
  forward(fused: Tensor): { logits: Tensor; ltrb: Tensor } {
    const x = fused.permute(0, 3, 1, 2); // (B, C, g, g)
    const h = this.conv2.forward(this.conv1.forward(x).clamp(0)).clamp(0); // (B, H, g, g)
    const logits = this.heatmap.forward(h).squeeze(1); // (B, g, g)
    const ltrb = this.ltrb.forward(h).permute(0, 2, 3, 1); // (B, g, g, 4)
    return { logits, ltrb };
  }
}

/** Cell centres' distances (B, g, g, 4) as log cells → boxes (B, g, g, 4) in canvas pixels, for a canvas of side S. */
export function decodeCellBoxes(ltrb: Tensor, S: number): Tensor {
  const [B, g] = ltrb.shape as [number, number];
  const stride = S / g;
  const centres = new Float32Array(g * g * 4);
  for (let y = 0; y < g; y++) for (let x = 0; x < g; x++) centres.set([(x + 0.5) * stride, (y + 0.5) * stride, (x + 0.5) * stride, (y + 0.5) * stride], (y * g + x) * 4);
  const sign = new Tensor(Float32Array.of(-1, -1, 1, 1), [4]);
  return new Tensor(centres, [1, g, g, 4]).expand(B, g, g, 4).add(ltrb.exp().mul(stride).mul(sign)); // (B, g, g, 4)
}

export interface Proposal {
  box: Box;
  score: number;
}

/** Peaks of the heatmap (a cell at least as high as its 8 neighbours), best first, top `k` above `threshold`, per image. */
export function topProposals(logits: Tensor, boxes: Tensor, k: number, threshold: number): Proposal[][] {
  return noGrad(() => {
    const [B, g] = logits.shape as [number, number];
    const s = logits.sigmoid().contiguous().data as Float32Array;
    const bx = boxes.contiguous().data as Float32Array;
    const out: Proposal[][] = [];
    for (let b = 0; b < B; b++) {
      const found: Proposal[] = [];
      const at = (y: number, x: number) => s[b * g * g + y * g + x]!;
      for (let y = 0; y < g; y++) {
        for (let x = 0; x < g; x++) {
          const v = at(y, x);
          if (v < threshold) continue;
          let peak = true;
          for (let dy = -1; dy <= 1 && peak; dy++) for (let dx = -1; dx <= 1; dx++) {
            const [yy, xx] = [y + dy, x + dx];
            if ((dy || dx) && yy >= 0 && yy < g && xx >= 0 && xx < g && at(yy, xx) > v) { peak = false; break; }
          }
          if (peak) found.push({ score: v, box: Array.from(bx.subarray((b * g * g + y * g + x) * 4, (b * g * g + y * g + x) * 4 + 4)) as Box });
        }
      }
      out.push(found.sort((p, q) => q.score - p.score).slice(0, k));
    }
    return out;
  });
}

