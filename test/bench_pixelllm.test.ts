// The PixelLLM benchmark's pieces: its option parsing, the synthetic training batches (shapes, masks inside their
// boxes, every loss term reached), and the PyTorch peer's parameters equal to ours name for name and shape for shape
// (skipped when Debian's python3 has no torch: the tests never need Python).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../src/tensor/index.ts';
import { PixelLLM } from '../src/models/pixelllm/pixelllm.ts';
import { PIXELLLM_TINY } from '../src/models/pixelllm/config.ts';
import { REFERENCE_WEIGHTS, batchLosses } from '../src/train/step.ts';
import { BenchArgsError, parseBenchArgs, workerArgs } from '../bench/pixelllm/args.ts';
import { trainBatches } from '../bench/pixelllm/batches.ts';

const root = new URL('..', import.meta.url).pathname;

test('bench options: defaults, lists, and a clear error for each bad value', () => {
  const d = parseBenchArgs([], { PIXELLLM_THREADS: '4' });
  assert.deepEqual(d.models, ['pixelllm-tiny', 'pixelllm-cpu']);
  assert.deepEqual(d.threads, [1, 4]);
  assert.equal(d.peer, true);
  const o = parseBenchArgs(['--models', 'pixelllm-tiny', '--threads', '2,2,1', '--reps', '3', '--no-peer', '--box', '1,2,30,40'], {});
  assert.deepEqual([o.models, o.threads, o.reps, o.peer, o.box], [['pixelllm-tiny'], [2, 1], 3, false, [1, 2, 30, 40]]);
  // a worker gets back the same settings
  const w = parseBenchArgs(workerArgs(o, 'pixelllm-tiny', 'train', 2, '/tmp/b.json'), {});
  assert.deepEqual([w.worker, w.phase, w.threads, w.reps, w.box, w.peerBatch], ['pixelllm-tiny', 'train', [2], 3, [1, 2, 30, 40], '/tmp/b.json']);
  for (const [argv, says] of [
    [['--models', 'pixelllm-huge'], /unknown model "pixelllm-huge"; presets: .*pixelllm-tiny/],
    [['--threads', '0'], /--threads "0": expected a positive integer/],
    [['--reps'], /--reps needs a value/],
    [['--box', '5,5,1,1'], /--box "5,5,1,1": expected x0,y0,x1,y1 with x1 > x0/],
    [['--phase', 'eval'], /--phase "eval": expected infer or train/],
    [['--fast', '1'], /unknown option --fast/],
  ] as const) {
    assert.throws(() => parseBenchArgs(argv, {}), (e: Error) => e instanceof BenchArgsError && says.test(e.message), argv.join(' '));
  }
});

test('synthetic training batches: realistic shapes, masks inside their boxes, every loss term reached', () => {
  const model = new PixelLLM(PIXELLLM_TINY);
  const S = PIXELLLM_TINY.image_size;
  const { trace, refer } = trainBatches(model, 2, (task, text) => (task === 'refer' ? [10, 11, ...text] : [10, 11, 12]));
  const T = trace.batch.tokens.shape[1]!;
  assert.ok(T > 0.7 * PIXELLLM_TINY.max_text_tokens && T <= PIXELLLM_TINY.max_text_tokens, `trace tokens ${T}`);
  assert.deepEqual(trace.batch.traceBoxes!.shape, [2, T, 4]);
  assert.deepEqual(refer.batch.masks!.shape, [2, S, S]);
  // every mask pixel lies inside its row's box, and the mask is not empty
  const masks = refer.batch.masks!.toArray();
  const boxes = refer.batch.boxes.toArray();
  for (let b = 0; b < 2; b++) {
    const [x0, y0, x1, y1] = Array.from(boxes.slice(b * 4, b * 4 + 4));
    let n = 0;
    for (let i = 0; i < S * S; i++) {
      if (!masks[b * S * S + i]) continue;
      n++;
      const [x, y] = [i % S, Math.floor(i / S)];
      assert.ok(x >= x0! && x < x1! && y >= y0! && y < y1!, `mask pixel ${x},${y} outside box ${[x0, y0, x1, y1]}`);
    }
    assert.ok(n > 0, `row ${b}: empty mask`);
  }
  noGrad(() => {
    const traceLoss = batchLosses(model, trace.batch, REFERENCE_WEIGHTS, trace.objects);
    assert.deepEqual(Object.keys(traceLoss).sort(), ['caption', 'point', 'point_cell', 'proposal_box', 'proposal_heatmap']);
    const referLoss = batchLosses(model, refer.batch, REFERENCE_WEIGHTS, refer.objects);
    assert.deepEqual(Object.keys(referLoss).sort(), ['box', 'mask_dice', 'mask_focal', 'mask_iou', 'point_cell', 'proposal_box', 'proposal_heatmap']);
    for (const [k, v] of Object.entries({ ...traceLoss, ...referLoss })) assert.ok(Number.isFinite(v.item()), `${k} = ${v.item()}`);
  });
});

const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });

test('the PyTorch peer builds pixelllm-tiny with our parameters, name for name and shape for shape', { skip: torch.status !== 0 && 'Debian python3-torch is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pixelllm-peer-'));
  try {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(PIXELLLM_TINY));
    const run = spawnSync('/usr/bin/python3', [join(root, 'bench/pixelllm_peer.py'), '--config', config, '--count'], { encoding: 'utf8', env: { ...process.env, PIXELLLM_THREADS: '1' } });
    assert.equal(run.status, 0, run.stderr);
    const peer = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { params: number; shapes: Record<string, number[]> };
    const ours = new PixelLLM(PIXELLLM_TINY).namedParameters();
    assert.deepEqual(peer.shapes, Object.fromEntries(ours.map(([k, t]) => [k, [...t.shape]])));
    assert.equal(peer.params, ours.reduce((n, [, t]) => n + t.size, 0));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
