// DenseCap mAP as jcjohnson/densecap's eval_utils.lua computes it. Per image: ground-truth boxes that overlap by IoU
// >= 0.7 are merged greedily (mean box, captions pooled as references); predictions in decreasing score order are each
// assigned the merged box they overlap most (a box already taken makes the prediction a duplicate), and the caption is
// scored with METEOR against that box's references. Over all images, predictions sorted by score give precision and
// recall at every IoU threshold in 0.3..0.7 and METEOR threshold in 0..0.25 (METEOR > t, IoU >= t); AP is the mean of
// the max precision at recall >= t for the 100 values t = 0, 0.01, ... (accumulated as Lua's float loop does), and mAP
// averages the 30 APs. The METEOR threshold -1 (any caption) gives the detection-only mAP.
// IoU uses DenseCap's inclusive pixel convention (+1 on widths and heights), as the reference does.
// https://github.com/jcjohnson/densecap/blob/master/eval/eval_utils.lua
import type { Box } from '../data/types.ts';

export const IOU_THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7];
export const METEOR_THRESHOLDS = [0, 0.05, 0.1, 0.15, 0.2, 0.25];
const MERGE_IOU = 0.7;

export interface DenseRegion {
  box: Box;
  text: string;
}

export interface DensePrediction extends DenseRegion {
  score: number;
}

/** One prediction after assignment: what its caption is scored against, and whether it can be a true positive. */
export interface DenseRecord {
  score: number;
  candidate: string;
  references: string[];
  overlap: number;
  /** false when its best ground-truth box was already taken by a higher-scoring prediction */
  ok: boolean;
}

export interface DenseMapResult {
  map: number;
  detMap: number;
  /** `ov0.5_score0.1` → AP, as the reference names them */
  apBreakdown: Record<string, number>;
  detBreakdown: Record<string, number>;
  numPredictions: number;
  numGroundTruth: number;
}

/** IoU with the +1 inclusive-pixel convention of DenseCap (and of the VOC devkit it was translated from). */
export function densecapIou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]) + 1;
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]) + 1;
  if (!(iw > 0 && ih > 0)) return 0;
  const ua = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - iw * ih;
  return (iw * ih) / ua;
}

/** box_utils.merge_boxes: repeatedly take the box with the most neighbours at IoU >= thr and absorb them. */
export function mergeGroundTruth(regions: readonly DenseRegion[], thr = MERGE_IOU): DenseRegion[][] {
  const n = regions.length;
  const D = regions.map((r, i) => regions.map((q, j) => (i === j ? 1 : densecapIou(r.box, q.box))));
  const groups: DenseRegion[][] = [];
  for (;;) {
    let top = -1;
    let topCount = 0;
    for (let j = 0; j < n; j++) {
      let c = 0;
      for (let i = 0; i < n; i++) if (D[i]![j]! >= thr) c++;
      if (c > topCount) [top, topCount] = [j, c]; // the first maximum, as torch.max
    }
    if (top < 0) break;
    const members = [...Array(n).keys()].filter((j) => D[top]![j]! >= thr);
    groups.push(members.map((j) => regions[j]!));
    for (const m of members) for (let k = 0; k < n; k++) D[m]![k] = D[k]![m] = 0;
  }
  return groups;
}

/** Assigns one image's predictions to its merged ground truth, in decreasing score order (DenseCaptioningEvaluator:addResult). */
export function assignImage(predictions: readonly DensePrediction[], groundTruth: readonly DenseRegion[]): { records: DenseRecord[]; numGroundTruth: number } {
  const merged = mergeGroundTruth(groundTruth).map((g) => ({
    box: [0, 1, 2, 3].map((k) => g.reduce((s, r) => s + r.box[k]!, 0) / g.length) as Box,
    texts: g.map((r) => r.text),
  }));
  const used = new Array<boolean>(merged.length).fill(false);
  const order = predictions.map((_, i) => i).sort((a, b) => predictions[b]!.score - predictions[a]!.score);
  const records = order.map((ii) => {
    const p = predictions[ii]!;
    let overlap = 0;
    let jmax = -1;
    merged.forEach((g, j) => {
      const ov = densecapIou(p.box, g.box);
      if (ov > overlap) [overlap, jmax] = [ov, j];
    });
    // Torch resolves used[-1] (no overlap at all) to the last ground-truth box, which the reference then marks as
    // taken; kept, so that scores match the published evaluator.
    const slot = jmax >= 0 ? jmax : merged.length - 1;
    let ok = true;
    if (slot >= 0) {
      if (used[slot]) ok = false;
      else used[slot] = true;
    }
    return { score: p.score, candidate: p.text, references: jmax >= 0 ? merged[jmax]!.texts : [], overlap, ok };
  });
  return { records, numGroundTruth: merged.length };
}

/** Max-interpolated AP over recall thresholds 0, 0.01, ... accumulated in floating point while t <= 1 (100 values). */
function averagePrecision(tp: readonly boolean[], numGroundTruth: number): number {
  const rec: number[] = [];
  const prec: number[] = [];
  let ctp = 0;
  let cfp = 0;
  for (const t of tp) {
    if (t) ctp++;
    else cfp++;
    rec.push(ctp / numGroundTruth);
    prec.push(ctp / (ctp + cfp));
  }
  let ap = 0;
  let apn = 0;
  for (let t = 0; t <= 1; t += 0.01) {
    let p = 0;
    for (let i = 0; i < rec.length; i++) if (rec[i]! >= t) p = Math.max(p, prec[i]!);
    ap += p;
    apn++;
  }
  return ap / apn;
}

/**
 * mAP over all images' records; `meteorScores[i]` is the METEOR of records[i] against its references.
 * Records are taken in decreasing score order across images (stable for ties).
 */
export function densecapMap(records: readonly DenseRecord[], meteorScores: readonly number[], numGroundTruth: number): DenseMapResult {
  const order = records.map((_, i) => i).sort((a, b) => records[b]!.score - records[a]!.score);
  const apBreakdown: Record<string, number> = {};
  const detBreakdown: Record<string, number> = {};
  for (const minOverlap of IOU_THRESHOLDS) {
    for (const minScore of [-1, ...METEOR_THRESHOLDS]) {
      const tp = order.map((i) => {
        const r = records[i]!;
        return r.overlap >= minOverlap && r.ok && meteorScores[i]! > minScore;
      });
      const ap = numGroundTruth === 0 ? 0 : averagePrecision(tp, numGroundTruth);
      if (minScore === -1) detBreakdown[`ov${minOverlap}`] = ap;
      else apBreakdown[`ov${minOverlap}_score${minScore}`] = ap;
    }
  }
  const avg = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0) / Object.values(o).length;
  return { map: avg(apBreakdown), detMap: avg(detBreakdown), apBreakdown, detBreakdown, numPredictions: records.length, numGroundTruth };
}
