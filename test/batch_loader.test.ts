// The batch loader on coco-mini images: tensor contents against the single-image path and the geometry, the same
// batches with 0, 1 and 2 workers, resume, errors from a worker naming the file, and a clean exit.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { BatchError, BatchLoader, textTokenizer, type Batch, type LoaderOptions, type Source } from '../src/data/batch/index.ts';
import { ImageError, NO_AUGMENT, mapBox, prepareImage } from '../src/data/image/index.ts';
import type { Example } from '../src/data/types.ts';
import { COCO, cocoCaptions, cocoNarratives, cocoRefs, wordTokenizer } from './batch_fixtures.ts';
import { loadTokenizer } from '../src/data/tokenizers/index.ts';

const S = 64;
const captions = cocoCaptions();
const refs = cocoRefs();
const narratives = cocoNarratives();

const sources = (): Source[] => [
  { name: 'captions', task: 'caption', weight: 2, examples: captions, shuffleBuffer: 20 },
  { name: 'refs', task: 'refer', weight: 1, examples: refs, shuffleBuffer: 20, augment: { scale: [0.75, 1.5], flip: 0.5, swapLeftRight: true } },
  { name: 'narratives', task: 'trace', weight: 1, examples: narratives },
];

const options = (over: Partial<LoaderOptions> = {}): LoaderOptions =>
  ({ sources: sources(), batchSize: 3, imageSize: S, tokenizer: wordTokenizer, seed: 9, ...over });

async function take(loader: BatchLoader, n: number): Promise<Batch[]> {
  const out: Batch[] = [];
  for (let i = 0; i < n; i++) {
    const r = await loader.next();
    assert.ok(!r.done);
    out.push(r.value);
  }
  return out;
}

/** A batch as plain data (tensors as arrays), to compare exactly. */
function plain(b: Batch): unknown {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v && typeof v === 'object' && 'shape' in v ? [v.shape, [...v.values()]]
    : k === 'images' ? Object.fromEntries(Object.entries(v as object).map(([n, t]) => [n, [...t.values()]])) : v]));
}

describe('batch loader', () => {
  test('the same batches with 0, 1 and 2 workers, and with a different prefetch', async () => {
    const runs: unknown[][] = [];
    for (const [workers, prefetch] of [[0, 2], [1, 1], [2, 5]] as const) {
      const loader = new BatchLoader(options({ workers, prefetch }));
      runs.push((await take(loader, 8)).map(plain));
      await loader.close();
    }
    assert.ok(new Set(runs[0]!.map((b) => (b as Batch).task)).size === 3, 'the 8 batches cover the three tasks');
    assert.deepEqual(runs[1], runs[0], '1 worker vs main thread');
    assert.deepEqual(runs[2], runs[0], '2 workers vs main thread');
  });

  test('batch contents: tokens, boxes, traces, masks and images agree with their sources', async () => {
    const loader = new BatchLoader(options({ workers: 2 }));
    const seen = new Set<string>();
    let checkedMasks = 0;
    for (const b of await take(loader, 12)) {
      seen.add(b.task);
      const B = b.ids.length;
      const T = b.tokens.shape[1]!;
      assert.deepEqual(b.images.clip!.shape, [B, 3, S, S]);
      assert.deepEqual(b.images.sam!.shape, [B, 3, S, S]);
      const tokens = b.tokens.values();
      const tmask = b.tokenMask.values();
      const valid = b.validSize.values();
      const pad = b.paddingMask.values();
      const sam = b.images.sam!.values();
      for (let i = 0; i < B; i++) {
        // BOS + text + EOS, then pad; the mask covers exactly the real positions
        const ids = [1, ...wordTokenizer.encode(b.texts[i]!), 2].slice(0, 128);
        assert.deepEqual([...tokens.slice(i * T, i * T + ids.length)], ids);
        for (let t = 0; t < T; t++) assert.equal(tmask[i * T + t], t < ids.length ? 1 : 0);
        for (let t = ids.length; t < T; t++) assert.equal(tokens[i * T + t], 0);
        // the padding mask is the valid rectangle, and the images are zero outside it
        const [vw, vh] = [valid[i * 2]!, valid[i * 2 + 1]!];
        for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
          const inside = x < vw && y < vh;
          assert.equal(pad[(i * S + y) * S + x], inside ? 1 : 0);
          if (!inside) for (let c = 0; c < 3; c++) assert.equal(sam[((i * 3 + c) * S + y) * S + x], 0);
        }
        const whole = [0, 0, vw, vh];
        const ex = findExample(b, i);
        if (b.task === 'refer') {
          assert.equal(b.prompts[i], `where is ${b.texts[i]}`);
          assert.deepEqual([...b.promptBoxes.values()].slice(i * 4, i * 4 + 4), whole);
        }
        if (b.task === 'trace') {
          const mask = b.traceMask!.values();
          assert.ok(mask.slice(i * T, (i + 1) * T).some((v) => v === 1), 'a narrative token has a target');
          assert.equal(mask[i * T], 0, 'BOS has no target');
          // each target is one of the utterance boxes, moved onto the canvas (no augmentation for narratives: a pure scale)
          assert.equal(b.flipped.values()[i], 0);
          const g = geometryOf(b, i, ex);
          const allowed = ex.utterances!.map((u) => JSON.stringify(mapBox(g, [roundEven(u.box[0] * ex.width), roundEven(u.box[1] * ex.height),
            roundEven(u.box[2] * ex.width), roundEven(u.box[3] * ex.height)]).map((v) => Math.fround(v))));
          const boxes = b.traceBoxes!.values();
          for (let t = 0; t < T; t++) if (mask[i * T + t]) assert.ok(allowed.includes(JSON.stringify([...boxes.slice((i * T + t) * 4, (i * T + t) * 4 + 4)])), `token ${t}`);
        }
      }
      if (b.task === 'refer') {
        assert.ok(b.masks && b.maskValid, 'refer batches carry masks');
        const boxes = b.boxes.values();
        const masks = b.masks.values();
        for (let i = 0; i < B; i++) {
          if (!b.boxValid.values()[i]) continue;
          // the COCO box is the polygons' extent, and both moved the same way: the mask lies inside the box (±1 px),
          // and a box of some size has mask pixels
          const [x0, y0, x1, y1] = [...boxes.slice(i * 4, i * 4 + 4)] as [number, number, number, number];
          let area = 0;
          for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
            if (!masks[(i * S + y) * S + x]) continue;
            area++;
            assert.ok(x + 0.5 > x0 - 1 && x + 0.5 < x1 + 1 && y + 0.5 > y0 - 1 && y + 0.5 < y1 + 1, `mask pixel ${x},${y} outside box ${[x0, y0, x1, y1]}`);
          }
          if ((x1 - x0) * (y1 - y0) > 30) assert.ok(area > 0, `no mask pixel in box ${[x0, y0, x1, y1]}`);
          checkedMasks++;
        }
      }
    }
    assert.deepEqual([...seen].sort(), ['caption', 'refer', 'trace']);
    assert.ok(checkedMasks >= 3, `masks checked ${checkedMasks}`);
    await loader.close();
  });

  test('an unaugmented image in a batch equals prepareImage of its file', async () => {
    const loader = new BatchLoader(options({ workers: 1, sources: [{ name: 'c', task: 'caption', weight: 1, examples: captions, augment: NO_AUGMENT }] }));
    const [b] = await take(loader, 1);
    await loader.close();
    const ex = captions.find((c) => c.id === b!.ids[1])!;
    const p = await prepareImage(ex.imagePath, { size: S });
    assert.deepEqual([...b!.images.clip!.values().slice(3 * S * S, 6 * S * S)], [...p.pixels.clip!.values()]);
    assert.deepEqual([...b!.validSize.values().slice(2, 4)], [p.validWidth, p.validHeight]);
  });

  test('resume: a loader restored from state() continues with the same batches', async () => {
    const a = new BatchLoader(options({ workers: 1 }));
    const first = await take(a, 3);
    const state = a.state();
    const more = await take(a, 3);
    await a.close();
    assert.equal(state.batches, 3);
    const b = new BatchLoader(options({ workers: 2, resume: JSON.parse(JSON.stringify(state)) }));
    const resumed = await take(b, 3);
    await b.close();
    assert.deepEqual(resumed.map(plain), more.map(plain));
    assert.notDeepEqual(plain(first[0]!), plain(more[0]!));
  });

  test('a refused resume state fails the first batch, not the process, even when the caller awaits something first', async () => {
    const state = { ...new BatchLoader(options({ workers: 0 })).state(), seed: 12345 };
    const loader = new BatchLoader(options({ workers: 0, resume: state }));
    await new Promise((r) => setTimeout(r, 20)); // an unhandled rejection would end the test process here
    await assert.rejects(loader.next(), /seed 12345/);
    await loader.close();
  });

  test('an evaluation pass gives each example once and then ends', async () => {
    const loader = new BatchLoader(options({ workers: 2, mode: 'eval', batchSize: 4, sources: [
      { name: 'c', task: 'caption', weight: 1, examples: captions.slice(0, 10) },
      { name: 'r', task: 'refer', weight: 1, examples: refs.slice(0, 7) },
    ] }));
    const got: Batch[] = [];
    for await (const b of loader) got.push(b);
    assert.deepEqual(got.map((b) => [b.task, b.ids.length, b.images.clip!.shape[0]]),
      [['caption', 4, 4], ['caption', 4, 4], ['caption', 2, 2], ['refer', 4, 4], ['refer', 3, 3]]);
    assert.deepEqual(got.flatMap((b) => b.ids), [...captions.slice(0, 10), ...refs.slice(0, 7)].map((e) => e.id));
    assert.equal((await loader.next()).done, true);
  });

  test('examples without a size get it from the image header: the same batches', async () => {
    const unsized = captions.map((c) => ({ ...c, width: 0, height: 0 }));
    const known = new BatchLoader(options({ workers: 1, sources: [{ name: 'c', task: 'caption', weight: 1, examples: captions }] }));
    const read = new BatchLoader(options({ workers: 1, sources: [{ name: 'c', task: 'caption', weight: 1, examples: unsized }] }));
    assert.deepEqual((await take(read, 2)).map(plain), (await take(known, 2)).map(plain));
    await Promise.all([known.close(), read.close()]);
  });

  test('with the real BERT tokenizer: [CLS] text [SEP] then [PAD], as the reference tokenizes', async () => {
    const bert = textTokenizer(loadTokenizer(join(COCO, '../tokenizers/bert-base-uncased/vocab.txt')));
    assert.deepEqual([bert.bos, bert.eos, bert.pad], [101, 102, 0]);
    const examples = [{ ...refs[0]!, text: 'the person on the left' }, { ...refs[1]!, text: 'a much longer referring expression here' }];
    const loader = new BatchLoader(options({ workers: 0, tokenizer: bert, batchSize: 2, mode: 'eval', sources: [{ name: 'r', task: 'refer', weight: 1, examples }] }));
    const [b] = await take(loader, 1);
    await loader.close();
    const T = b!.tokens.shape[1]!;
    // "the person on the left" → the 1996, person 2711, on 2006, the, left 2187 in bert-base-uncased; padded to T with 0
    const row = [...b!.tokens.values().slice(0, T)];
    assert.deepEqual(row.slice(0, 7), [101, 1996, 2711, 2006, 1996, 2187, 102]);
    assert.ok(T > 7 && row.slice(7).every((id) => id === 0), `row ${row}`);
    // the prompt: "where is " + the text, then EOS, no BOS (the reference's context tokens): where 2073, is 2003
    const P = b!.promptTokens.shape[1]!;
    assert.deepEqual([...b!.promptTokens.values().slice(0, 8)], [2073, 2003, 1996, 2711, 2006, 1996, 2187, 102]);
    assert.ok(P > 8);
  });

  test('textTokenizer adapts bosId/eosId/padId tokenizers and names a missing id', () => {
    const t5like = { encode: (t: string) => wordTokenizer.encode(t), bosId: null, eosId: 1, padId: 0 };
    assert.throws(() => textTokenizer(t5like), (e: Error) => e instanceof BatchError && /no bos id; give one, e\.g\. textTokenizer\(tok, \{ bos: <id> \}\)/.test(e.message));
    const tok = textTokenizer(t5like, { bos: 0 });
    assert.deepEqual([tok.bos, tok.eos, tok.pad], [0, 1, 0]);
    assert.deepEqual(tok.encode('a cat'), wordTokenizer.encode('a cat'));
  });

  describe('errors', () => {
    let dir = '';
    before(() => (dir = mkdtempSync(join(tmpdir(), 'pixelllm-loader-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    for (const workers of [0, 2]) {
      test(`a damaged image fails its batch with an ImageError naming the file (${workers} workers)`, async () => {
        const bad = join(dir, `truncated-${workers}.jpg`);
        const good = captions[0]!;
        writeFileSync(bad, readFileSync(good.imagePath).subarray(0, 5000));
        const examples: Example[] = [{ ...good, id: 'ok' }, { ...good, id: 'bad', imagePath: bad }];
        const loader = new BatchLoader(options({ workers, sources: [{ name: 'c', task: 'caption', weight: 1, examples, shuffleBuffer: 1 }], batchSize: 1 }));
        assert.equal((await loader.next()).value?.ids[0], 'ok');
        await assert.rejects(loader.next(), (e: Error) => e instanceof ImageError && e.file === bad && e.message.includes(bad));
        assert.equal((await loader.next()).done, true, 'the loader is closed after an error');
      });
    }

    test('a malformed segmentation fails its batch with a BatchError naming the image', async () => {
      const ex = { ...refs[0]!, segmentation: { size: [3, 3] as [number, number], counts: [1, 2] } };
      const loader = new BatchLoader(options({ workers: 1, sources: [{ name: 'r', task: 'refer', weight: 1, examples: [ex] }], batchSize: 1 }));
      await assert.rejects(loader.next(), (e: Error) => e instanceof BatchError && e.message.includes(ex.imagePath) && /segmentation size 3×3 differs/.test(e.message));
    });

    test('EXIF orientation: the loader reads the stored grid the annotations refer to, unless told otherwise', async () => {
      const file = join(dir, 'rotated.jpg');
      await sharp(Buffer.alloc(16 * 8 * 3, 128), { raw: { width: 16, height: 8, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toFile(file);
      const ex: Example = { ...captions[0]!, imagePath: file, width: 16, height: 8 };
      const make = (decode?: LoaderOptions['decode']) =>
        new BatchLoader(options({ workers: 1, decode, sources: [{ name: 'c', task: 'caption', weight: 1, examples: [ex], augment: NO_AUGMENT }], batchSize: 1 }));
      const stored = make();
      assert.deepEqual([...(await stored.next()).value!.validSize.values()], [64, 32]);
      await stored.close();
      await assert.rejects(make({ exifOrientation: true }).next(),
        (e: Error) => e instanceof ImageError && /decodes to 8×16 but its annotations say 16×8; the sides are swapped, as an EXIF orientation tag does/.test(e.message));
    });

    test('an image whose size differs from its annotations', async () => {
      const ex = { ...captions[0]!, width: captions[0]!.height, height: captions[0]!.width };
      const loader = new BatchLoader(options({ workers: 1, sources: [{ name: 'c', task: 'caption', weight: 1, examples: [ex] }], batchSize: 1 }));
      await assert.rejects(loader.next(), (e: Error) => e instanceof ImageError && /decodes to \d+×\d+ but its annotations say .*EXIF orientation tag/.test(e.message));
    });
  });

  test('a process that forgets close() still exits: idle workers do not hold it', () => {
    const repo = resolve(fileURLToPath(import.meta.url), '../..');
    const script = `
      import { BatchLoader } from './src/data/batch/index.ts';
      import { cocoCaptions, wordTokenizer } from './test/batch_fixtures.ts';
      const loader = new BatchLoader({ sources: [{ name: 'c', task: 'caption', weight: 1, examples: cocoCaptions() }], batchSize: 2, imageSize: 32, tokenizer: wordTokenizer, seed: 1, workers: 2 });
      const r = await loader.next();
      console.log('got', r.value.ids.length);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 0, `exit ${run.status} signal ${run.signal}: ${run.stderr}`);
    assert.match(run.stdout, /got 2/);
  });
});

function findExample(b: Batch, i: number): Example {
  const pool = b.task === 'caption' ? captions : b.task === 'refer' ? refs : narratives;
  return pool.find((e) => e.id === b.ids[i])!;
}

// narratives are not augmented: the geometry is the longer side fitted to S
function geometryOf(b: Batch, i: number, ex: Example) {
  const [vw, vh] = [b.validSize.values()[i * 2]!, b.validSize.values()[i * 2 + 1]!];
  return { width: ex.width, height: ex.height, resizedWidth: vw, resizedHeight: vh, cropX: 0, cropY: 0, validWidth: vw, validHeight: vh, flip: false, canvas: S };
}

function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
