// Localisation metrics of referring expressions and traces: box IoU, P@0.5 (IoU > 0.5, boxes in original-image
// pixels), cIoU (Σ intersection / Σ union over the set) and mean IoU, for boxes and for masks (RLE, COCO's codec),
// and point_l1 (DESIGN §2): coordinates divided by the image (w, h); each predicted point of a token takes its
// smallest L1 distance (mean over x and y) to the token's target points; averaged over points, tokens, then images.
import type { Box, Point } from '../data/types.ts';

export const boxArea = (b: Box): number => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);

/** Intersection and union areas of two [x0, y0, x1, y1] boxes; a box with x1 < x0 or y1 < y0 has area 0. */
export function boxIntersectionUnion(a: Box, b: Box): { intersection: number; union: number } {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  const intersection = iw > 0 && ih > 0 ? iw * ih : 0;
  return { intersection, union: boxArea(a) + boxArea(b) - intersection };
}

/** IoU of two boxes; 0 when both are empty (nothing to agree on counts as a miss). */
export function boxIou(a: Box, b: Box): number {
  const { intersection, union } = boxIntersectionUnion(a, b);
  return union > 0 ? intersection / union : 0;
}

/** Accumulates per-item intersections and unions; reports P@threshold, mean IoU and cumulative IoU. */
export class OverlapStats {
  private sumIntersection = 0;
  private sumUnion = 0;
  readonly ious: number[] = [];

  add(intersection: number, union: number): number {
    const iou = union > 0 ? intersection / union : 0;
    this.sumIntersection += intersection;
    this.sumUnion += union;
    this.ious.push(iou);
    return iou;
  }

  /** A missing prediction: IoU 0, and the ground truth's area still counts in the cumulative union. */
  addMissing(groundTruthArea: number): void {
    this.add(0, groundTruthArea);
  }

  get count(): number {
    return this.ious.length;
  }

  /** Fraction of items with IoU strictly above `threshold`. */
  precisionAt(threshold: number): number {
    return this.count === 0 ? NaN : this.ious.filter((v) => v > threshold).length / this.count;
  }

  get meanIou(): number {
    return this.count === 0 ? NaN : this.ious.reduce((a, b) => a + b, 0) / this.count;
  }

  get cumulativeIou(): number {
    return this.sumUnion > 0 ? this.sumIntersection / this.sumUnion : NaN;
  }
}

/**
 * point_l1 of one token: its predicted points and target points in pixels of a (w, h) image. Each predicted point
 * takes min over targets of (|dx|/w + |dy|/h) / 2; the token's value is the mean over its predicted points.
 */
export function tokenPointL1(predicted: readonly Point[], targets: readonly Point[], width: number, height: number): number {
  if (predicted.length === 0 || targets.length === 0) throw new Error('tokenPointL1: needs at least one predicted and one target point');
  let sum = 0;
  for (const [px, py] of predicted) {
    let best = Infinity;
    for (const [tx, ty] of targets) best = Math.min(best, (Math.abs(px - tx) / width + Math.abs(py - ty) / height) / 2);
    sum += best;
  }
  return sum / predicted.length;
}
