// tokenTraceTargets on hand-computed cases: positions, ties, invalid utterances, special tokens, clipping, rounding.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tokenTraceTargets } from '../src/data/batch/index.ts';
import type { UtteranceTarget } from '../src/data/types.ts';

const special = { pad: 0, bos: 1, eos: 2 };
const utt = (utterance: string, box: number[], center: number[]): UtteranceTarget =>
  ({ utterance, box: box as UtteranceTarget['box'], center: center as UtteranceTarget['center'] });

test('tokens take the nearest valid utterance by relative position', () => {
  // Image 160 × 80. Utterances: A valid, B empty (invalid), C with centre x = 0 (invalid), D valid → N = 2 valid,
  // at positions 1/2 (A) and 2/2 (D). Tokens [BOS, t, t, t, t, EOS, PAD]: M = 4 real tokens at
  // 1/2 + (j/4)·(1 − 1/2) = 0.625, 0.75, 0.875, 1.0 → A (0.125 vs 0.375), A (a tie 0.25/0.25: the first), D, D.
  // A's box in pixels: [1/64·160, 7/32·80, 0.5·160, 0.75·80] = [2.5, 17.5, 80, 60] → half to even [2, 18, 80, 60];
  // A's centre [0.25·160, 0.5·80] = [40, 40]. D's box [−0.1, 0.5, 1.2, 0.9] clips to [0, 0.5, 1, 0.9] → [0, 40, 160, 72],
  // centre [0.8·160, 0.625·80] = [128, 50].
  const utterances = [
    utt('a red car', [1 / 64, 7 / 32, 0.5, 0.75], [0.25, 0.5]),
    utt('  ', [0.1, 0.1, 0.2, 0.2], [0.5, 0.5]),
    utt('and', [0.1, 0.1, 0.2, 0.2], [0, 0.5]),
    utt('on the road', [-0.1, 0.5, 1.2, 0.9], [0.8, 0.625]),
  ];
  const t = tokenTraceTargets([1, 10, 11, 12, 13, 2, 0], utterances, special, 160, 80);
  assert.deepEqual([...t.mask], [0, 1, 1, 1, 1, 0, 0]);
  const A = [2, 18, 80, 60];
  const D = [0, 40, 160, 72];
  assert.deepEqual([...t.boxes], [0, 0, 0, 0, ...A, ...A, ...D, ...D, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...t.centers], [0, 0, 40, 40, 40, 40, 128, 50, 128, 50, 0, 0, 0, 0]);
});

test('more utterances than tokens: positions skip utterances; a truncated caption (no EOS) still spans them all', () => {
  // N = 4 valid at 0.25, 0.5, 0.75, 1; tokens [BOS, t, t] (EOS cut off by truncation): M = 2 at
  // 0.25 + (j/2)·0.75 = 0.625 (tie between 0.5 and 0.75 → the first, utterance 2) and 1.0 (utterance 4).
  const utterances = [1, 2, 3, 4].map((k) => utt(`u${k}`, [k / 10, 0, k / 10, 0.5], [k / 10, 0.25]));
  const t = tokenTraceTargets([1, 7, 8], utterances, special, 100, 100);
  assert.deepEqual([...t.mask], [0, 1, 1]);
  assert.deepEqual([...t.boxes.subarray(4, 8)], [20, 0, 20, 50]);
  assert.deepEqual([...t.boxes.subarray(8, 12)], [40, 0, 40, 50]);
});

test('no valid utterance, no real token, or an all-zero box: no target', () => {
  const none = tokenTraceTargets([1, 5, 6, 2], [utt('', [0.1, 0.1, 0.2, 0.2], [0.5, 0.5])], special, 10, 10);
  assert.deepEqual([...none.mask], [0, 0, 0, 0]);
  const empty = tokenTraceTargets([1, 2, 0], [utt('hi', [0.1, 0.1, 0.2, 0.2], [0.5, 0.5])], special, 10, 10);
  assert.deepEqual([...empty.mask], [0, 0, 0]);
  // a trace entirely above-left of the image clips to [0, 0, 0, 0], which the point loss would ignore
  const off = tokenTraceTargets([1, 5, 2], [utt('up there', [-0.3, -0.3, -0.1, -0.1], [0.01, 0.01])], special, 10, 10);
  assert.deepEqual([...off.mask], [0, 0, 0]);
});
