// `pixelllm eval` end to end on temporary files: every task's schema, problems reported as file:line and counted,
// missing predictions counted and scored as failures, the report files, and the caption numbers of the golden set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.ts';
import type { Example } from '../src/data/types.ts';
import { compress, encodeBitmap } from '../src/data/mask.ts';

const repo = resolve(fileURLToPath(import.meta.url), '../..');
const dir = mkdtempSync(join(tmpdir(), 'pixelllm-eval-'));
const write = (name: string, lines: unknown[]): string => {
  const p = join(dir, name);
  writeFileSync(p, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return p;
};
const example = (e: Partial<Example> & Pick<Example, 'task' | 'id'>): Example =>
  ({ source: 'test', imageId: e.id, imagePath: '', width: 100, height: 100, text: '', ...e }) as Example;

async function runEval(args: string[]): Promise<{ code: number; report: { metrics: Record<string, number | null>; counts: Record<string, number>; problems: string[] } }> {
  const out = join(dir, `report-${Math.random().toString(36).slice(2)}`);
  const log = console.log;
  console.log = () => {};
  try {
    const code = await main(['eval', ...args, '--out', out]);
    assert.ok(readFileSync(`${out}.md`, 'utf8').startsWith('# '));
    return { code, report: JSON.parse(readFileSync(`${out}.json`, 'utf8')) };
  } finally {
    console.log = log;
  }
}

test('refer: malformed, duplicate, unknown and missing predictions are reported with file:line and counted', async () => {
  const gt = write('refer_gt.jsonl', [
    example({ task: 'refer', id: 'r1', box: [0, 0, 10, 10] }), example({ task: 'refer', id: 'r2', box: [0, 0, 10, 10] }),
    example({ task: 'refer', id: 'r3', box: [0, 0, 10, 10] }), example({ task: 'refer', id: 'r4', box: [50, 50, 60, 60] }),
  ]);
  const pred = write('refer_pred.jsonl', [
    { id: 'r1', box: [0, 0, 10, 10] }, // IoU 1
    { id: 'r2', box: [5, 0, 15, 10] }, // IoU 1/3
    '{"id": "r3", "box": [0, 0, 10]', // not JSON
    { id: 'r3', box: [10, 0, 5, 10] }, // x1 < x0
    { id: 'r1', box: [0, 0, 1, 1] }, // duplicate
    { id: 'zz', box: [0, 0, 1, 1] }, // unknown
    '',
  ]);
  const { code, report } = await runEval(['--task', 'refer', '--pred', pred, '--gt', gt]);
  assert.equal(code, 1);
  assert.deepEqual(report.counts, { groundTruth: 4, predicted: 2, missing: 2, malformed: 2, duplicate: 1, unknown: 1 });
  // r1 hit, r2 miss (1/3), r3 and r4 missing → P@0.5 = 1/4; cIoU = (100 + 50) / (100 + 150 + 100 + 100)
  assert.equal(report.metrics['P@0.5'], 0.25);
  assert.ok(Math.abs(report.metrics.cIoU! - 150 / 450) < 1e-12);
  assert.ok(report.problems.some((p) => p.startsWith(`${pred}:3: not JSON`)));
  assert.ok(report.problems.some((p) => p.startsWith(`${pred}:4: box [10,0,5,10] has x1 < x0`)));
  assert.ok(report.problems.some((p) => p.includes(`${pred}:5: duplicate id "r1" (first at line 1)`)));
  assert.ok(report.problems.some((p) => p.includes(`${pred}:6: id "zz" is not in the ground truth`)));
  assert.ok(report.problems.includes('no prediction for id "r4"'));
});

test('an empty predictions file scores every item as missing', async () => {
  const gt = write('refer_gt2.jsonl', [example({ task: 'refer', id: 'a', box: [0, 0, 10, 10] })]);
  const { code, report } = await runEval(['--task', 'refer', '--pred', write('empty.jsonl', []), '--gt', gt]);
  assert.equal(code, 0);
  assert.equal(report.counts.missing, 1);
  assert.equal(report.metrics['P@0.5'], 0);
});

test('refseg: compressed RLE masks against a polygon ground truth; a mask of the wrong size is reported', async () => {
  // ground truth: the square polygon (0,0)-(50,0)-(50,50)-(0,50) on a 100×100 image; prediction: the 50×50 top-left
  // square of pixels, which the rasterised polygon nearly equals (IoU well above 0.5)
  const gt = write('refseg_gt.jsonl', [
    example({ task: 'refer', id: 's1', segmentation: [[0, 0, 50, 0, 50, 50, 0, 50]] }),
    example({ task: 'refer', id: 's2', segmentation: [[0, 0, 50, 0, 50, 50, 0, 50]] }),
  ]);
  const square = new Uint8Array(100 * 100).map((_, i) => (i % 100 < 50 && i < 5000 ? 1 : 0));
  const pred = write('refseg_pred.jsonl', [
    { id: 's1', mask: compress(encodeBitmap({ height: 100, width: 100, data: square })) },
    { id: 's2', mask: compress(encodeBitmap({ height: 10, width: 10, data: new Uint8Array(100) })) },
  ]);
  const { report } = await runEval(['--task', 'refseg', '--pred', pred, '--gt', gt]);
  assert.equal(report.counts.malformed, 1);
  assert.ok(report.problems[0]!.includes(`${pred}:2: mask size [10,10]`));
  assert.ok(report.metrics.cIoU! > 0 && report.metrics.cIoU! < 1 && report.metrics['P@0.5']! === 0.5);
});

test('caption: end to end on the golden set gives the pycocoevalcap numbers', async () => {
  const golden = JSON.parse(readFileSync(join(repo, '../shared/data/caption-eval/coco-mini-loo-golden.json'), 'utf8'));
  type Item = { image_id: number; candidate_tok: string; refs_tok: string[] };
  const gt = write('caption_gt.jsonl', golden.per_image.map((e: Item) => example({ task: 'caption', id: `c${e.image_id}`, imageId: String(e.image_id), references: e.refs_tok })));
  const pred = write('caption_pred.jsonl', golden.per_image.map((e: Item) => ({ image_id: e.image_id, caption: e.candidate_tok })));
  const { code, report } = await runEval(['--task', 'caption', '--pred', pred, '--gt', gt]);
  assert.equal(code, 0);
  const rel = (k: string, v: number): void => assert.ok(Math.abs(report.metrics[k]! - v) <= 1e-6 * v, `${k}: ${report.metrics[k]} vs ${v}`);
  golden.corpus['Bleu_1..4'].forEach((v: number, k: number) => rel(`Bleu_${k + 1}`, v));
  rel('CIDEr', golden.corpus.CIDEr);
  rel('ROUGE_L', golden.corpus.ROUGE_L);
  assert.ok(report.metrics.METEOR! > 0.15 && report.metrics.METEOR! < 0.4);
});

test('trace: point_l1 over valid utterances; a wrong number of entries is reported', async () => {
  const utterances = [
    { utterance: 'a', box: [0, 0, 0.5, 0.5], center: [0.25, 0.25] },
    { utterance: '', box: [0, 0, 1, 1], center: [0.5, 0.5] }, // empty: not a valid utterance
    { utterance: 'dog', box: [0.5, 0.5, 1.2, 1], center: [0.8, 0.8] }, // box clipped to [0.5, 0.5, 1, 1]
  ];
  const gt = write('trace_gt.jsonl', [example({ task: 'trace', id: 't1', width: 200, height: 100, utterances } as never), example({ task: 'trace', id: 't2', utterances } as never)]);
  // t1: utterance 0 predicted at its top-left corner (0), utterance 2 at (200, 100) = its clipped bottom-right (0) and
  // at (100, 100): nearest corner (200, 100) → (100/200 + 0)/2 = 0.25 → token mean 0.125; image = (0 + 0.125) / 2
  const pred = write('trace_pred.jsonl', [
    { id: 't1', points: [[[0, 0]], null, [[200, 100], [100, 100]]] },
    { id: 't2', points: [[[0, 0]]] },
  ]);
  const { report } = await runEval(['--task', 'trace', '--pred', pred, '--gt', gt]);
  assert.ok(Math.abs(report.metrics.point_l1! - 0.0625) < 1e-12);
  assert.equal(report.counts.malformed, 1);
  assert.equal(report.counts.scoredTokens, 2);
});

test('densecap and regioncap run end to end; bad flags are user errors', async () => {
  const gt = write('dense_gt.jsonl', [
    example({ task: 'regioncap', id: 'g1', imageId: 'img', box: [0, 0, 9, 9], text: 'a red ball', references: ['a red ball'] }),
    example({ task: 'regioncap', id: 'g2', imageId: 'img', box: [20, 20, 29, 29], text: 'a blue cup', references: ['a blue cup'] }),
  ]);
  const dense = write('dense_pred.jsonl', [{ image_id: 'img', box: [0, 0, 9, 9], score: 0.9, caption: 'a red ball' }]);
  const d = await runEval(['--task', 'densecap', '--pred', dense, '--gt', gt]);
  // one of two regions found with a perfect caption: precision 1 up to recall 0.5 → AP 0.5 at every threshold
  assert.equal(d.report.metrics.mAP, 0.5);
  const region = write('region_pred.jsonl', [{ id: 'g1', caption: 'a red ball' }, { id: 'g2', caption: 'a blue cup' }]);
  const r = await runEval(['--task', 'regioncap', '--pred', region, '--gt', gt]);
  // each caption alone scores 1, but the corpus score sums the statistics: 2 chunks over 6 + 6 matches, and the
  // "perfect match" exemption (exactly one chunk) no longer applies → 1 − 0.6 · (2 / 6)^0.2, as METEOR's EVAL line
  assert.ok(Math.abs(r.report.metrics.METEOR! - (1 - 0.6 * (1 / 3) ** 0.2)) < 1e-12);
  const err = console.error;
  console.error = () => {};
  try {
    assert.equal(await main(['eval', '--task', 'nope', '--pred', region, '--gt', gt]), 2);
    assert.equal(await main(['eval', '--task', 'refer', '--pred', join(dir, 'absent.jsonl'), '--gt', gt]), 2);
  } finally {
    console.error = err;
  }
});

test('a byte-order mark on line 1 is not a malformed line; trace reports coverage; refseg box P@0.5 counts missing boxes', async () => {
  const gt = write('bom_gt.jsonl', [example({ task: 'refer', id: 'a', box: [0, 0, 10, 10] }), example({ task: 'refer', id: 'b', box: [0, 0, 10, 10] })]);
  const pred = join(dir, 'bom_pred.jsonl');
  writeFileSync(pred, '\uFEFF{"id": "a", "box": [0, 0, 10, 10]}\r\n{"id": "b", "box": [0, 0, 10, 10]}\r\n');
  const refer = await runEval(['--task', 'refer', '--pred', pred, '--gt', gt]);
  assert.equal(refer.code, 0);
  assert.equal(refer.report.metrics['P@0.5'], 1);

  // two narratives with one valid utterance each; only the first is predicted (exactly): point_l1 0 at coverage 1/2
  const utter = { utterance: 'a dog', box: [0.1, 0.1, 0.5, 0.5], center: [0.3, 0.3] };
  const tgt = write('trace_gt.jsonl', [example({ task: 'trace', id: 'n1', utterances: [utter] as never }), example({ task: 'trace', id: 'n2', utterances: [utter] as never })]);
  const tp = write('trace_pred.jsonl', [{ id: 'n1', points: [[[10, 10], [50, 50]]] }]);
  const trace = await runEval(['--task', 'trace', '--pred', tp, '--gt', tgt]);
  assert.deepEqual([trace.report.metrics.point_l1, trace.report.metrics.coverage], [0, 0.5]);

  // a 10×10 image, masks equal to the ground truth; one prediction without a box: box P@0.5 = 1/2, not 1/1
  const full10 = compress(encodeBitmap({ height: 10, width: 10, data: new Uint8Array(100).fill(1) }));
  const seg = (id: string) => example({ task: 'refer', id, box: [0, 0, 10, 10], width: 10, height: 10, segmentation: full10 });
  const sgt = write('seg_gt.jsonl', [seg('s1'), seg('s2')]);
  const sp = write('seg_pred.jsonl', [{ id: 's1', mask: full10, box: [0, 0, 10, 10] }, { id: 's2', mask: full10 }]);
  const refseg = await runEval(['--task', 'refseg', '--pred', sp, '--gt', sgt]);
  assert.deepEqual([refseg.report.metrics.cIoU, refseg.report.metrics['box P@0.5']], [1, 0.5]);
});
