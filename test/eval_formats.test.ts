// `--gt` in the published formats: the real samples in ../shared/data read through the dataset readers, scored
// against predictions made from that same ground truth (so every localization score is perfect and every count known).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGroundTruth } from '../src/eval/ground_truth.ts';
import { evaluate } from '../src/eval/runners.ts';

const dir = mkdtempSync(join(tmpdir(), 'pixelllm-evalfmt-'));
const data = '../shared/data';
const writeLines = (name: string, lines: unknown[]) => {
  const p = join(dir, name);
  writeFileSync(p, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return p;
};

test('refer: RefCOCO with embedded anns, one split; the ground-truth boxes score P@0.5 = 1', async () => {
  const gtPath = `${data}/refcoco-sample/refcoco_sample_refs.json`;
  await assert.rejects(readGroundTruth('refer', gtPath), /occurs twice; .*needs --split/);
  const all = await readGroundTruth('refer', gtPath, { split: 'refcocog/umd/train' });
  const val = await readGroundTruth('refer', gtPath, { split: 'refcocog/google/val' });
  assert.deepEqual([val.items.size, all.items.size], [2, 4], 'sentences of the sample\'s refcocog refs');
  const pred = writeLines('refer.jsonl', [...val.items.values()].map((it) => ({ id: it.key, box: it.box })));
  const report = await evaluate('refer', pred, gtPath, { split: 'refcocog/google/val' });
  assert.equal(report.counts.missing ?? 0, 0);
  assert.equal(report.counts.predicted, val.items.size);
  assert.ok(Object.entries(report.metrics).some(([k, v]) => /P@0\.5/.test(k) && v === 1), JSON.stringify(report.metrics));
});

test('caption: COCO captions json; regioncap and densecap: Visual Genome with image_data beside it', async () => {
  const captions = `${data}/coco-mini/annotations/captions_val2017.json`;
  const gt = await readGroundTruth('caption', captions);
  const pred = writeLines('cap.jsonl', [...gt.items.values()].map((it) => ({ image_id: it.key, caption: it.references[0] })));
  const cap = await evaluate('caption', pred, captions, { synonyms: false });
  assert.equal(cap.counts.predicted, gt.items.size);
  // each prediction is one of its image's references, so BLEU is 1 up to pycocoevalcap's tiny constants
  assert.ok(Math.abs(cap.metrics.Bleu_4 - 1) < 1e-9 && cap.metrics.CIDEr > 1, JSON.stringify(cap.metrics));

  const regions = `${data}/vg-sample/region_descriptions_v1.2_images1-5.json`;
  const vg = await readGroundTruth('regioncap', regions);
  assert.ok(vg.items.size > 1200, `${vg.items.size} regions`);
  const dense = await readGroundTruth('densecap', regions);
  assert.equal(dense.items.size, 5, 'five images');
  const densePred = writeLines('dense.jsonl', [...dense.items.values()].flatMap((it) =>
    it.regions!.slice(0, 20).map((r, i) => ({ image_id: it.key, box: r.box, score: 1 - i / 100, caption: r.text }))));
  const d = await evaluate('densecap', densePred, regions, { synonyms: false });
  assert.ok(d.metrics.mAP > 0 && d.metrics.mAP <= 1, JSON.stringify(d.metrics));
});

test('a folder or a file of no known format is refused with its name', async () => {
  const junk = join(dir, 'junk.json');
  writeFileSync(junk, '{"hello": 1}');
  await assert.rejects(readGroundTruth('refer', junk), /junk\.json: not a supported dataset file/);
});
