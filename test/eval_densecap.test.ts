// DenseCap mAP on a hand-computed case, and the ground-truth merging and assignment rules of eval_utils.lua.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignImage, densecapIou, densecapMap, mergeGroundTruth, type DenseRegion } from '../src/eval/densecap_map.ts';

const close = (a: number, b: number, label: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${label}: ${a} vs ${b}`);

test('IoU uses the inclusive +1 pixel convention', () => {
  // [0,0,9,9] is 10x10 = 100 px; [5,0,14,9] overlaps 5x10 = 50 → 50 / (100 + 100 − 50) = 1/3
  close(densecapIou([0, 0, 9, 9], [5, 0, 14, 9]), 1 / 3, 'iou');
  close(densecapIou([0, 0, 9, 9], [10, 0, 19, 9]), 0, 'touching');
});

test('ground truth merges greedily at IoU >= 0.7 around the box with most neighbours', () => {
  const r = (x: number, text: string): DenseRegion => ({ box: [x, 0, x + 9, 9], text });
  // 0 and 1 overlap 9/11 ≥ 0.7, 1 and 2 overlap 9/11, 0 and 2 overlap 8/12 < 0.7: box 1 has 3 neighbours (itself
  // included) and absorbs all three; box 3 stands alone
  const groups = mergeGroundTruth([r(0, 'a'), r(1, 'b'), r(2, 'c'), r(40, 'd')]);
  assert.deepEqual(groups.map((g) => g.map((x) => x.text)), [['a', 'b', 'c'], ['d']]);
});

test('mAP by hand: a duplicate detection is a false positive; METEOR thresholds are strict', () => {
  // Two ground-truth regions, the first annotated twice (identical boxes merge, captions pooled): npos = 2.
  const gt: DenseRegion[] = [
    { box: [0, 0, 9, 9], text: 'a red ball' }, { box: [0, 0, 9, 9], text: 'red ball' }, { box: [20, 20, 29, 29], text: 'a blue cup' },
  ];
  const { records, numGroundTruth } = assignImage([
    { box: [20, 20, 29, 29], text: 'a green cup', score: 0.7 },
    { box: [0, 0, 9, 9], text: 'a red ball', score: 0.9 },
    { box: [0, 0, 9, 9], text: 'a red ball', score: 0.8 },
  ], gt);
  assert.equal(numGroundTruth, 2);
  assert.deepEqual(records.map((r) => [r.score, r.ok, r.overlap, r.references]), [
    [0.9, true, 1, ['a red ball', 'red ball']], [0.8, false, 1, ['a red ball', 'red ball']], [0.7, true, 1, ['a blue cup']],
  ]);
  // METEOR scores 1, 1, 0.1. In score order the true positives are [1, 0, 1] when the caption threshold is < 0.1
  // (thresholds -1, 0, 0.05): recall [.5, .5, 1], precision [1, .5, 2/3]. Lua's `for t=0,1,0.01` accumulates t, so
  // the 51st value is 0.5000000000000002 > 0.5: 50 thresholds see max precision 1 and the other 50 see 2/3 →
  // AP = (50 + 50·2/3) / 100 = 5/6. With thresholds 0.1..0.25 (score 0.1 is not > 0.1) only the first is a true
  // positive: 50 thresholds at precision 1 → AP = 0.5. Every IoU threshold passes (overlap 1), so
  // mAP = (2·5/6 + 4·0.5) / 6 = 11/18 and the detection mAP is 5/6.
  const result = densecapMap(records, [1, 1, 0.1], numGroundTruth);
  close(result.map, 11 / 18, 'mAP');
  close(result.detMap, 5 / 6, 'detection mAP');
  close(result.apBreakdown['ov0.3_score0.05']!, 5 / 6, 'ov0.3 score0.05');
  close(result.apBreakdown['ov0.7_score0.1']!, 0.5, 'ov0.7 score0.1');
  assert.equal(Object.keys(result.apBreakdown).length, 30);
});

test('a detection overlapping nothing marks the last ground-truth box as taken, as Torch resolves used[-1]', () => {
  const gt: DenseRegion[] = [{ box: [0, 0, 9, 9], text: 'x' }, { box: [50, 50, 59, 59], text: 'y' }];
  const { records } = assignImage([
    { box: [100, 100, 109, 109], text: 'nothing', score: 0.9 },
    { box: [50, 50, 59, 59], text: 'y', score: 0.5 },
  ], gt);
  assert.deepEqual(records.map((r) => [r.ok, r.overlap]), [[true, 0], [false, 1]]);
});

test('edge cases: no predictions and no ground truth give AP 0, not NaN', () => {
  const none = densecapMap([], [], 3);
  assert.equal(none.map, 0);
  const { records, numGroundTruth } = assignImage([{ box: [0, 0, 1, 1], text: 'x', score: 1 }], []);
  assert.equal(densecapMap(records, [0], numGroundTruth).map, 0);
});
