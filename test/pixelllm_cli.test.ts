// Every inference command on the bundled example image (with a small random model folder, so the test does not depend
// on the bundled weights), their JSON and overlays, and the clear errors and exit codes for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { main } from '../src/cli/main.ts';
import { PixelLLM } from '../src/models/pixelllm/pixelllm.ts';
import { saveModelFolder } from '../src/models/pixelllm/files.ts';
import { manualSeed } from '../src/nn/init.ts';
import { decodeRle, countsFromString } from '../src/data/mask.ts';
import { trainableTiny } from './pixelllm_small.ts';

const IMAGE = 'examples/scene.jpg'; // 235 × 337
const dir = mkdtempSync(join(tmpdir(), 'pixelllm-cli-'));
const model = join(dir, 'model');
manualSeed(3);
saveModelFolder(model, new PixelLLM(trainableTiny()), 'models/pixelllm-tiny/vocab.txt', { half: true });

/** Runs the CLI in-process and returns its exit code, standard output and standard error. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error, write] = [console.log, console.error, process.stderr.write.bind(process.stderr)];
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), out: out.join('\n'), err: err.join('\n') };
  } finally {
    [console.log, console.error, process.stderr.write] = [log, error, write];
  }
}

const inImage = (b: number[]) => b[0]! >= 0 && b[1]! >= 0 && b[2]! <= 235 && b[3]! <= 337 && b[2]! >= b[0]! && b[3]! >= b[1]!;

test('caption prints every word with a box and point in image pixels, and draws the trace', async () => {
  const png = join(dir, 'caption.png');
  const r = await run('caption', IMAGE, '--model', model, '--beams', '2', '--max-tokens', '6', '--out', png);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.task, 'caption');
  assert.ok(j.words.length > 0 && j.words.length <= 6);
  for (const w of j.words) assert.ok(inImage(w.box) && w.point.length === 2, JSON.stringify(w));
  const meta = await sharp(png).metadata();
  assert.equal(meta.width, 235);
  assert.ok(meta.height! > 337, 'the legend panel is below the image');
});

test('locate and segment give a box (and a mask of the image size); describe and dense run', async () => {
  const loc = await run('locate', IMAGE, 'the red circle', '--model', model, '--out', join(dir, 'locate.png'));
  assert.equal(loc.code, 0, loc.err);
  assert.ok(inImage(JSON.parse(loc.out).box));
  const seg = await run('segment', IMAGE, 'the', 'red', 'circle', '--model', model, '--out', join(dir, 'segment.png'));
  assert.equal(seg.code, 0, seg.err);
  const s = JSON.parse(seg.out);
  assert.equal(s.expression, 'the red circle');
  assert.deepEqual(s.mask.size, [337, 235]);
  const bits = decodeRle({ size: s.mask.size, counts: countsFromString(s.mask.counts) }).data;
  assert.equal(bits.reduce((a: number, v: number) => a + v, 0), s.area);
  const box = await run('describe', IMAGE, '--box', '10,150,70,270', '--model', model, '--out', join(dir, 'describe.png'));
  assert.equal(box.code, 0, box.err);
  assert.deepEqual(JSON.parse(box.out).box, [10, 150, 70, 270]);
  const pt = await run('describe', IMAGE, '--point', '30,230', '--model', model);
  assert.equal(pt.code, 0, pt.err);
  const p = JSON.parse(pt.out);
  assert.ok(p.box[0] <= 30 && 30 <= p.box[2] && p.box[1] <= 230 && 230 <= p.box[3], 'the region holds the point');
  const dense = await run('dense', IMAGE, '--model', model, '--out', join(dir, 'dense.png'));
  assert.equal(dense.code, 0, dense.err);
  for (const g of JSON.parse(dense.out).regions) assert.ok(inImage(g.box) && g.score >= 0.05 && typeof g.text === 'string');
  for (const f of ['locate', 'segment', 'describe', 'dense']) assert.ok(existsSync(join(dir, `${f}.png`)), f);
});

test('bad input: a clear message and exit code 2', async () => {
  const notImage = join(dir, 'notes.jpg');
  writeFileSync(notImage, 'this is text, not a JPEG');
  const cases: [string[], RegExp][] = [
    [['caption', notImage, '--model', model], /notes\.jpg/],
    [['caption', join(dir, 'missing.jpg'), '--model', model], /missing\.jpg: no such image file/],
    [['locate', IMAGE, '--model', model], /expression is empty/],
    [['locate', IMAGE, '   ', '--model', model], /expression is empty/],
    [['describe', IMAGE, '--box', '10,10,300,50', '--model', model], /outside the 235×337 image/],
    [['describe', IMAGE, '--box', '10,10,5', '--model', model], /expected 4 comma-separated numbers/],
    [['describe', IMAGE, '--point=-4,10', '--model', model], /outside the 235×337 image/],
    [['describe', IMAGE, '--model', model], /exactly one of --box/],
    [['caption', IMAGE, '--model', join(dir, 'nowhere')], /not a model folder/],
    [['caption', IMAGE, '--beams', '0', '--model', model], /--beams 0/],
    [['train', 'configs/pixelllm-tiny.json', '--nope=1'], /unknown config key 'nope'/],
    [['train', 'configs/pixelllm-tiny.json', '--lr=fast'], /--lr=fast: expected a number/],
    [['train', join(dir, 'absent.json')], /no such config file/],
  ];
  for (const [args, message] of cases) {
    const r = await run(...args);
    assert.equal(r.code, 2, `${args.join(' ')} → exit ${r.code}`);
    assert.match(r.err, message, args.join(' '));
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
