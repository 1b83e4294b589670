// COCO captions and instances readers on the real coco-mini sample, and their errors (file + key path); image sizes
// from the sample's image headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fillImageSizes } from '../src/data/image_sizes.ts';
import { BadRecords } from '../src/data/records.ts';
import { cocoSplit, readCocoCaptions, readCocoImages, readCocoInstances } from '../src/data/readers/coco.ts';
import { collect, rejectsNaming, scratch, SHARED } from './data_helpers.ts';

const ANN = join(SHARED, 'coco-mini/annotations');
type Raw = { images: { id: number; file_name: string; width: number; height: number }[]; annotations: Record<string, unknown>[] };
const raw = (name: string): Raw => JSON.parse(readFileSync(join(ANN, name), 'utf8'));

test('captions: one caption example per annotation, every caption of its image as references', async () => {
  for (const [split, n] of [['train2017', 100], ['val2017', 105]] as const) {
    const file = join(ANN, `captions_${split}.json`);
    const examples = await collect(readCocoCaptions(file));
    const r = raw(`captions_${split}.json`);
    assert.equal(examples.length, n);
    examples.forEach((e, i) => {
      const a = r.annotations[i] as { id: number; image_id: number; caption: string };
      const image = r.images.find((im) => im.id === a.image_id)!;
      assert.deepEqual(
        [e.task, e.source, e.id, e.imageId, e.text, e.width, e.height, e.imagePath],
        ['caption', `coco/${split}`, String(a.id), String(a.image_id), a.caption, image.width, image.height, join(ANN, '..', split, image.file_name)],
      );
      const refs = r.annotations.filter((b) => b.image_id === a.image_id).map((b) => b.caption);
      assert.deepEqual(e.references, refs);
      assert.ok(e.references!.includes(e.text));
    });
  }
});

test('instances: one regioncap example per object (category name as caption), crowd regions on request', async () => {
  for (const [split, objects, crowd] of [['train2017', 277, 5], ['val2017', 187, 2]] as const) {
    const file = join(ANN, `instances_${split}.json`);
    const bad = new BadRecords();
    const examples = await collect(readCocoInstances(file, { bad, imageDir: '/img' }));
    assert.equal(examples.length, objects);
    assert.deepEqual([...bad.dropped], [['crowd region', crowd]]);
    const all = await collect(readCocoInstances(file, { includeCrowd: true }));
    assert.equal(all.length, objects + crowd);
    // the crowd regions are uncompressed RLE of their image's size, checked by the mask codec
    const rle = all.filter((e) => !Array.isArray(e.segmentation));
    assert.equal(rle.length, crowd);
    for (const e of rle) assert.deepEqual((e.segmentation as { size: number[] }).size, [e.height, e.width]);
  }
  const [first] = await collect(readCocoInstances(join(ANN, 'instances_train2017.json'), { imageDir: '/img' }));
  // {"bbox": [108.42, 209.35, 36.34, 29.08], "category_id": 3 (car), "image_id": 252639, "id": 133638}
  assert.deepEqual([first.id, first.text, first.imagePath, first.width, first.height], ['133638', 'car', '/img/000000252639.jpg', 640, 427]);
  assert.deepEqual(first.box, [108.42, 209.35, 108.42 + 36.34, 209.35 + 29.08]);
  assert.deepEqual(first.references, ['car']);
});

test('cocoSplit reads the split from the official file names', () => {
  assert.equal(cocoSplit('/x/captions_train2017.json'), 'train2017');
  assert.equal(cocoSplit('/x/person_keypoints_val2014.json'), 'val2014');
  assert.equal(cocoSplit('/x/instances.json'), undefined);
});

test('malformed COCO records are named by file and key path; skip-and-count keeps the rest', async () => {
  const file = join(scratch({
    'instances_x.json': JSON.stringify({
      images: [{ id: 1, file_name: 'a.jpg', width: 4, height: 3 }, { id: 2, file_name: 'b.jpg', width: 0, height: 3 }],
      annotations: [
        { id: 10, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], segmentation: [[0, 0, 2, 0, 2, 2]], iscrowd: 0 },
        { id: 11, image_id: 1, category_id: 1, bbox: [0, 0, 2], segmentation: [], iscrowd: 0 },
        { id: 12, image_id: 7, category_id: 1, bbox: [0, 0, 2, 2], iscrowd: 0 },
        { id: 13, image_id: 1, category_id: 1, bbox: [0, 0, -2, 2], iscrowd: 0 },
        { id: 14, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], segmentation: { size: [4, 4], counts: [16] }, iscrowd: 1 },
        { id: 15, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], segmentation: [[0, 0, 2]], iscrowd: 0 },
        { id: 16, image_id: 1, category_id: 5, bbox: [0, 0, 2, 2], iscrowd: 0 },
        { id: 17, image_id: 1, category_id: 1, bbox: [1, 1, 2, 2], segmentation: [], iscrowd: 0 },
      ],
      categories: [{ id: 1, name: 'thing' }],
    }),
  }), 'instances_x.json');
  await rejectsNaming(() => collect(readCocoInstances(file)), `${file}: images[1]: image size 0×3 is not positive`);
  const bad = new BadRecords('skip', 10);
  const examples = await collect(readCocoInstances(file, { bad, includeCrowd: true }));
  assert.deepEqual(examples.map((e) => [e.id, e.segmentation]), [['10', [[0, 0, 2, 0, 2, 2]]], ['17', undefined]]); // [] is no mask
  assert.deepEqual(bad.examples.map((m) => m.slice(file.length)), [
    ': images[1]: image size 0×3 is not positive',
    ': annotations[1].bbox: expected 4 numbers, got [0,0,2]',
    ': annotations[2].image_id: image 7 is not in the file\'s images',
    ': annotations[3].bbox: box [x, y, w, h] = [0,0,-2,2] has a negative size',
    ': annotations[4].segmentation: segmentation size 4×4 differs from the image\'s 3×4',
    ': annotations[5].segmentation[0]: a polygon needs x, y pairs, got 3 numbers',
    ': annotations[6].category_id: category 5 is not in the file\'s categories',
  ]);
});

test('a json that is no COCO annotation file is named as such', async () => {
  await rejectsNaming(() => readCocoImages(join(SHARED, 'vg-sample/image_data_images1-5.json')), 'image_data_images1-5.json: [0]: expected an object with "images"');
  const noImages = join(scratch({ 'c.json': '{"annotations": []}' }), 'c.json');
  await rejectsNaming(() => readCocoImages(noImages), `${noImages}: no "images" list`);
});

test('fillImageSizes reads unknown sizes from the image headers: they equal the sizes in COCO\'s json', async () => {
  const examples = await collect(readCocoCaptions(join(ANN, 'captions_val2017.json')));
  const unknown = examples.map((e) => ({ ...e, width: 0, height: 0 }));
  const missing = { ...examples[0], id: 'gone', imagePath: '/no/such/image.jpg', width: 0, height: 0 };
  async function* source() {
    yield* unknown;
    yield missing;
  }
  const bad = new BadRecords('skip');
  const filled = await collect(fillImageSizes(source(), bad));
  assert.deepEqual(filled, examples);
  assert.equal(bad.skipped, 1);
  assert.match(bad.examples[0], /^example gone \(coco\/val2017\): cannot read the size of image \/no\/such\/image\.jpg/);
});
