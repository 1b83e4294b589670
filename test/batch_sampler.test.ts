// The batch sampler without images: task purity, weights, determinism from the seed, resume from a saved state
// (across epochs and through shuffle buffers), and the errors a user can cause.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchSampler, BatchError, reopening, type BatchPlan, type Source } from '../src/data/batch/index.ts';
import { NO_AUGMENT } from '../src/data/image/index.ts';
import type { Example } from '../src/data/types.ts';
import { cocoCaptions, cocoRefs } from './batch_fixtures.ts';

const captions = cocoCaptions();
const refs = cocoRefs();

function sources(opts: Partial<Source> = {}): Source[] {
  return [
    { name: 'coco-captions', task: 'caption', weight: 3, examples: captions, shuffleBuffer: 16, ...opts },
    { name: 'coco-refs', task: 'refer', weight: 1, examples: refs, shuffleBuffer: 50, ...opts },
  ];
}

/** What a plan decides, as plain data. */
const summary = (p: BatchPlan) => ({ index: p.index, source: p.source, items: p.items.map((it) => ({ id: it.example.id, text: it.text, prompt: it.prompt, g: it.geometry })) });

async function draw(s: BatchSampler, n: number): Promise<BatchPlan[]> {
  const out: BatchPlan[] = [];
  for (let i = 0; i < n; i++) {
    const p = await s.next();
    assert.ok(p, 'a training sampler never ends');
    out.push(p);
  }
  return out;
}

describe('sampler', () => {
  test('every batch holds one task; sources are picked in proportion to their weights', async () => {
    const s = new BatchSampler(sources(), { batchSize: 4, imageSize: 64, seed: 1 });
    const plans = await draw(s, 400);
    for (const p of plans) for (const it of p.items) assert.equal(it.example.task, p.task, `batch ${p.index}`);
    const share = plans.filter((p) => p.source === 'coco-captions').length / plans.length;
    // binomial(400, 0.75): sd 0.022, so ±0.07 is 3 sd
    assert.ok(Math.abs(share - 0.75) < 0.07, `captions share ${share}`);
    assert.ok(plans.some((p) => p.task === 'refer'));
  });

  test('the same seed gives the same batches, another seed other batches', async () => {
    const a = (await draw(new BatchSampler(sources(), { batchSize: 3, imageSize: 64, seed: 7 }), 20)).map(summary);
    const b = (await draw(new BatchSampler(sources(), { batchSize: 3, imageSize: 64, seed: 7 }), 20)).map(summary);
    const c = (await draw(new BatchSampler(sources(), { batchSize: 3, imageSize: 64, seed: 8 }), 20)).map(summary);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('a restored state continues with the same batches, across epoch ends and a JSON round trip', async () => {
    // 21 + 189 examples in batches of 8: the caption source (105 captions) ends its epoch several times in 60 batches
    const opts = { batchSize: 8, imageSize: 64, seed: 3 };
    const all = await draw(new BatchSampler(sources(), opts), 60);
    for (const cut of [0, 1, 17, 41]) {
      const saved = JSON.parse(JSON.stringify(all[cut]!.state));
      const resumed = new BatchSampler(sources(), opts);
      await resumed.restore(saved);
      const rest = await draw(resumed, 60 - cut - 1);
      assert.deepEqual(rest.map(summary), all.slice(cut + 1).map(summary), `resumed after batch ${cut}`);
    }
    const last = all.at(-1)!.state;
    assert.equal(last.batches, 60);
    assert.ok(last.sources['coco-captions']!.epoch >= 2, `epochs ${JSON.stringify(last.sources)}`);
  });

  test('an epoch visits every example once, shuffled (not in file order)', async () => {
    const s = new BatchSampler([{ name: 'c', task: 'caption', weight: 1, examples: captions, shuffleBuffer: 1000 }], { batchSize: 5, imageSize: 64, seed: 5 });
    const ids = (await draw(s, captions.length / 5)).flatMap((p) => p.items.map((it) => it.example.id));
    assert.deepEqual([...ids].sort(), captions.map((c) => c.id).sort());
    assert.notDeepEqual(ids, captions.map((c) => c.id));
    assert.deepEqual(s.state().sources.c, { epoch: 0, taken: captions.length });
  });

  test('async iterables are read like arrays', async () => {
    const asyncSource: AsyncIterable<Example> = { async *[Symbol.asyncIterator]() { yield* captions; } };
    const a = await draw(new BatchSampler([{ name: 'c', task: 'caption', weight: 1, examples: captions }], { batchSize: 4, imageSize: 64, seed: 2 }), 40);
    const b = await draw(new BatchSampler([{ name: 'c', task: 'caption', weight: 1, examples: asyncSource }], { batchSize: 4, imageSize: 64, seed: 2 }), 40);
    assert.deepEqual(a.map(summary), b.map(summary));
  });

  test('flipped refer texts swap left and right; unflipped keep them; prompts follow', async () => {
    const s = new BatchSampler([{ name: 'r', task: 'refer', weight: 1, examples: refs, augment: { scale: [1, 1], flip: 0.5, swapLeftRight: true } }], { batchSize: 8, imageSize: 64, seed: 4 });
    let flipped = 0;
    for (const p of await draw(s, 10)) {
      for (const it of p.items) {
        flipped += +it.geometry.flip;
        assert.equal(it.text, it.geometry.flip ? it.example.text.replace('left', 'right') : it.example.text);
        assert.equal(it.prompt, `where is ${it.text}`);
      }
    }
    assert.ok(flipped > 20 && flipped < 60, `flipped ${flipped} of 80`);
  });

  test('without augmentation the geometry fits the longer side to S', async () => {
    const s = new BatchSampler([{ name: 'c', task: 'caption', weight: 1, examples: captions, augment: NO_AUGMENT }], { batchSize: 4, imageSize: 384, seed: 2 });
    for (const it of (await s.next())!.items) {
      const g = it.geometry;
      assert.equal(Math.max(g.validWidth, g.validHeight), 384);
      assert.deepEqual([g.cropX, g.cropY, g.flip], [0, 0, false]);
    }
  });
});

describe('evaluation pass', () => {
  test('every example once, source after source in their own order, unaugmented, short last batches, then null', async () => {
    const s = new BatchSampler(sources(), { batchSize: 8, imageSize: 64, seed: 1, mode: 'eval' });
    const plans: BatchPlan[] = [];
    for (let p = await s.next(); p; p = await s.next()) plans.push(p);
    assert.equal(await s.next(), null);
    // 105 captions → 13 batches of 8 and one of 1; 187 refs (189 instances less 2 crowds) → 23 of 8 and one of 3
    assert.deepEqual([captions.length, refs.length], [105, 187]);
    assert.deepEqual(plans.map((p) => p.items.length), [...Array(13).fill(8), 1, ...Array(23).fill(8), 3]);
    assert.deepEqual(plans.map((p) => p.index), plans.map((_, i) => i));
    assert.deepEqual(plans.flatMap((p) => p.items.map((it) => it.example.id)), [...captions, ...refs].map((e) => e.id));
    for (const p of plans) for (const it of p.items) {
      assert.equal(Math.max(it.geometry.validWidth, it.geometry.validHeight), 64);
      assert.equal(it.geometry.flip, false);
      assert.equal(it.text, it.example.text);
      assert.equal(it.prompt, p.task === 'refer' ? `where is ${it.text}` : 'A photo of ');
    }
    await assert.rejects(new BatchSampler(sources(), { batchSize: 8, imageSize: 64, seed: 1, mode: 'eval' }).restore(plans[0]!.state), /resume is for training/);
  });
});

describe('sampler errors', () => {
  const rejects = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: Error) => e instanceof BatchError && re.test(e.message));

  test('an example of another task', async () => {
    const s = new BatchSampler([{ name: 'mixed', task: 'caption', weight: 1, examples: [captions[0]!, refs[0]!], shuffleBuffer: 1 }], { batchSize: 2, imageSize: 64, seed: 1 });
    await rejects(s.next(), /source 'mixed', example \d+ .* has task 'refer' but the source's task is 'caption'/);
  });

  test('a generator object cannot start a second epoch', async () => {
    function* once() { yield* captions.slice(0, 3); }
    const s = new BatchSampler([{ name: 'gen', task: 'caption', weight: 1, examples: once() }], { batchSize: 2, imageSize: 64, seed: 1 });
    await s.next();
    await rejects(s.next(), /source 'gen' gave no examples in epoch 1 \(it can be read only once, as a generator object: pass reopening\(\(\) => <the reader call>\)/);
    // reopening() calls the generator function again for every pass
    const again = new BatchSampler([{ name: 'gen', task: 'caption', weight: 1, examples: reopening(once) }], { batchSize: 2, imageSize: 64, seed: 1 });
    const ids = (await draw(again, 6)).flatMap((p) => p.items.map((it) => it.example.id));
    assert.deepEqual([...ids].sort(), [...captions.slice(0, 3), ...captions.slice(0, 3), ...captions.slice(0, 3), ...captions.slice(0, 3)].map((c) => c.id).sort());
  });

  test('an example without a size, and nothing to read it with', async () => {
    const s = new BatchSampler([{ name: 'nosize', task: 'caption', weight: 1, examples: [{ ...captions[0]!, width: 0 }] }], { batchSize: 1, imageSize: 64, seed: 1 });
    await rejects(s.next(), /source 'nosize', example .* has image size 0×\d+ and no way to read it/);
  });

  test('bad configuration and a state from another run', async () => {
    assert.throws(() => new BatchSampler([], { batchSize: 1, imageSize: 64, seed: 1 }), /no sources/);
    assert.throws(() => new BatchSampler([...sources(), sources()[0]!], { batchSize: 1, imageSize: 64, seed: 1 }), /two sources are named 'coco-captions'/);
    assert.throws(() => new BatchSampler(sources({ weight: 0 }), { batchSize: 1, imageSize: 64, seed: 1 }), /weights sum to 0/);
    assert.throws(() => new BatchSampler(sources({ augment: { scale: [2, 1], flip: 0, swapLeftRight: true } }), { batchSize: 1, imageSize: 64, seed: 1 }), /augment scale \[2, 1\]/);
    const state = (await new BatchSampler(sources(), { batchSize: 2, imageSize: 64, seed: 1 }).next())!.state;
    await rejects(new BatchSampler(sources(), { batchSize: 2, imageSize: 64, seed: 2 }).restore(state), /has seed 1 but this run uses seed 2/);
    await rejects(new BatchSampler(sources().slice(0, 1), { batchSize: 2, imageSize: 64, seed: 1 }).restore(state), /has sources \[coco-captions, coco-refs\] but this run has \[coco-captions\]/);
  });
});

test('a text with $ patterns goes into its prompt as written', async () => {
  const odd = { ...refs[0]!, id: 'odd', text: "the $' sign and $& here" };
  const s = new BatchSampler([{ name: 'r', task: 'refer', weight: 1, examples: [odd] }], { batchSize: 1, imageSize: 64, seed: 0, mode: 'eval' });
  const plan = await s.next();
  assert.equal(plan!.items[0]!.prompt, "where is the $' sign and $& here");
});

