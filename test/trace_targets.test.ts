// Localized Narratives targets: against PixelLLM's algorithm run in numpy/scipy on the real samples
// (test/data/ln_targets.json, made by scripts/reference/make_ln_targets.py), and on cases worked by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonl } from '../src/data/jsonl.ts';
import { parseNarrative } from '../src/data/readers/localized_narratives.ts';
import { readVideoNarratives } from '../src/data/readers/video_narratives.ts';
import { captionTokens, tokenTraceTargets, utteranceTargets } from '../src/data/trace_targets.ts';
import type { UtteranceTarget } from '../src/data/types.ts';
import { collect, SHARED } from './data_helpers.ts';

interface RefCase {
  image_id: string;
  utterances: UtteranceTarget[];
  tokens: number[];
  targets: { width: number; height: number; boxes: number[][]; utterance: number[] }[];
}
const ref: { bos: number; eos: number; pad: number; image: RefCase[]; video: RefCase[] } =
  JSON.parse(readFileSync(new URL('./data/ln_targets.json', import.meta.url), 'utf8'));
const special = { bos: ref.bos, eos: ref.eos, pad: ref.pad };
const LN = join(SHARED, 'localized-narratives');

function assertSameTargets(got: UtteranceTarget[], expected: UtteranceTarget[], label: string): void {
  assert.equal(got.length, expected.length, `${label}: utterance count`);
  got.forEach((u, k) => {
    assert.equal(u.utterance, expected[k].utterance);
    // the same float64 operations in the same order as numpy/scipy: bit-exact
    assert.deepEqual([...u.box, ...u.center], [...expected[k].box, ...expected[k].center], `${label} utterance ${k} (${u.utterance})`);
  });
}

function assertSameTokens(c: RefCase, utterances: UtteranceTarget[]): void {
  for (const t of c.targets) {
    const got = tokenTraceTargets(c.tokens, special, utterances, t.width, t.height);
    assert.deepEqual(Array.from(got.utterance), t.utterance, `${c.image_id} at ${t.width}×${t.height}: matched utterances`);
    // + 0 turns the reference's -0 (a masked token times a negative coordinate) into 0
    assert.deepEqual(Array.from(got.boxes), t.boxes.flat().map((v) => v + 0), `${c.image_id} at ${t.width}×${t.height}: boxes`);
  }
}

test('image LN sample: per-utterance and per-token targets equal the reference algorithm', async () => {
  const narratives = await collect(parseJsonl(join(LN, 'derived_image_ln_style.jsonl'), parseNarrative));
  assert.equal(narratives.length, ref.image.length);
  narratives.forEach((n, i) => {
    const c = ref.image[i];
    assert.equal(n.image_id, c.image_id);
    const utterances = utteranceTargets(n.traces.flat(), n.timed_caption);
    assertSameTargets(utterances, c.utterances, c.image_id);
    assertSameTokens(c, utterances);
  });
  // the 39-word narrative is cut to BOS + 23 real tokens, which still spread over all 39 utterances (truncation first)
  const long = ref.image.find((c) => c.utterances.length === 39)!;
  assert.equal(long.tokens.filter((t) => t !== ref.bos && t !== ref.eos && t !== ref.pad).length, 23);
  assert.equal(Math.max(...long.targets[0].utterance), 38);
});

test('Video LN sample: per-word targets of every actor narrative equal the reference algorithm', async () => {
  const examples = await collect(readVideoNarratives(join(LN, 'vidln_sample_combined.jsonl')));
  assert.equal(examples.length, 22);
  examples.forEach((ex, i) => {
    const c = ref.video[i];
    assert.equal(ex.imageId, c.image_id);
    assertSameTargets(ex.utterances!, c.utterances, c.image_id);
    assertSameTokens(c, ex.utterances!);
  });
});

test('utteranceTargets by hand: joined and sorted segments, linear samples, extrapolation, time average', () => {
  // x(t) = t up to t = 1 then 1; y(t) = t/2 up to t = 1 then t/2 again (slope 1/2 on both segments)
  const traces = [[{ x: 1, y: 1, t: 2 }], [{ x: 0, y: 0, t: 0 }, { x: 1, y: 0.5, t: 1 }]];
  const [inside, after, before, instant] = utteranceTargets(traces.flat(), [
    { utterance: 'inside', start_time: 0.5, end_time: 2 }, // samples every 0.1 s; the kink at t = 1 is a sample
    { utterance: 'after', start_time: 2, end_time: 3 }, // past the last point: the last segment extended
    { utterance: 'before', start_time: -1, end_time: 0 }, // before the first point: the first segment extended
    { utterance: 'instant', start_time: 1, end_time: 1 }, // no duration: the plain mean of 16 equal samples
  ]);
  const close = (a: number[], b: number[], label: string): void =>
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-12, `${label}: ${a} vs ${b}`));
  close(inside.box, [0.5, 0.25, 1, 1], 'inside box');
  // ∫ x = ∫_0.5^1 t dt + ∫_1^2 1 dt = 0.375 + 1, over 1.5 s; ∫ y = ∫_0.5^2 t/2 dt = 0.9375, over 1.5 s
  close(inside.center, [1.375 / 1.5, 0.625], 'inside centre');
  close(after.box, [1, 1, 1, 1.5], 'after box');
  close(after.center, [1, 1.25], 'after centre');
  close(before.box, [-1, -0.5, 0, 0], 'before box');
  close(before.center, [-0.5, -0.25], 'before centre');
  close([...instant.box, ...instant.center], [1, 0.5, 1, 0.5, 1, 0.5], 'instant');
});

const utt = (utterance: string, center: [number, number], box: [number, number, number, number]): UtteranceTarget => ({ utterance, center, box });

test('tokenTraceTargets by hand: valid utterances, relative positions, clipping, pads and specials', () => {
  const utterances = [
    utt('a', [0.2, 0.2], [0.1, 0.1, 0.3, 0.3]),
    utt('  ', [0.5, 0.5], [0, 0, 1, 1]), // blank: not matchable
    utt('b', [0.5, 0.5], [0.4, 0.4, 0.6, 0.6]),
    utt('c', [0, 0.5], [0, 0, 1, 1]), // centre x ≤ 1e-5: not matchable
    utt('d', [0.8, 0.8], [0.7, 0.7, 1.2, 0.9]), // x1 clipped to 1
  ];
  const { bos, eos, pad } = special;
  // N = 3 valid utterances at 1/3, 2/3, 1; M = 5 real tokens at 1/3 + (j/5)(2/3) = 0.467, 0.6, 0.733, 0.867, 1
  // → nearest: a, b, b, d, d
  const tokens = [bos, 7, 8, 9, 10, 11, eos, pad, pad];
  const got = tokenTraceTargets(tokens, special, utterances, 100, 50);
  assert.deepEqual(Array.from(got.utterance), [-1, 0, 2, 2, 4, 4, -1, -1, -1]);
  const a = [10, 5, 30, 15];
  const b = [40, 20, 60, 30];
  const d = [70, 35, 100, 45];
  const none = [0, 0, 0, 0];
  assert.deepEqual(Array.from(got.boxes), [none, a, b, b, d, d, none, none, none].flat());
});

test('tokenTraceTargets: ties go to the earlier utterance, halves round to even in float32, no valid utterance → zeros', () => {
  const two = [utt('x', [0.5, 0.5], [0.5, 0.5, 0.7, 0.9]), utt('y', [0.5, 0.5], [0, 0, 1, 1])];
  // N = 2 at 0.5 and 1; M = 2 real tokens at 0.75 (equidistant: the first wins) and 1
  const { bos, eos } = special;
  const got = tokenTraceTargets([bos, 5, 6, eos], special, two, 5, 3);
  assert.deepEqual(Array.from(got.utterance), [-1, 0, 1, -1]);
  // 0.5·5 = 2.5 → 2 and 0.5·3 = 1.5 → 2 (half to even); float32(0.7)·5 = 3.49999994 rounds to float32 3.5 → 4;
  // float32(0.9)·3 = 2.6999999 → 3
  assert.deepEqual(Array.from(got.boxes.subarray(4, 8)), [2, 2, 4, 3]);
  const blank = tokenTraceTargets([bos, 5, 6, eos], special, [utt(' ', [0.5, 0.5], [0, 0, 1, 1])], 5, 3);
  assert.deepEqual(Array.from(blank.boxes), new Array(16).fill(0));
  assert.deepEqual(Array.from(blank.utterance), [-1, -1, -1, -1]);
});

test('captionTokens: BOS + caption + EOS, cut to the maximum length (a long caption loses its EOS)', () => {
  assert.deepEqual(captionTokens([7, 8], special, 6), [special.bos, 7, 8, special.eos]);
  assert.deepEqual(captionTokens([7, 8, 9, 10], special, 4), [special.bos, 7, 8, 9]);
});
