// The bundled pixelllm-tiny loads and gives, on the example image, the outputs recorded when it was trained
// (scripts/record_bundled_outputs.ts): the same greedy caption and region caption, the same boxes, the same mask.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PixelLLMPipeline } from '../src/infer/pipeline.ts';
import { countsFromString, decodeRle } from '../src/data/mask.ts';
import { BUNDLED_OUTPUT_INPUTS as I } from './pixelllm_bundled_inputs.ts';

const expected = JSON.parse(readFileSync('test/data/pixelllm_tiny_outputs.json', 'utf8'));
const p = PixelLLMPipeline.load('models/pixelllm-tiny');
const near = (a: number[], b: number[], tol: number, what: string) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `${what}: ${a} vs ${b}`));

test('caption: the recorded text, and each word within half a pixel of its recorded place', async () => {
  const [c] = await p.caption([I.image], { beams: 1 });
  assert.equal(c!.text, expected.caption.text);
  assert.equal(c!.words.length, expected.caption.words.length);
  c!.words.forEach((w, i) => near(w.box, expected.caption.words[i].box, 0.5, `word ${i} ${w.word}`));
});

test('locate, segment and describe give the recorded box, mask and region caption', async () => {
  const [l] = await p.locate([I.image], [I.expression]);
  near(l!.box, expected.locate.box, 0.5, 'locate box');
  const [s] = await p.segment([I.image], [I.expression]);
  const bits = (m: { size: [number, number]; counts: string }) => decodeRle({ size: m.size, counts: countsFromString(m.counts) }).data;
  const [a, b] = [bits(s!.mask), bits(expected.segment.mask)];
  let inter = 0;
  let union = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    union += a[i]! | b[i]!;
  }
  assert.ok(union === 0 || inter / union > 0.99, `mask IoU with the recorded one ${inter / union}`);
  const [d] = await p.describe([I.image], [{ box: I.box }]);
  assert.equal(d!.text, expected.describe.text);
});
