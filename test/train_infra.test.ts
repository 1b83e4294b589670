// Training plumbing: checkpoints are complete or absent, overrides are typed and reject unknown keys, the progress
// line and the curves are drawn from the numbers given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { saveCheckpoint, loadLatestCheckpoint, loadCheckpoint, CheckpointError } from '../src/train/checkpoint.ts';
import { applyOverrides, ConfigError } from '../src/train/overrides.ts';
import { Progress, formatDuration } from '../src/train/progress.ts';
import { drawCurves, curvesSvg } from '../src/train/curves.ts';
import { tensor } from '../src/tensor/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'pixelllm-train-'));

test('checkpoints: latest points at a complete folder; old ones are pruned; a stray temp folder is ignored', () => {
  const ck = join(dir, 'ck');
  assert.equal(loadLatestCheckpoint(ck), null);
  for (const step of [10, 20, 30]) {
    saveCheckpoint(ck, { step, model: new Map([['w', tensor([step, 1])]]), optimizer: { step, tensors: new Map([['exp_avg.w', tensor([0.5, 0])]]) }, state: { rng: [1, 2, 3, 4], history: [step] } });
  }
  // a crash mid-write leaves only a temporary folder, which resuming never reads
  writeFileSync(join(ck, '.tmp-step-00000040-1'), 'partial');
  const latest = loadLatestCheckpoint(ck)!;
  assert.equal(latest.step, 30);
  assert.deepEqual(latest.model.get('w')!.toArray(), [30, 1]);
  assert.equal(latest.optimizer.step, 30);
  assert.deepEqual(latest.state, { rng: [1, 2, 3, 4], history: [30] });
  assert.deepEqual(readdirSync(ck).filter((f) => f.startsWith('step-')).sort(), ['step-00000020', 'step-00000030']);
  assert.throws(() => loadCheckpoint(join(ck, 'nope')), CheckpointError);
  writeFileSync(join(ck, 'latest.json'), '{broken');
  assert.throws(() => loadLatestCheckpoint(ck), /latest\.json is not valid JSON/);
});

test('overrides: typed values, nested keys, unknown keys rejected with suggestions', () => {
  const config = { lr: 1e-4, steps: 100, lora: { r: 8, targets: ['q', 'v'] }, fp16: false, name: 'tiny', sizes: [1, 2] };
  const out = applyOverrides(config, ['--lr=3e-4', '--lora.r=16', '--lora.targets=q,k,v', '--fp16=true', 'name=x', '--sizes=4,5']);
  assert.deepEqual(out, { lr: 3e-4, steps: 100, lora: { r: 16, targets: ['q', 'k', 'v'] }, fp16: true, name: 'x', sizes: [4, 5] });
  assert.equal(config.lr, 1e-4, 'the original is untouched');
  assert.throws(() => applyOverrides(config, ['--lora.rank=4']), /unknown config key 'lora.rank'; did you mean lora\.r/);
  assert.throws(() => applyOverrides(config, ['--steps=many']), /--steps=many: expected a number/);
  assert.throws(() => applyOverrides(config, ['--fp16=yes']), ConfigError);
  assert.throws(() => applyOverrides(config, ['--lr']), /not of the form --key=value/);
});

test('progress line: rate, ETA and values', () => {
  const p = new Progress(100, 0, { label: 'train' });
  const line = p.line(25, { loss: 1.23456 }, performance.now() + 5000);
  assert.match(line, /^train  \[######\.{18}\]  25\/100  25\.0%/);
  assert.match(line, /ETA 1[45]s/);
  assert.match(line, /loss 1\.235/);
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(65), '1m05s');
});

test('curves: a panel per series, written as a PNG', async () => {
  const history = [0, 10, 20, 30].map((step) => ({ step, values: { loss: 5 / (step + 1), ...(step % 20 === 0 ? { cider: step / 10 } : {}) } }));
  const svg = curvesSvg(history);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.match(svg, />loss</);
  const png = join(dir, 'curves.png');
  await drawCurves(png, history);
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 840);
  assert.ok(existsSync(png));
});
