// RefCOCO/+/g readers on the real sample (embedded-ann layout) and the refer layout (test/data/refer: a refs pickle
// made from the sample, see test/pickle.test.ts, with an instances.json written here from the sample's anns).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadRecords } from '../src/data/records.ts';
import { readEmbeddedRefs, readReferPickle } from '../src/data/readers/refcoco.ts';
import { collect, rejectsNaming, scratch, SHARED } from './data_helpers.ts';

const SAMPLE = join(SHARED, 'refcoco-sample/refcoco_sample_refs.json');
const REFS = fileURLToPath(new URL('./data/refer/refcoco/refs(google).p', import.meta.url));
type SampleRef = { ref_id: number; split: string; dataset: string; dataset_partition: string; ann: { id: number } & Record<string, unknown> };
const sampleRefs: SampleRef[] = JSON.parse(readFileSync(SAMPLE, 'utf8')).ref;

test('embedded layout: one refer example per sentence with the COCO box as corners, mask, references and source', async () => {
  const examples = await collect(readEmbeddedRefs(SAMPLE, { imageDir: '/coco/train2017' }));
  assert.equal(examples.length, 35); // 14 refs × their 2-3 sentences
  const counts: Record<string, number> = {};
  for (const e of examples) counts[e.source] = (counts[e.source] ?? 0) + 1;
  assert.deepEqual(counts, {
    'refcoco/google/train': 6, 'refcoco/google/test': 6, 'refcoco/google/val': 2, 'refcoco/unc/train': 5,
    'refcoco+/unc/train': 6, 'refcocog/google/val': 2, 'refcocog/google/train': 4, 'refcocog/umd/train': 4,
  });
  const [first] = examples;
  assert.equal(first.task, 'refer');
  assert.equal(first.id, '10511:29925');
  assert.equal(first.text, 'far right pottery piece');
  assert.equal(first.imageId, '460986');
  assert.equal(first.imagePath, '/coco/train2017/000000460986.jpg'); // COCO_train2014_000000460986_3.jpg in train2017
  assert.deepEqual(first.box, [489.71, 265.92, 489.71 + 150.29, 265.92 + 140.42]); // bbox [x, y, w, h]
  assert.deepEqual(first.references, ['far right pottery piece', 'cup on far right', 'right one']);
  assert.equal((first.segmentation as number[][])[0].length, 36);
  assert.deepEqual([first.width, first.height], [0, 0]); // this layout has no image sizes
});

test('embedded layout options: raw text, splits, one regioncap example per object, train2014 names', async () => {
  const raw = await collect(readEmbeddedRefs(SAMPLE, { text: 'raw', splits: ['test'] }));
  assert.deepEqual(raw.map((e) => e.text).slice(0, 3), ['RIGHT MOST CUP', 'right cup', 'RIGHT FIRST WHITE POT']);
  assert.deepEqual(new Set(raw.map((e) => e.source)), new Set(['refcoco/google/test']));
  const val = await collect(readEmbeddedRefs(SAMPLE, { splits: ['val'] }));
  assert.equal(val.length, 4);
  const perRef = await collect(readEmbeddedRefs(SAMPLE, { task: 'regioncap', perRef: true, imageNames: 'train2014' }));
  assert.equal(perRef.length, 14);
  assert.ok(perRef.every((e) => e.task === 'regioncap' && e.references!.length >= 2));
  assert.deepEqual(perRef.map((e) => e.id).slice(0, 2), ['10511', '10514']);
  assert.equal(perRef[0].imagePath, 'COCO_train2014_000000460986.jpg');
});

/** A refer-layout folder: the committed refs pickle and an instances.json of the sample's anns plus one unrelated. */
function referFolder(dropAnn?: number): string {
  const dir = join(scratch({}), 'refcoco');
  mkdirSync(dir);
  copyFileSync(REFS, join(dir, 'refs(google).p'));
  const anns = [...new Map(sampleRefs.map((r) => [r.ann.id, r.ann])).values()].filter((a) => a.id !== dropAnn);
  const unrelated = { id: 1, image_id: 9, category_id: 1, bbox: [0, 0, 1, 1], segmentation: [[0, 0, 1, 0, 1, 1]], area: 1, iscrowd: 0 };
  writeFileSync(join(dir, 'instances.json'), JSON.stringify({
    // the sample carries no image entry: 640×480 is a size its polygons fit in
    images: [{ id: 460986, file_name: 'COCO_train2014_000000460986.jpg', width: 640, height: 480 }, { id: 9, file_name: 'x.jpg', width: 2, height: 2 }],
    annotations: [unrelated, ...anns],
    categories: [{ id: 1, name: 'person' }],
  }));
  return dir;
}

test('refer layout (refs pickle + instances.json) gives the embedded layout\'s examples, with image sizes', async () => {
  const dir = referFolder();
  const fromPickle = await collect(readReferPickle(join(dir, 'refs(google).p')));
  const embedded = (await collect(readEmbeddedRefs(SAMPLE))).filter((e) => e.source.startsWith('refcoco/google/'));
  assert.equal(fromPickle.length, 14);
  assert.deepEqual(fromPickle, embedded.map((e) => ({ ...e, width: 640, height: 480 })));
  const test2 = await collect(readReferPickle(join(dir, 'refs(google).p'), { splits: ['test'] }));
  assert.deepEqual(new Set(test2.map((e) => e.source)), new Set(['refcoco/google/test']));
});

test('refer layout errors name the ref in the pickle and the missing annotation', async () => {
  const dir = referFolder(683672);
  const refs = join(dir, 'refs(google).p');
  await rejectsNaming(() => collect(readReferPickle(refs)), `${refs}: [2].ann_id: annotation 683672 is not in ${join(dir, 'instances.json')}`);
  const bad = new BadRecords('skip');
  assert.equal((await collect(readReferPickle(refs, { bad }))).length, 11);
  assert.equal(bad.skipped, 1);
  await rejectsNaming(() => collect(readReferPickle(join(dir, 'refs(umd).p'))), 'refs(umd).p: cannot read: no such file');
});

test('embedded layout errors name the key path inside the ref', async () => {
  const refs = structuredClone(sampleRefs) as unknown as Record<string, unknown>[];
  (refs[1].ann as Record<string, unknown>).bbox = [1, 2, 3];
  refs[2].sentences = [];
  (refs[3].ann as Record<string, unknown>).segmentation = { size: [480, 640], counts: [1, 2, 3] };
  delete refs[4].ann;
  const path = join(scratch({ 'refs.json': JSON.stringify({ ref: refs }) }), 'refs.json');
  const bad = new BadRecords('skip');
  assert.equal((await collect(readEmbeddedRefs(path, { bad }))).length, 35 - 3 - 3 - 3 - 2);
  assert.deepEqual(bad.examples.map((m) => m.slice(path.length)), [
    ': ref[1].ann.bbox: expected 4 numbers, got [1,2,3]',
    ': ref[2].sentences: a ref needs at least one sentence',
    ': ref[3].ann.segmentation: RLE counts sum to 6, not 480×640 = 307200',
    ': ref[4].ann: missing: this layout embeds each ref\'s COCO annotation as `ann`',
  ]);
});
