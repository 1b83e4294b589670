// PixelLLM's training losses (DESIGN §2): label-smoothed caption cross-entropy, the point/box L1 in pixels of the
// resized image, the referring box at the position whose next token is EOS, SAM's mask losses (focal, dice, IoU
// regression), and the CenterNet-style proposal losses (penalty-reduced focal on a Gaussian heatmap, GIoU boxes).
import { Tensor, crossEntropy, indexSelect, maximum, minimum, noGrad, sum } from '../tensor/index.ts';
import type { Box } from '../data/types.ts';
import { pointsToBoxes } from '../models/pixelllm/point_head.ts';

/** Positions (flat b·T + i) where mask[b, i] is set. */
export function maskedRows(mask: Tensor): Tensor {
  const m = mask.toArray();
  const at: number[] = [];
  for (let i = 0; i < m.length; i++) if (m[i]) at.push(i);
  return new Tensor(Int32Array.from(at), [at.length]);
}

/**
 * Next-token cross-entropy with label smoothing ε over the V − 1 wrong classes: hidden (B, T, C) predicts tokens[:, 1:]
 * where tokenMask[:, 1:] is set; the vocabulary head runs only on those positions.
 */
export function captionLoss(hidden: Tensor, tokens: Tensor, tokenMask: Tensor, head: (h: Tensor) => Tensor, smoothing: number): Tensor {
  const [B, T, C] = hidden.shape as [number, number, number];
  const next = tokenMask.slice(1, 1, T); // (B, T − 1): position i predicts token i + 1
  const rows = maskedRows(next);
  const h = indexSelect(hidden.slice(1, 0, T - 1).reshape(B * (T - 1), C), 0, rows); // (n, C)
  const targets = indexSelect(tokens.slice(1, 1, T).reshape(B * (T - 1)), 0, rows); // (n)
  return crossEntropy(head(h), targets, { labelSmoothing: smoothing });
}

/**
 * Mean L1 in canvas pixels between the head's two points (raw (B, T, 8)) and target boxes (B, T, 4), over the
 * positions where mask (B, T) is set; zero (still differentiable) when there are none.
 */
export function pointLoss(raw: Tensor, targets: Tensor, mask: Tensor, validSize: Tensor): Tensor {
  const [B, T] = mask.shape as [number, number];
  const boxes = pointsToBoxes(raw, validSize.reshape(B, 1, 2)); // (B, T, 4) pixels
  const rows = maskedRows(mask);
  if (rows.size === 0) return raw.sum().mul(0);
  const pred = indexSelect(boxes.reshape(B * T, 4), 0, rows); // (n, 4)
  const tgt = indexSelect(targets.reshape(B * T, 4), 0, rows);
  return pred.sub(tgt).abs().mean();
}

/**
 * Cross-entropy of the grid point head's logits over a g×g grid (B, T, g²) against the cell holding each target box's
 * centre (boxes (B, T, 4) in pixels of the S×S canvas), over the positions where mask (B, T) is set; zero when none.
 */
export function cellLoss(cellLogits: Tensor, boxes: Tensor, mask: Tensor, S: number): Tensor {
  const [B, T, G] = cellLogits.shape as [number, number, number];
  const g = Math.round(Math.sqrt(G));
  const rows = maskedRows(mask);
  if (rows.size === 0) return cellLogits.sum().mul(0);
  const b = boxes.values();
  const cellOf = (x: number): number => Math.min(g - 1, Math.max(0, Math.floor((x * g) / S)));
  const targets = Int32Array.from(rows.values(), (r) => {
    const [x0, y0, x1, y1] = [b[r * 4]!, b[r * 4 + 1]!, b[r * 4 + 2]!, b[r * 4 + 3]!];
    return cellOf((y0 + y1) / 2) * g + cellOf((x0 + x1) / 2);
  });
  const logits = indexSelect(cellLogits.reshape(B * T, G), 0, rows); // (n, g²)
  return crossEntropy(logits, new Tensor(targets, [targets.length]));
}

/** For each row, the position whose next token is EOS (the last real token before it): (B) int. */
export function preEosPositions(tokenMask: Tensor): number[] {
  const [B, T] = tokenMask.shape as [number, number];
  const m = tokenMask.toArray();
  return Array.from({ length: B }, (_, b) => {
    let n = 0;
    while (n < T && m[b * T + n]) n++;
    return Math.max(0, n - 2);
  });
}

/** Raw head outputs (B, T, 8) at each row's pre-EOS position → (B, 8). */
export function atPreEos(raw: Tensor, tokenMask: Tensor): Tensor {
  const [B, T] = tokenMask.shape as [number, number];
  const at = preEosPositions(tokenMask).map((p, b) => b * T + p);
  return indexSelect(raw.reshape(B * T, -1), 0, new Tensor(Int32Array.from(at), [B])); // (B, 8)
}

/**
 * Sigmoid focal loss (γ 2; α 0.5, scenic's default, which PixelLLM's mask loss keeps) averaged over the elements
 * where `valid` is 1 (the image, not its padding), as the reference weights it. logits, targets, valid same shape.
 */
export function sigmoidFocalLoss(logits: Tensor, targets: Tensor, valid: Tensor, alpha = 0.5, gamma = 2): Tensor {
  const p = logits.sigmoid();
  // BCE with logits, stable: max(x, 0) − x·t + log(1 + e^−|x|)
  const ce = logits.clamp(0).sub(logits.mul(targets)).add(logits.abs().neg().exp().add(1).log());
  const pt = p.mul(targets).add(p.neg().add(1).mul(targets.neg().add(1)));
  const a = targets.mul(alpha).add(targets.neg().add(1).mul(1 - alpha));
  return ce.mul(pt.neg().add(1).pow(gamma)).mul(a).mul(valid).sum().div(Math.max(1, valid.sum().item()));
}

/** Dice loss 1 − (2·Σpt + 1)/(Σp + Σt + 1) per row of (B, …) over its valid elements, averaged over rows. */
export function diceLoss(logits: Tensor, targets: Tensor, valid: Tensor): Tensor {
  const B = logits.shape[0]!;
  const p = logits.sigmoid().mul(valid).reshape(B, -1);
  const t = targets.reshape(B, -1);
  const num = p.mul(t).sum(-1).mul(2).add(1);
  const den = p.sum(-1).add(t.sum(-1)).add(1);
  return num.div(den).neg().add(1).mean();
}

/** Canvas masks (B, S, S) bool → (B, m, m) float targets at the mask decoder's resolution (block average ≥ 0.5). */
export function maskTargets(masks: Tensor, m: number): Tensor {
  const [B, S] = masks.shape as [number, number];
  const f = S / m;
  const src = masks.values(); // a typed array: toArray would box every pixel
  const out = new Float32Array(B * m * m);
  for (let b = 0; b < B; b++) {
    for (let y = 0; y < m; y++) for (let x = 0; x < m; x++) {
      let s = 0;
      for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) s += src[b * S * S + (y * f + dy) * S + x * f + dx]!;
      out[(b * m + y) * m + x] = s / (f * f) >= 0.5 ? 1 : 0;
    }
  }
  return new Tensor(out, [B, m, m]);
}

export interface MaskLossParts {
  focal: Tensor;
  dice: Tensor;
  iou: Tensor;
}

/** SAM's losses for one mask per row: logits (B, m, m), targets (B, m, m), valid (B, m, m) image cells, predicted IoU (B). */
export function maskLosses(logits: Tensor, targets: Tensor, valid: Tensor, predictedIou: Tensor): MaskLossParts {
  const B = logits.shape[0]!;
  const actual = noGrad(() => {
    const hard = logits.gt(0).to('float32').reshape(B, -1);
    const t = targets.reshape(B, -1);
    const inter = hard.mul(t).sum(-1);
    const union = hard.add(t).sub(hard.mul(t)).sum(-1);
    return inter.div(union.clamp(1)); // (B)
  });
  return { focal: sigmoidFocalLoss(logits, targets, valid), dice: diceLoss(logits, targets, valid), iou: predictedIou.sub(actual).pow(2).mean() };
}

/** CenterNet's Gaussian radius for a box of (h, w) cells to keep IoU ≥ 0.7 under a shifted centre. */
function gaussianRadius(h: number, w: number, minOverlap = 0.7): number {
  const r1 = (h + w - Math.sqrt((h + w) ** 2 - 4 * h * w * (1 - minOverlap) / (1 + minOverlap))) / 2;
  const r2 = (2 * (h + w) - Math.sqrt(4 * (h + w) ** 2 - 16 * (1 - minOverlap) * h * w)) / 8;
  const a3 = 4 * minOverlap;
  const r3 = (-2 * minOverlap * (h + w) + Math.sqrt((2 * minOverlap * (h + w)) ** 2 - 4 * a3 * (minOverlap - 1) * w * h)) / (2 * a3);
  return Math.max(0, Math.min(r1, r2, r3));
}

export interface ProposalTargets {
  /** (B, g, g) Gaussian peaks, 1 at each box's centre cell */
  heatmap: Tensor;
  /** flat b·g² + cell of each box's centre, and the box (canvas pixels) */
  centres: number[];
  boxes: Box[];
}

/** Heatmap and centre targets on a g × g grid for each row's boxes (canvas pixels of an S × S canvas). */
export function proposalTargets(rows: Box[][], g: number, S: number): ProposalTargets {
  const B = rows.length;
  const stride = S / g;
  const heat = new Float32Array(B * g * g);
  const centres: number[] = [];
  const boxes: Box[] = [];
  rows.forEach((row, b) => {
    for (const box of row) {
      const [x0, y0, x1, y1] = box;
      if (x1 - x0 < 1 || y1 - y0 < 1) continue;
      const cx = Math.min(g - 1, Math.max(0, Math.floor((x0 + x1) / 2 / stride)));
      const cy = Math.min(g - 1, Math.max(0, Math.floor((y0 + y1) / 2 / stride)));
      const r = Math.max(0, Math.floor(gaussianRadius((y1 - y0) / stride, (x1 - x0) / stride)));
      const sigma = (2 * r + 1) / 6;
      for (let y = Math.max(0, cy - r); y <= Math.min(g - 1, cy + r); y++) for (let x = Math.max(0, cx - r); x <= Math.min(g - 1, cx + r); x++) {
        const v = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma * sigma));
        const i = b * g * g + y * g + x;
        heat[i] = Math.max(heat[i]!, v);
      }
      heat[b * g * g + cy * g + cx] = 1;
      centres.push(b * g * g + cy * g + cx);
      boxes.push(box);
    }
  });
  return { heatmap: new Tensor(heat, [B, g, g]), centres, boxes };
}

/** CenterNet's penalty-reduced focal loss (α 2, β 4) summed and divided by the number of objects. */
export function heatmapFocalLoss(logits: Tensor, target: Tensor, numObjects: number): Tensor {
  const p = logits.sigmoid().clamp(1e-4, 1 - 1e-4);
  const pos = target.eq(1).to('float32');
  const neg = pos.neg().add(1);
  const posLoss = p.log().mul(p.neg().add(1).pow(2)).mul(pos);
  const negLoss = p.neg().add(1).log().mul(p.pow(2)).mul(target.neg().add(1).pow(4)).mul(neg);
  return sum(posLoss.add(negLoss)).neg().div(Math.max(1, numObjects));
}

/** Mean generalised IoU loss 1 − GIoU between boxes (n, 4) and targets (n, 4). */
export function giouLoss(pred: Tensor, target: Tensor): Tensor {
  const c = (t: Tensor, i: number) => t.slice(1, i, i + 1).squeeze(1); // (n)
  const [px0, py0, px1, py1] = [0, 1, 2, 3].map((i) => c(pred, i));
  const [tx0, ty0, tx1, ty1] = [0, 1, 2, 3].map((i) => c(target, i));
  const areaP = px1!.sub(px0!).clamp(0).mul(py1!.sub(py0!).clamp(0));
  const areaT = tx1!.sub(tx0!).mul(ty1!.sub(ty0!));
  const iw = minimum(px1!, tx1!).sub(maximum(px0!, tx0!)).clamp(0);
  const ih = minimum(py1!, ty1!).sub(maximum(py0!, ty0!)).clamp(0);
  const inter = iw.mul(ih);
  const union = areaP.add(areaT).sub(inter).clamp(1e-6);
  const hull = maximum(px1!, tx1!).sub(minimum(px0!, tx0!)).mul(maximum(py1!, ty1!).sub(minimum(py0!, ty0!))).clamp(1e-6);
  const giou = inter.div(union).sub(hull.sub(union).div(hull));
  return giou.neg().add(1).mean();
}

