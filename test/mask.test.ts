// COCO masks against pycocotools (test/data/mask_cases.json, made by scripts/reference/make_mask_cases.py) and on
// cases worked by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  compress, countsFromString, countsToString, decodeRle, encodeBitmap, intersectionUnion, MaskError, mergeRles,
  polygonToRle, rleArea, rleIou, rleToBbox, segmentationToRle, type Bitmap,
} from '../src/data/mask.ts';

interface Cases {
  polygons: { h: number; w: number; polygons: number[][]; each: string[]; merged: string; area: number; bbox: number[] }[];
  bitmaps: { h: number; w: number; rows: number[][]; counts: string; other: string; area: number; bbox: number[]; iou: number }[];
  coco: { id: number; image_id: number; counts: string; area: number; bbox: number[] }[];
}
const cases: Cases = JSON.parse(readFileSync(new URL('./data/mask_cases.json', import.meta.url), 'utf8'));

const bitmapOf = (rows: number[][]): Bitmap => ({ height: rows.length, width: rows[0].length, data: Uint8Array.from(rows.flat()) });

test('polygons rasterise as pycocotools frPyObjects + merge', () => {
  for (const c of cases.polygons) {
    const each = c.polygons.map((p) => polygonToRle(p, c.h, c.w));
    assert.deepEqual(each.map((r) => countsToString(r.counts)), c.each);
    const merged = segmentationToRle(c.polygons, c.h, c.w);
    assert.equal(countsToString(merged.counts), c.merged);
    assert.equal(rleArea(merged), c.area);
    assert.deepEqual(rleToBbox(merged), c.bbox);
  }
});

test('bitmaps encode, decode, measure and compare as pycocotools', () => {
  for (const c of cases.bitmaps) {
    const rle = encodeBitmap(bitmapOf(c.rows));
    assert.equal(countsToString(rle.counts), c.counts);
    assert.deepEqual(countsFromString(c.counts), rle.counts);
    assert.deepEqual(Array.from(decodeRle(rle).data), c.rows.flat());
    assert.equal(rleArea(rle), c.area);
    assert.deepEqual(rleToBbox(rle), c.bbox);
    const other = { size: rle.size, counts: countsFromString(c.other) };
    assert.ok(Math.abs(rleIou(rle, other) - c.iou) < 1e-12, `iou ${rleIou(rle, other)} vs ${c.iou}`);
  }
});

test('every COCO annotation of the sample becomes the RLE pycocotools makes', () => {
  const inst = JSON.parse(readFileSync('../shared/data/coco-mini/annotations/instances_val2017.json', 'utf8'));
  const images = new Map<number, { height: number; width: number }>(inst.images.map((im: { id: number }) => [im.id, im]));
  const anns = new Map<number, { segmentation: never }>(inst.annotations.map((a: { id: number }) => [a.id, a]));
  for (const c of cases.coco) {
    const im = images.get(c.image_id)!;
    const rle = segmentationToRle(anns.get(c.id)!.segmentation, im.height, im.width);
    assert.equal(compress(rle).counts, c.counts, `annotation ${c.id}`);
    assert.equal(rleArea(rle), c.area);
    assert.deepEqual(rleToBbox(rle), c.bbox);
  }
});

test('hand-worked cases', () => {
  // a 3×2 mask with ones at (row 1, col 0) and (row 0..2, col 1): column-major 0,1,0,1,1,1 → runs 1,1,1,3
  const m = bitmapOf([[0, 1], [1, 1], [0, 1]]);
  assert.deepEqual(encodeBitmap(m).counts, [1, 1, 1, 3]);
  // a mask that starts with a one has an empty first run of zeros
  assert.deepEqual(encodeBitmap(bitmapOf([[1, 0]])).counts, [0, 1, 1]);
  // bbox of that 3×2 mask: x 0..1, y 0..2; its run of 3 ones continues from column 0 into column 1
  assert.deepEqual(rleToBbox(encodeBitmap(m)), [0, 0, 2, 3]);
  assert.deepEqual(rleToBbox({ size: [4, 4], counts: [16] }), [0, 0, 0, 0]);
  // intersection with the full mask is the area; union is all 6 pixels
  assert.deepEqual(intersectionUnion(encodeBitmap(m), { size: [3, 2], counts: [0, 6] }), { intersection: 4, union: 6 });
  // negative deltas in the string form survive a round trip
  const counts = [3, 100, 2, 1, 50, 7, 0, 9];
  assert.deepEqual(countsFromString(countsToString(counts)), counts);
  assert.deepEqual(mergeRles([{ size: [1, 4], counts: [0, 1, 3] }, { size: [1, 4], counts: [3, 1] }]).counts, [0, 1, 2, 1]);
});

test('bad segmentations are named', () => {
  assert.throws(() => segmentationToRle({ size: [2, 2], counts: [1, 2] }, 2, 2), /sum to 3, not 2×2/);
  assert.throws(() => segmentationToRle({ size: [3, 2], counts: [6] }, 2, 2), /size 3×2 differs/);
  assert.throws(() => segmentationToRle([], 2, 2), MaskError);
  assert.throws(() => polygonToRle([1, 2, 3], 4, 4), /x, y pairs/);
  assert.throws(() => countsFromString('1\u0001'), /invalid character/);
  assert.throws(() => decodeRle({ size: [2, 2], counts: [3, 3] }), /past 2×2/);
});
