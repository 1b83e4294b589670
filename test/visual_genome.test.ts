// Visual Genome readers on the real v1.0 and v1.2 samples with image_data, densecap-style splits, and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadRecords } from '../src/data/records.ts';
import { readDensecapSplits, readVgImageData, readVgImages, readVgRegions } from '../src/data/readers/visual_genome.ts';
import { collect, rejectsNaming, scratch, SHARED } from './data_helpers.ts';

const VG = join(SHARED, 'vg-sample');
const V10 = join(VG, 'region_descriptions_v1.0_images1-5.json');
const V12 = join(VG, 'region_descriptions_v1.2_images1-5.json');
const IMAGE_DATA = join(VG, 'image_data_images1-5.json');

test('image_data: sizes and the VG_100K / VG_100K_2 folder of each image', async () => {
  const data = await readVgImageData(IMAGE_DATA);
  assert.deepEqual([...data.keys()], ['1', '2', '3', '4', '5']);
  assert.deepEqual(data.get('1'), { width: 800, height: 600, file: 'VG_100K_2/1.jpg' });
  assert.deepEqual(data.get('3'), { width: 640, height: 480, file: 'VG_100K/3.jpg' });
});

test('v1.0 and v1.2 schemas: one regioncap example per region, grouped per image, the same regions where both have them', async () => {
  const imageData = await readVgImageData(IMAGE_DATA);
  const v10 = await collect(readVgImages(V10, { imageData, imageDir: '/vg' }));
  const v12 = await collect(readVgImages(V12, { imageData, imageDir: '/vg' }));
  assert.deepEqual(v10.map((i) => i.regions.length), [265, 256, 259, 258, 250]);
  assert.deepEqual(v12.map((i) => i.regions.length), [262, 256, 255, 257, 248]);
  assert.deepEqual(v12.map((i) => [i.imageId, i.imagePath, i.width, i.height]).slice(0, 2), [['1', '/vg/VG_100K_2/1.jpg', 800, 600], ['2', '/vg/VG_100K/2.jpg', 800, 600]]);
  const first = v12[0].regions[0];
  // {"region_id": 1382, "width": 82, "height": 139, "image_id": 1, "phrase": "the clock is green in colour", "y": 57, "x": 421}
  assert.deepEqual(first, {
    task: 'regioncap', source: 'vg', imageId: '1', imagePath: '/vg/VG_100K_2/1.jpg', width: 800, height: 600,
    id: '1382', text: 'the clock is green in colour', box: [421, 57, 503, 196], references: ['the clock is green in colour'],
  });
  const byId = new Map(v10.flatMap((i) => i.regions).map((r) => [r.id, r]));
  const shared = v12.flatMap((i) => i.regions).filter((r) => byId.has(r.id));
  assert.equal(shared.length, 1269);
  for (const r of shared) assert.deepEqual(byId.get(r.id), r);
  assert.equal((await collect(readVgRegions(V10))).length, 1288);
});

test('densecap splits name each image\'s split; images in no split are left out; `only` keeps some splits', async () => {
  const dir = scratch({ 'densecap_splits.json': JSON.stringify({ train: [1, 2], val: [3], test: [4] }) });
  const splits = await readDensecapSplits(join(dir, 'densecap_splits.json'));
  const images = await collect(readVgImages(V12, { splits }));
  assert.deepEqual(images.map((i) => [i.imageId, i.split, i.regions[0].source]), [['1', 'train', 'vg/train'], ['2', 'train', 'vg/train'], ['3', 'val', 'vg/val'], ['4', 'test', 'vg/test']]);
  const test4 = await collect(readVgRegions(V12, { splits, only: ['test'] }));
  assert.equal(test4.length, 257);
});

test('malformed regions and images are named by key path; skip-and-count keeps the rest', async () => {
  const raw = JSON.parse(readFileSync(V12, 'utf8')) as { id: number; regions: Record<string, unknown>[] }[];
  const images = raw.slice(0, 2);
  images[0].regions = images[0].regions.slice(0, 4);
  images[0].regions[1].width = 0;
  delete images[0].regions[2].phrase;
  images[0].regions[3].image_id = 2;
  images[1].regions = images[1].regions.slice(0, 2);
  images[1].id = 99;
  const path = join(scratch({ 'r.json': JSON.stringify(images) }), 'r.json');
  const imageData = await readVgImageData(IMAGE_DATA);
  await rejectsNaming(() => collect(readVgRegions(path, { imageData })), `${path}: [0].regions[1]: region size 0×109 is not positive`);
  const bad = new BadRecords('skip');
  assert.equal((await collect(readVgRegions(path, { imageData, bad }))).length, 1);
  assert.deepEqual(bad.examples.map((m) => m.slice(path.length)), [
    ': [0].regions[1]: region size 0×109 is not positive',
    ': [0].regions[2].phrase: missing (expected a string)',
    ': [0].regions[3].image_id: region of image 2 listed under image 1',
    ': [1].id: image 99 is not in image_data',
  ]);
});
