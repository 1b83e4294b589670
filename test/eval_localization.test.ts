// Localisation metrics on hand-computed cases: box IoU, P@0.5 (strict), cIoU vs mean IoU, masks through the COCO
// RLE codec, point_l1, and the edge cases (degenerate boxes, empty sets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boxIntersectionUnion, boxIou, OverlapStats, tokenPointL1 } from '../src/eval/localization.ts';
import { encodeBitmap, intersectionUnion } from '../src/data/mask.ts';

const close = (a: number, b: number, label: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${label}: ${a} vs ${b}`);

test('box IoU by hand, in continuous pixel coordinates', () => {
  // [0,0,10,10] and [5,0,15,10]: intersection 5·10 = 50, union 100 + 100 − 50 = 150
  close(boxIou([0, 0, 10, 10], [5, 0, 15, 10]), 1 / 3, 'half overlap');
  close(boxIou([0, 0, 10, 10], [10, 0, 20, 10]), 0, 'touching');
  close(boxIou([2, 2, 4, 4], [0, 0, 10, 10]), 4 / 100, 'contained');
  // degenerate boxes have area 0: a zero-width prediction never overlaps; two empty boxes score 0, not NaN
  close(boxIou([5, 5, 5, 9], [0, 0, 10, 10]), 0, 'zero width');
  close(boxIou([3, 3, 3, 3], [3, 3, 3, 3]), 0, 'both empty');
  assert.deepEqual(boxIntersectionUnion([5, 5, 5, 9], [0, 0, 10, 10]), { intersection: 0, union: 100 });
});

test('P@0.5 is strict, cIoU weights large objects, a missing prediction counts as IoU 0', () => {
  const s = new OverlapStats();
  s.add(50, 100); // IoU exactly 0.5: not a hit
  s.add(90, 100); // 0.9
  s.add(1, 10); // 0.1 on a small object
  s.addMissing(40); // no prediction: IoU 0, its 40 px still in the union
  close(s.precisionAt(0.5), 1 / 4, 'P@0.5');
  close(s.meanIou, (0.5 + 0.9 + 0.1 + 0) / 4, 'mIoU');
  // cIoU = (50 + 90 + 1 + 0) / (100 + 100 + 10 + 40)
  close(s.cumulativeIou, 141 / 250, 'cIoU');
  const empty = new OverlapStats();
  assert.ok(Number.isNaN(empty.precisionAt(0.5)) && Number.isNaN(empty.cumulativeIou));
});

test('mask IoU through the COCO RLE codec', () => {
  // 4×4 masks: prediction covers the left two columns (8 px), ground truth the top two rows (8 px); they share 4 px
  const h = 4;
  const w = 4;
  const pred = new Uint8Array(16).map((_, i) => (i % w < 2 ? 1 : 0));
  const gt = new Uint8Array(16).map((_, i) => (Math.floor(i / w) < 2 ? 1 : 0));
  const r = intersectionUnion(encodeBitmap({ height: h, width: w, data: pred }), encodeBitmap({ height: h, width: w, data: gt }));
  assert.deepEqual(r, { intersection: 4, union: 12 });
});

test('point_l1 by hand: nearest target per predicted point, mean of |dx|/w and |dy|/h', () => {
  // 200×100 image; targets (0,0) and (100,50). Predicted (10,10): nearest (0,0): (10/200 + 10/100)/2 = 0.075.
  // Predicted (100,60): nearest (100,50): (0 + 10/100)/2 = 0.05. Token value = (0.075 + 0.05) / 2.
  close(tokenPointL1([[10, 10], [100, 60]], [[0, 0], [100, 50]], 200, 100), 0.0625, 'point_l1');
  close(tokenPointL1([[100, 50]], [[0, 0], [100, 50]], 200, 100), 0, 'exact');
  assert.throws(() => tokenPointL1([], [[0, 0]], 10, 10));
});
