// The files `pixelllm synth` writes: each parses as its published format (schemas of the real files), agrees with the
// others (ids, splits, boxes = mask extents, masks decoded with the COCO codec), the LN traces hold up when read from
// disk, and the output is the same for the same seed whatever N.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { synthesize } from '../src/data/synth/run.ts';
import { FILES, CATEGORIES } from '../src/data/synth/writers.ts';
import { labelRles } from '../src/data/synth/rle.ts';
import { synthImage } from '../src/data/synth/generate.ts';
import { decodeRle, encodeBitmap, rleArea, rleToBbox, segmentationToRle } from '../src/data/mask.ts';
import { pickle } from '../src/data/pickle_writer.ts';
import { readPickle, type PickleValue } from '../src/data/pickle.ts';
import { BadRecords } from '../src/data/records.ts';
import { readCocoCaptions, readCocoImages } from '../src/data/readers/coco.ts';
import { readLocalizedNarratives } from '../src/data/readers/localized_narratives.ts';
import { readReferPickle } from '../src/data/readers/refcoco.ts';
import { readDensecapSplits, readVgImageData, readVgRegions } from '../src/data/readers/visual_genome.ts';
import { main } from '../src/cli/main.ts';
import { SHAPES } from '../src/data/synth/vocab.ts';
import { utteranceTargets } from '../src/data/trace_targets.ts';

const root = mkdtempSync(join(tmpdir(), 'pixelllm-synth-'));
const dir = join(root, 'a');
const N = 24;
const json = (path: string): any => JSON.parse(readFileSync(join(dir, path), 'utf8')); // eslint-disable-line @typescript-eslint/no-explicit-any
const keys = (o: object): string[] => Object.keys(o).sort();

before(async () => {
  await synthesize({ out: dir, n: N, seed: 5 });
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('synth output files', () => {
  test('the manifest counts what the files hold; every image decodes at its recorded size', async () => {
    const m = json(FILES.manifest);
    assert.equal(m.seed, 5);
    assert.equal(m.n, N);
    assert.equal(m.generator_version, 1);
    const inst = json(FILES.instances);
    assert.equal(inst.images.length, N);
    assert.equal(m.counts.images.train + m.counts.images.val + m.counts.images.test, N);
    assert.equal(inst.annotations.length, m.counts.objects);
    assert.equal(readdirSync(join(dir, 'images')).length, N);
    for (const im of inst.images) {
      const meta = await sharp(join(dir, 'images', im.file_name)).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.deepEqual([meta.width, meta.height], [im.width, im.height]);
    }
    assert.equal(readdirSync(dir).filter((f) => f.includes('.tmp-')).length, 0, 'no staged files are left');
  });

  test('Localized Narratives jsonl: the image LN schema, utterances are the caption\'s words, traces in fractions', () => {
    const inst = json(FILES.instances);
    const byId = new Map<number, { width: number; height: number }>(inst.images.map((im: any) => [im.id, im])); // eslint-disable-line @typescript-eslint/no-explicit-any
    const ann = inst.annotations as { image_id: number; category_id: number; bbox: number[] }[];
    let lines = 0;
    for (const split of ['train', 'val', 'test'] as const) {
      for (const line of readFileSync(join(dir, FILES.narratives(split)), 'utf8').split('\n').filter(Boolean)) {
        lines++;
        const r = JSON.parse(line);
        assert.deepEqual(keys(r), ['annotator_id', 'caption', 'dataset_id', 'image_id', 'timed_caption', 'traces']);
        assert.equal(r.dataset_id, `synth_${split}`);
        assert.equal(typeof r.image_id, 'string');
        assert.ok(Number.isInteger(r.annotator_id));
        const words = r.caption.split(' ').map((w: string) => w.replace(/[,.]$/, ''));
        assert.deepEqual(r.timed_caption.map((u: { utterance: string }) => u.utterance), words);
        for (const u of r.timed_caption) {
          assert.deepEqual(keys(u), ['end_time', 'start_time', 'utterance']);
          assert.ok(u.end_time > u.start_time);
        }
        for (const seg of r.traces) for (const p of seg) assert.deepEqual(keys(p), ['t', 'x', 'y']);
        // from the files alone, by the project's LN targets: every shape noun's trace box overlaps an instance of that shape
        const { width, height } = byId.get(Number(r.image_id))!;
        const targets = utteranceTargets(r.traces.flat(), r.timed_caption);
        for (const [k, u] of r.timed_caption.entries()) {
          const category = SHAPES.indexOf(u.utterance.toLowerCase()) + 1;
          if (category === 0) continue;
          const { box } = targets[k]!;
          const hit = ann.some((a) => a.image_id === Number(r.image_id) && a.category_id === category
            && box[0]! * width < a.bbox[0]! + a.bbox[2]! && box[2]! * width > a.bbox[0]! && box[1]! * height < a.bbox[1]! + a.bbox[3]! && box[3]! * height > a.bbox[1]!);
          assert.ok(hit, `image ${r.image_id}: the trace of '${u.utterance}' overlaps no ${u.utterance}`);
        }
      }
    }
    assert.equal(lines, N);
  });

  test('COCO instances: RLE masks decode with the COCO codec; bbox is the mask\'s extent, area its pixel count', () => {
    const inst = json(FILES.instances);
    assert.deepEqual(keys(inst), ['annotations', 'categories', 'images', 'info', 'licenses']);
    assert.deepEqual(inst.categories, CATEGORIES);
    const size = new Map<number, [number, number]>(inst.images.map((im: any) => [im.id, [im.height, im.width]])); // eslint-disable-line @typescript-eslint/no-explicit-any
    const ids = new Set<number>();
    for (const a of inst.annotations) {
      assert.deepEqual(keys(a), ['area', 'bbox', 'category_id', 'id', 'image_id', 'iscrowd', 'segmentation']);
      assert.ok(!ids.has(a.id));
      ids.add(a.id);
      const [h, w] = size.get(a.image_id)!;
      const rle = segmentationToRle(a.segmentation, h, w);
      const mask = decodeRle(rle);
      let [x0, y0, x1, y1] = [Infinity, Infinity, -1, -1];
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) if (mask.data[y * w + x]) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      }
      assert.deepEqual(a.bbox, [x0, y0, x1 - x0 + 1, y1 - y0 + 1], `annotation ${a.id}`);
      assert.deepEqual(rleToBbox(rle), a.bbox);
      assert.equal(rleArea(rle), a.area);
    }
  });

  test('refs(synth).p: the refer toolkit\'s pickled refs, pointing at the instances, each sentence unique to its object', () => {
    const refs = readPickle(readFileSync(join(dir, FILES.refs))) as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    const inst = json(FILES.instances);
    const anns = new Map<number, any>(inst.annotations.map((a: any) => [a.id, a])); // eslint-disable-line @typescript-eslint/no-explicit-any
    const images = new Map<number, any>(inst.images.map((im: any) => [im.id, im])); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(refs.length, json(FILES.manifest).counts.refs);
    const sentIds = new Set<number>();
    const perImage = new Map<number, Map<string, number>>();
    for (const r of refs) {
      assert.deepEqual(keys(r), ['ann_id', 'category_id', 'file_name', 'image_id', 'ref_id', 'sent_ids', 'sentences', 'split']);
      const a = anns.get(r.ann_id);
      assert.ok(a, `ref ${r.ref_id} points at missing annotation ${r.ann_id}`);
      assert.equal(a.image_id, r.image_id);
      assert.equal(a.category_id, r.category_id);
      assert.equal(r.file_name, images.get(r.image_id).file_name.replace('.jpg', `_${r.ann_id}.jpg`));
      assert.deepEqual(r.sent_ids, r.sentences.map((s: { sent_id: number }) => s.sent_id));
      const texts = perImage.get(r.image_id) ?? new Map<string, number>();
      perImage.set(r.image_id, texts);
      for (const s of r.sentences) {
        assert.deepEqual(keys(s), ['raw', 'sent', 'sent_id', 'tokens']);
        assert.deepEqual(s.tokens, s.sent.split(' '));
        assert.ok(!sentIds.has(s.sent_id));
        sentIds.add(s.sent_id);
        assert.ok(!texts.has(s.sent) || texts.get(s.sent) === r.ann_id, `image ${r.image_id}: "${s.sent}" refers to two objects`);
        texts.set(s.sent, r.ann_id);
      }
    }
    const splits = json(FILES.densecapSplits);
    for (const r of refs) assert.ok(splits[r.split].includes(r.image_id), `ref ${r.ref_id} split ${r.split}`);
  });

  test('Visual Genome regions (v1.2 schema) are the instance boxes with their captions; splits agree across formats', () => {
    const regions = json(FILES.regions);
    const imageData = json(FILES.imageData);
    const inst = json(FILES.instances);
    const splits = json(FILES.densecapSplits);
    assert.deepEqual(keys(splits), ['test', 'train', 'val']);
    const boxes = new Set(inst.annotations.map((a: { image_id: number; bbox: number[] }) => `${a.image_id}:${a.bbox.join(',')}`));
    assert.equal(regions.length, N);
    for (const entry of regions) {
      assert.deepEqual(keys(entry), ['id', 'regions']);
      for (const r of entry.regions) {
        assert.deepEqual(keys(r), ['height', 'image_id', 'phrase', 'region_id', 'width', 'x', 'y']);
        assert.ok(boxes.has(`${r.image_id}:${[r.x, r.y, r.width, r.height].join(',')}`), `region ${r.region_id} is no object's box`);
        assert.match(r.phrase, /^(small|medium|large) \w+ (\w+ )?\w+$/);
      }
    }
    for (const im of imageData) {
      assert.deepEqual(keys(im), ['coco_id', 'flickr_id', 'height', 'image_id', 'url', 'width']);
      assert.equal(im.url, `images/${im.image_id}.jpg`);
    }
    for (const split of ['train', 'val', 'test'] as const) {
      const caps = json(FILES.captions(split));
      assert.deepEqual(keys(caps), ['annotations', 'images', 'info', 'licenses']);
      assert.deepEqual(caps.images.map((im: { id: number }) => im.id), splits[split]);
      assert.equal(caps.annotations.length, 5 * caps.images.length);
      for (const c of caps.annotations) assert.deepEqual(keys(c), ['caption', 'id', 'image_id']);
      const ln = readFileSync(join(dir, FILES.narratives(split)), 'utf8').split('\n').filter(Boolean).map((l) => Number(JSON.parse(l).image_id));
      assert.deepEqual(ln, splits[split]);
    }
  });

  test('the project\'s readers read every file without a complaint, and every example\'s image file exists', async () => {
    const imageDir = join(dir, 'images');
    const bad = new BadRecords('stop');
    const counts = json(FILES.manifest).counts;
    const seen = new Set<string>();
    const check = (ex: { imagePath: string; width: number; height: number; box?: number[] }): void => {
      if (!seen.has(ex.imagePath)) assert.ok(existsSync(ex.imagePath), `${ex.imagePath} is missing`);
      seen.add(ex.imagePath);
      assert.ok(ex.width > 0 && ex.height > 0);
    };
    const { images } = await readCocoImages(join(dir, FILES.instances), bad);
    let narratives = 0;
    let captions = 0;
    for (const split of ['train', 'val', 'test'] as const) {
      for await (const ex of readLocalizedNarratives(join(dir, FILES.narratives(split)), { imageDir, imageSizes: images, bad })) {
        check(ex);
        assert.equal(ex.utterances!.length, ex.text.split(' ').length);
        narratives++;
      }
      for await (const ex of readCocoCaptions(join(dir, FILES.captions(split)), { imageDir, bad })) {
        check(ex);
        captions++;
      }
    }
    let expressions = 0;
    for await (const ex of readReferPickle(join(dir, FILES.refs), { imageDir, bad })) {
      check(ex);
      expressions++;
    }
    let regions = 0;
    const imageData = await readVgImageData(join(dir, FILES.imageData), bad);
    const splits = await readDensecapSplits(join(dir, FILES.densecapSplits));
    for await (const ex of readVgRegions(join(dir, FILES.regions), { imageDir, imageData, splits, bad })) {
      check(ex);
      regions++;
    }
    assert.deepEqual([narratives, captions, expressions, regions], [counts.narratives, counts.captions, counts.sentences, counts.regions]);
    assert.equal(seen.size, N);
    assert.equal(bad.skipped, 0);
  });

  test('the same seed writes the same bytes; the first images do not depend on N', async () => {
    const b = join(root, 'b');
    const c = join(root, 'c');
    await synthesize({ out: b, n: N, seed: 5 });
    await synthesize({ out: c, n: 10, seed: 5 });
    const files = (d: string): string[] => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      .map((e) => join(e.parentPath ?? e.path, e.name).slice(d.length + 1)).sort();
    assert.deepEqual(files(b), files(dir));
    for (const f of files(dir)) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(b, f))), `${f} differs between two runs`);
    for (const f of files(c).filter((f) => f.startsWith('images/'))) assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(c, f))), f);
    const firstLines = (d: string): string[] => readFileSync(join(d, FILES.narratives('train')), 'utf8').split('\n').slice(0, 5);
    assert.deepEqual(firstLines(c), firstLines(dir));
  });
});

describe('synth building blocks', () => {
  test('labelRles gives exactly encodeBitmap\'s RLE for every object of a label map', () => {
    for (const index of [0, 3, 9]) {
      const { layout } = synthImage(index, { seed: 2 });
      const { width, height, labels } = layout;
      const fast = labelRles(labels, width, height, layout.things.length);
      for (const t of layout.things) {
        const data = Uint8Array.from(labels, (l) => (l === t.index ? 1 : 0));
        assert.deepEqual(fast[t.index], encodeBitmap({ width, height, data }));
      }
    }
    // hand-made 2×3 map, column-major [0, 1, −1, 0, 1, 1]: object 0 at positions 0 and 3, object 1 at 1, 4, 5
    const tiny = Int8Array.from([0, -1, 1, 1, 0, 1]);
    assert.deepEqual(labelRles(tiny, 3, 2, 2).map((r) => r.counts), [[0, 1, 2, 1, 2], [1, 1, 2, 2]]);
  });

  test('pickle bytes are CPython\'s pickle.dumps(..., protocol=2) for a refs-like value', () => {
    const value: PickleValue = [{ ref_id: 1, split: 'train', sentences: [{ tokens: ['the', 'red', 'circle'], raw: 'the red circle', sent_id: 70000, sent: 'the red circle' }], big: 5000000000, neg: -3, f: 0.5, n: null, t: true, e: [], one: [7] }, { ref_id: 300, split: 'train', sentences: [], big: -5000000000 }];
    // python3 -c "import pickle; print(pickle.dumps(<the same value>, protocol=2).hex())"
    const cpython = '80025d7100287d71012858060000007265665f696471024b01580500000073706c697471035805000000747261696e7104580900000073'
      + '656e74656e63657371055d71067d7107285806000000746f6b656e7371085d7109285803000000746865710a5803000000726564710b58'
      + '06000000636972636c65710c655803000000726177710d580e0000007468652072656420636972636c65710e580700000073656e745f69'
      + '64710f4a70110100580400000073656e747110680e7561580300000062696771118a0500f2052a0158030000006e656771124afdffffff'
      + '5801000000667113473fe000000000000058010000006e71144e58010000007471158858010000006571165d711758030000006f6e6571'
      + '185d71194b0761757d711a2868024d2c016803680468055d711b68118a05000efad5fe75652e';
    assert.equal(pickle(value).toString('hex'), cpython);
    assert.deepEqual(readPickle(pickle(value)), value);
  });

  test('the synth command refuses a missing --out, a bad --size and a non-empty folder (exit 2), and writes with --size', async () => {
    const log = console.error;
    console.error = () => {};
    try {
      assert.equal(await main(['synth', '--n', '2']), 2);
      assert.equal(await main(['synth', '--out', join(root, 'x'), '--n', '2', '--size', '20x20']), 2);
      assert.equal(await main(['synth', '--out', join(root, 'x'), '--n', 'two']), 2);
      const full = join(root, 'full');
      mkdirSync(full);
      writeFileSync(join(full, 'keep.txt'), 'mine');
      assert.equal(await main(['synth', '--out', full, '--n', '2']), 2);
      assert.equal(await main(['synth', '--out', join(full, 'keep.txt'), '--n', '2']), 2);
      assert.equal(await main(['synth', '--out', join(full, 'keep.txt', 'below'), '--n', '2']), 2);
      assert.equal(readFileSync(join(full, 'keep.txt'), 'utf8'), 'mine');
    } finally {
      console.error = log;
    }
    const out = join(root, 'sized');
    const print = console.log;
    console.log = () => {};
    try {
      assert.equal(await main(['synth', '--out', out, '--n', '3', '--seed', '9', '--size', '200x120']), 0);
    } finally {
      console.log = print;
    }
    const inst = JSON.parse(readFileSync(join(out, FILES.instances), 'utf8'));
    for (const im of inst.images) assert.deepEqual([im.width, im.height], [200, 120]);
  });
});
