// Dataset statistics on hand-made examples, format detection on every real sample, and `pixelllm data stats`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { main } from '../src/cli/main.ts';
import { detectFormat, findDatasets } from '../src/data/formats.ts';
import { DatasetStats } from '../src/data/stats.ts';
import type { Example } from '../src/data/types.ts';
import { scratch, SHARED } from './data_helpers.ts';

const base = { source: 's/train', id: '', imagePath: '', width: 0, height: 0 };

test('DatasetStats: counts, histograms, boxes per image (one object\'s sentences once), box sizes, utterances', () => {
  const stats = new DatasetStats();
  const examples: Example[] = [
    { ...base, task: 'caption', imageId: 'A', text: 'a b  c', references: ['x', 'y'] },
    { ...base, task: 'refer', imageId: 'A', width: 640, height: 480, text: 'left', box: [0, 0, 32, 32], references: ['left', 'the left one'], segmentation: [[0, 0, 1, 0, 1, 1]] },
    { ...base, task: 'refer', imageId: 'A', width: 640, height: 480, text: 'the left one', box: [0, 0, 32, 32], references: ['left', 'the left one'] },
    { ...base, source: 's/val', task: 'regioncap', imageId: 'B', width: 100, height: 100, text: 'a big dog', box: [0, 0, 50, 50], segmentation: { size: [100, 100], counts: 'PP' } },
    { ...base, source: 's/val', task: 'regioncap', imageId: 'B', width: 100, height: 100, text: '', box: [90, 90, 102, 90] },
    {
      ...base, task: 'trace', imageId: 'C', text: 'one two three', utterances: [
        { utterance: 'one', box: [0, 0, 1, 1], center: [0.5, 0.5] },
        { utterance: ' ', box: [0, 0, 1, 1], center: [0.5, 0.5] }, // blank: not matchable
        { utterance: 'three', box: [0, 0, 1, 1], center: [0.5, 0] }, // centre on the edge: not matchable
      ],
    },
  ];
  for (const e of examples) stats.add(e);
  const s = stats.summary();
  assert.equal(s.examples, 6);
  assert.equal(s.images, 3);
  assert.equal(s.imagesWithSize, 2);
  assert.deepEqual(s.tasks, { refer: 2, regioncap: 2, caption: 1, trace: 1 });
  assert.deepEqual(s.sources, { 's/train': 4, 's/val': 2 });
  // words: 3, 1, 3, 3, 0, 3 → sorted 0 1 3 3 3 3: median 3, mean 13/6
  assert.deepEqual(s.textWords, { count: 6, min: 0, median: 3, mean: 2.167, max: 3, histogram: { 0: 1, 1: 1, 2: 0, '3-4': 4 } });
  assert.deepEqual(s.referencesPerExample!.histogram, { 2: 3 });
  // A: one object (two sentences of one box), B: two boxes, C: none → 1, 2, 0
  assert.deepEqual(s.boxesPerImage, { count: 3, min: 0, median: 1, mean: 1, max: 2, histogram: { 0: 1, 1: 1, 2: 1 } });
  // areas 32² = 1024 (not < 32²: medium), 50² = 2500 (medium), 12 × 0 = 0 (small)
  assert.deepEqual(s.boxArea, { small: 1, medium: 2, large: 0 });
  // sqrt(1024 / 307200) = 0.0577, sqrt(2500 / 10000) = 0.5, 0
  assert.deepEqual(s.boxRelativeSide, { count: 3, min: 0, median: 0.058, mean: 0.186, max: 0.5, histogram: { '0-0.05': 1, '0.05-0.1': 1, '0.1-0.2': 0, '0.2-0.4': 0, '0.4-0.6': 1 } });
  assert.deepEqual(s.boxProblems, { empty: 1, outside: 1 }); // [90, 90, 102, 90] is empty and reaches x = 102 > 100 + 1
  assert.deepEqual(s.masks, { polygons: 1, rle: 1 });
  assert.equal(s.utterancesPerNarrative!.mean, 3);
  assert.equal(s.validUtteranceFraction, 0.333);
});

test('every real sample is recognised by its content', async () => {
  const expected: Record<string, string | undefined> = {
    'localized-narratives/derived_image_ln_style.jsonl': 'localized-narratives',
    'localized-narratives/vidln_sample_combined.jsonl': 'video-narratives',
    'refcoco-sample/refcoco_sample_refs.json': 'refer-embedded',
    'coco-mini/annotations/captions_val2017.json': 'coco-captions',
    'coco-mini/annotations/instances_train2017.json': 'coco-instances',
    'vg-sample/region_descriptions_v1.0_images1-5.json': 'vg-regions',
    'vg-sample/region_descriptions_v1.2_images1-5.json': 'vg-regions',
    'vg-sample/image_data_images1-5.json': 'vg-image-data',
    'caption-eval/coco-mini-loo-golden.json': undefined,
    'tokenizers/bert-base-uncased/vocab.txt': undefined,
  };
  for (const [file, format] of Object.entries(expected)) assert.equal(await detectFormat(join(SHARED, file)), format, file);
  assert.equal(await detectFormat(new URL('./data/refer/refcoco/refs(google).p', import.meta.url).pathname), 'refer-pickle');
  const splits = join(scratch({ 'densecap_splits.json': '{"train": [1, 2], "val": [3]}' }), 'densecap_splits.json');
  assert.equal(await detectFormat(splits), 'densecap-splits');
});

test('findDatasets pairs VG regions with image_data and lists what it cannot read', async () => {
  const { datasets, skipped } = await findDatasets(SHARED);
  assert.deepEqual(datasets.map((d) => [d.path.slice(SHARED.length + 1), d.format, d.with.map((w) => w.slice(SHARED.length + 1))]), [
    ['coco-mini/annotations/captions_train2017.json', 'coco-captions', []],
    ['coco-mini/annotations/captions_val2017.json', 'coco-captions', []],
    ['coco-mini/annotations/instances_train2017.json', 'coco-instances', []],
    ['coco-mini/annotations/instances_val2017.json', 'coco-instances', []],
    ['localized-narratives/derived_image_ln_style.jsonl', 'localized-narratives', []],
    ['localized-narratives/vidln_sample_combined.jsonl', 'video-narratives', []],
    ['refcoco-sample/refcoco_sample_refs.json', 'refer-embedded', []],
    ['vg-sample/region_descriptions_v1.0_images1-5.json', 'vg-regions', ['vg-sample/image_data_images1-5.json']],
    ['vg-sample/region_descriptions_v1.2_images1-5.json', 'vg-regions', ['vg-sample/image_data_images1-5.json']],
  ]);
  assert.deepEqual(skipped, [`${join(SHARED, 'caption-eval/coco-mini-loo-golden.json')} (not a supported format)`]);
  // a lone companion file stands for the dataset it belongs to
  const lone = await findDatasets(join(SHARED, 'vg-sample/image_data_images1-5.json'));
  assert.equal(lone.datasets.length, 2);
});

/** Runs the CLI, returning its exit code and what it printed. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

test('`pixelllm data stats` on the samples folder: text and JSON', async () => {
  const json = await cli('data', 'stats', SHARED, '--json');
  assert.equal(json.code, 0);
  const report = JSON.parse(json.out) as { datasets: { path: string; summary: { examples: number; images: number }; dropped: Record<string, number> }[] };
  const byName = Object.fromEntries(report.datasets.map((d) => [d.path.slice(SHARED.length + 1), d]));
  const examples = Object.fromEntries(Object.entries(byName).map(([k, d]) => [k, [d.summary.examples, d.summary.images]]));
  assert.deepEqual(examples, {
    'coco-mini/annotations/captions_train2017.json': [100, 20],
    'coco-mini/annotations/captions_val2017.json': [105, 21],
    'coco-mini/annotations/instances_train2017.json': [277, 20],
    'coco-mini/annotations/instances_val2017.json': [187, 21],
    'localized-narratives/derived_image_ln_style.jsonl': [7, 7],
    'localized-narratives/vidln_sample_combined.jsonl': [22, 17],
    'refcoco-sample/refcoco_sample_refs.json': [35, 1],
    'vg-sample/region_descriptions_v1.0_images1-5.json': [1288, 5],
    'vg-sample/region_descriptions_v1.2_images1-5.json': [1278, 5],
  });
  assert.deepEqual(byName['coco-mini/annotations/instances_val2017.json'].dropped, { 'crowd region': 2 });
  const text = await cli('data', 'stats', join(SHARED, 'localized-narratives/derived_image_ln_style.jsonl'));
  assert.equal(text.code, 0);
  assert.match(text.out, /examples {18}7 \(trace 7\)/);
  assert.match(text.out, /utterances per narrative {2}min 10 {2}median 13 {2}mean 16\.857 {2}max 39/);
});

test('`pixelllm data stats` errors: usage, a missing path, and --strict on a malformed record', async () => {
  assert.equal((await cli('data')).code, 2);
  const missing = await cli('data', 'stats', '/no/such/dataset');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /\/no\/such\/dataset: cannot read: no such file/);
  const file = join(scratch({ 'ln.jsonl': '{"dataset_id": "x", "image_id": "1", "annotator_id": 1, "caption": "a", "timed_caption": [], "traces": 5}\n' }), 'ln.jsonl');
  const strict = await cli('data', 'stats', file, '--strict');
  assert.equal(strict.code, 2);
  assert.match(strict.err, /ln\.jsonl:1: traces: expected a list, got 5/);
  const lenient = await cli('data', 'stats', file);
  assert.equal(lenient.code, 0);
  assert.match(lenient.out, /malformed records {9}1\n {28}.*ln\.jsonl:1: traces: expected a list, got 5/);
  assert.equal((await cli('data', 'stats', file, '--bogus')).code, 2);
});
