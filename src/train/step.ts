// The losses of one task-pure batch (DESIGN §2): every task runs encoder → prompt adapter → language model; captions
// add the caption loss, traces the per-token point loss, referring the box at the pre-EOS position (no caption loss)
// and, where the batch carries masks, the mask losses through the mask adapter and SAM's decoder; every batch whose
// images have known object boxes trains the proposal head.
import { Tensor, indexSelect } from '../tensor/index.ts';
import type { Batch } from '../data/batch/index.ts';
import type { Box } from '../data/types.ts';
import { boxVisible, mapBox } from '../data/image/geometry.ts';
import type { PixelLLM } from '../models/pixelllm/pixelllm.ts';
import { decodeCellBoxes } from '../models/pixelllm/proposal_head.ts';
import {
  atPreEos, captionLoss, cellLoss, giouLoss, heatmapFocalLoss, maskLosses, maskTargets, maskedRows, pointLoss, proposalTargets,
} from './losses.ts';

export interface LossWeights {
  caption: number;
  label_smoothing: number;
  point: number;
  mask_focal: number;
  mask_dice: number;
  mask_iou: number;
  proposal_heatmap: number;
  proposal_box: number;
  /**
   * the grid point head's cross-entropy of pointing at the cell that holds each target box's centre (an addition:
   * the L1 alone reaches a near-uniform softmax over cells only weakly); no term for the MLP head
   */
  point_cell: number;
}

export const REFERENCE_WEIGHTS: LossWeights = {
  caption: 1, label_smoothing: 0.1, point: 0.1, mask_focal: 20, mask_dice: 1, mask_iou: 1, proposal_heatmap: 1, proposal_box: 1,
  point_cell: 0.5,
};

/** Object boxes (original pixels) of each image id, for the proposal head (from a dense-annotation source). */
export type ObjectBoxes = ReadonlyMap<string, readonly Box[]>;

/** Weighted loss terms by name; their sum is what is minimised. */
export function batchLosses(model: PixelLLM, batch: Batch, w: LossWeights, objects: ObjectBoxes | null = null): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  const features = model.encode(batch.images);
  const visual = model.visualTokens(features, batch.promptBoxes); // (B, Q, W)
  const hidden = model.text({ visual, promptIds: batch.promptTokens, promptMask: batch.promptMask, tokens: batch.tokens, tokenMask: batch.tokenMask }); // (B, T, W)
  const B = batch.tokens.shape[0]!;
  if (batch.task !== 'refer') {
    // a region the crop moved out of view has no caption to learn (the reference drops its text loss too)
    const mask = batch.task === 'regioncap' ? batch.tokenMask.to('int32').mul(batch.boxValid.to('int32').reshape(B, 1)) : batch.tokenMask;
    if (mask.sum().item() > 0) out.caption = captionLoss(hidden, batch.tokens, mask, (h) => model.textual.logits(h), w.label_smoothing).mul(w.caption);
  }
  const S = model.config.image_size;
  if (batch.task === 'trace' && batch.traceBoxes && batch.traceMask) {
    const { raw, cellLogits } = model.pointHead(hidden, features, batch.validSize); // (B, T, 8), (B, T, g²)
    out.point = pointLoss(raw, batch.traceBoxes, batch.traceMask, batch.validSize).mul(w.point);
    if (cellLogits && w.point_cell > 0) out.point_cell = cellLoss(cellLogits, batch.traceBoxes, batch.traceMask, S).mul(w.point_cell);
  }
  if (batch.task === 'refer') {
    const { raw, cellLogits } = model.pointHead(atPreEos(hidden, batch.tokenMask).unsqueeze(1), features, batch.validSize); // (B, 1, 8), (B, 1, g²)
    out.box = pointLoss(raw, batch.boxes.reshape(B, 1, 4), batch.boxValid.reshape(B, 1), batch.validSize).mul(w.point);
    if (cellLogits && w.point_cell > 0) out.point_cell = cellLoss(cellLogits, batch.boxes.reshape(B, 1, 4), batch.boxValid.reshape(B, 1), S).mul(w.point_cell);
    if (batch.masks && batch.maskValid) {
      const rows = maskedRows(batch.maskValid.to('int32').mul(batch.boxValid.to('int32')));
      if (rows.size > 0) {
        const pick = (t: Tensor) => indexSelect(t, 0, rows);
        const sub = { fused: pick(features.fused), sam: pick(features.sam) };
        const m = model.masks(sub, pick(visual), pick(hidden), pick(batch.tokenMask), pick(batch.boxes)); // logits (n, m, m)
        const side = m.logits.shape[1]!;
        const parts = maskLosses(m.logits, maskTargets(pick(batch.masks), side), maskTargets(pick(batch.paddingMask), side), m.iou);
        out.mask_focal = parts.focal.mul(w.mask_focal);
        out.mask_dice = parts.dice.mul(w.mask_dice);
        out.mask_iou = parts.iou.mul(w.mask_iou);
      }
    }
  }
  if (objects) {
    const rows = batch.imageIds.map((id, b) => (objects.get(id) ?? []).filter((box) => boxVisible(batch.geometries[b]!, box)).map((box) => mapBox(batch.geometries[b]!, box)));
    if (rows.some((r) => r.length > 0)) Object.assign(out, proposalLosses(model, features.fused, rows, w));
  }
  return out;
}

function proposalLosses(model: PixelLLM, fused: Tensor, rows: Box[][], w: LossWeights): Record<string, Tensor> {
  const [B, g] = fused.shape as [number, number];
  const S = model.config.image_size;
  const { logits, ltrb } = model.box_decoder.forward(fused);
  const t = proposalTargets(rows, g, S);
  const out: Record<string, Tensor> = { proposal_heatmap: heatmapFocalLoss(logits, t.heatmap, t.centres.length).mul(w.proposal_heatmap) };
  if (t.centres.length > 0) {
    const boxes = decodeCellBoxes(ltrb, S).reshape(B * g * g, 4); // (B·g², 4)
    const pred = indexSelect(boxes, 0, new Tensor(Int32Array.from(t.centres), [t.centres.length])); // (n, 4)
    out.proposal_box = giouLoss(pred, new Tensor(Float32Array.from(t.boxes.flat()), [t.boxes.length, 4])).mul(w.proposal_box);
  }
  return out;
}
