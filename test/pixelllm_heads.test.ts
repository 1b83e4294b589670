// The two additions for small models trained from scratch: region tokens (bilinear samples of the fused map inside
// the prompt box) and the grid-pointer point head (a softmax over cells places the box centre).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, Tensor } from '../src/tensor/index.ts';
import { RegionTokens, roiSampleWeights } from '../src/models/pixelllm/region_tokens.ts';
import { GridPointPredictor, pointsToBoxes } from '../src/models/pixelllm/point_head.ts';
import { cellLoss } from '../src/train/losses.ts';

test('region sampling weights: each sample sums to 1, bilinear between cell centres, clamped to the edge cells outside', () => {
  const g = 4, S = 64, k = 2; // cells of 16 px, centres at 8, 24, 40, 56
  const w = roiSampleWeights([0, 0, 64, 64, 16, 32, 32, 48], 2, k, g, S);
  for (let s = 0; s < 2 * k * k; s++) {
    const row = w.subarray(s * g * g, (s + 1) * g * g);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6, `sample ${s} sums to 1`);
  }
  // box 0: 2×2 samples at (16, 16), (48, 16), … each halfway between four cell centres
  assert.deepEqual(Array.from(w.subarray(0, g * g)).map((x) => +x.toFixed(3)), [0.25, 0.25, 0, 0, 0.25, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  // box 1 (16..32 × 32..48) split 2×2: samples at x 20 / 28, y 36 / 44; the first is ¾ of the way from cell centre 8 to 24 in x
  const first = w.subarray(k * k * g * g, (k * k + 1) * g * g);
  assert.ok(Math.abs(first[2 * g + 1]! - 0.75 * 0.75) < 1e-6, `cell (2, 1) weight ${first[2 * g + 1]}`);
  // samples outside the grid clamp to the edge cell
  const edge = roiSampleWeights([-50, -50, -40, -40], 1, 1, g, S);
  assert.equal(edge[0], 1);
});

test('region tokens: (B, k², W), and the gradient reaches only the cells the box samples', () => {
  const rng = new Generator(1);
  const module = new RegionTokens(2, 6, 8);
  const fused = rng.normal([1, 4, 4, 6]).requireGrad();
  const out = module.forward(fused, new Tensor(Float32Array.from([0, 0, 32, 32]), [1, 4]), 64); // top-left quarter
  assert.deepEqual(out.shape, [1, 4, 8]);
  out.mul(rng.normal([1, 4, 8])).sum().backward();
  const grad = fused.grad!.values() as Float32Array;
  const touched = Array.from({ length: 16 }, (_, c) => grad.subarray(c * 6, c * 6 + 6).some((x) => x !== 0));
  // samples at 8 and 24 px are the centres of cells 0 and 1: the cells 0, 1, 4, 5 only
  assert.deepEqual(touched.map((t, c) => (t ? c : -1)).filter((c) => c >= 0), [0, 1, 4, 5]);
});

test('grid point head: uniform attention and zero extent logits give a box centred on the canvas, in the MLP head\'s layout', () => {
  const rng = new Generator(2);
  const S = 64, g = 4, W = 8, C = 6, Cp = 4;
  const head = new GridPointPredictor(W, C, Cp, 8, 2);
  for (const l of [head.key, head.key_pe]) { l.weight.data.fill(0); l.bias!.data.fill(0); }
  const last = head.extent.layers.at(-1)!;
  last.weight.data.fill(0);
  last.bias!.data.fill(0);
  const valid = new Tensor(Float32Array.from([64, 64, 40, 64]), [2, 2]); // the second image is narrower than the canvas
  const raw = head.forward(rng.normal([2, 3, W]), rng.normal([2, g, g, C]), rng.normal([1, g, g, Cp]), S, valid);
  assert.deepEqual(raw.shape, [2, 3, 8]);
  const r = raw.values() as Float32Array;
  for (let i = 0; i < 6; i++) assert.deepEqual([r[i * 8 + 2], r[i * 8 + 3], r[i * 8 + 6], r[i * 8 + 7]], [0, 0, 0, 0]);
  const boxes = pointsToBoxes(raw, valid.reshape(2, 1, 2)).values() as Float32Array; // (2, 3, 4) pixels
  const e = Math.log(2) * (S / 16);
  for (let i = 0; i < 6; i++) {
    const want = [32 - e, 32 - e, 32 + e, 32 + e];
    Array.from(boxes.subarray(i * 4, i * 4 + 4)).forEach((v, j) => assert.ok(Math.abs(v - want[j]!) < 1e-4, `row ${i} coordinate ${j}: ${v} vs ${want[j]}`));
  }
});

test('cell loss: cross-entropy towards the cell holding each box centre, over the masked positions only', () => {
  const g = 4, S = 64; // cells of 16 px
  const logits = new Float32Array(2 * g * g);
  logits[2 * g + 1] = 20; // position 0 points at cell (row 2, col 1)
  logits[g * g + 0] = 20; // position 1 points at cell 0
  const cellLogits = new Tensor(logits, [1, 2, g * g]);
  // box 0's centre (24, 40) is in cell (2, 1); box 1's centre (56, 56) is in cell (3, 3)
  const boxes = new Tensor(Float32Array.from([16, 32, 32, 48, 48, 48, 64, 64]), [1, 2, 4]);
  const first = cellLoss(cellLogits, boxes, new Tensor(Uint8Array.from([1, 0]), [1, 2]), S).item();
  assert.ok(first < 1e-6, `the right cell costs nothing: ${first}`);
  const second = cellLoss(cellLogits, boxes, new Tensor(Uint8Array.from([0, 1]), [1, 2]), S).item();
  assert.ok(Math.abs(second - 20 - Math.log(1 + 15 * Math.exp(-20))) < 1e-3, `the wrong cell costs its logit gap: ${second}`);
  assert.equal(cellLoss(cellLogits, boxes, new Tensor(Uint8Array.from([0, 0]), [1, 2]), S).item(), 0);
});
