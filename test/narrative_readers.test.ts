// Localized Narratives and Video LN readers on the real samples, and their errors: file:line plus the key path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonl, readJsonl } from '../src/data/jsonl.ts';
import { At, BadRecords } from '../src/data/records.ts';
import { narrativeImageFile, parseNarrative, readLocalizedNarratives } from '../src/data/readers/localized_narratives.ts';
import { parseVideoNarratives, readVideoNarratives } from '../src/data/readers/video_narratives.ts';
import { collect, rejectsNaming, scratch, SHARED } from './data_helpers.ts';

const LN = join(SHARED, 'localized-narratives');
const DERIVED = join(LN, 'derived_image_ln_style.jsonl');
const VIDEO = join(LN, 'vidln_sample_combined.jsonl');
const lines = (path: string): Record<string, unknown>[] => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('image LN sample: 7 trace examples with ids, sources, image paths and one target per utterance', async () => {
  const examples = await collect(readLocalizedNarratives(DERIVED, { imageDir: '/frames/OVIS_train', imageSizes: new Map([['c1a40349/img_0000040', { width: 1280, height: 720 }]]) }));
  const raw = lines(DERIVED);
  assert.equal(examples.length, 7);
  examples.forEach((ex, i) => {
    const r = raw[i] as { image_id: string; annotator_id: number; caption: string; timed_caption: unknown[] };
    assert.equal(ex.task, 'trace');
    assert.equal(ex.source, 'ln/DERIVED_from_vidln_OVIS_train');
    assert.equal(ex.id, `${r.image_id}:${r.annotator_id}`);
    assert.equal(ex.text, r.caption);
    assert.equal(ex.imagePath, `/frames/OVIS_train/${r.image_id}.jpg`);
    assert.equal(ex.utterances!.length, r.timed_caption.length);
  });
  assert.deepEqual([examples[0].width, examples[0].height], [1280, 720]);
  assert.deepEqual([examples[1].width, examples[1].height], [0, 0]); // no size given: unknown until decoded
  assert.deepEqual(examples[0].utterances!.map((u) => u.utterance), 'A group of people is cycling on the grey road'.split(' '));
});

test('COCO narratives name their images by the 12-digit id; other datasets by the id', () => {
  assert.equal(narrativeImageFile('mscoco_val2017', '139'), '000000000139.jpg');
  assert.equal(narrativeImageFile('open_images_train_v6', '0000b9fcba019d36'), '0000b9fcba019d36.jpg');
  assert.equal(narrativeImageFile('ADE20k', 'ADE_train_00000001'), 'ADE_train_00000001.jpg');
});

test('Video LN sample: each actor narrative in the image schema equals the derived sample where one exists', async () => {
  const converted = lines(VIDEO).flatMap((v, i) => parseVideoNarratives(v, new At(`${VIDEO}:${i + 1}`)));
  assert.equal(converted.length, 22);
  const derived = await collect(parseJsonl(DERIVED, parseNarrative));
  for (const d of derived) {
    const match = converted.find((c) => c.image_id === d.image_id && c.caption === d.caption);
    assert.ok(match, `no converted narrative for ${d.image_id}`);
    assert.deepEqual(match, d);
  }
  const examples = await collect(readVideoNarratives(VIDEO, { imageDir: 'frames' }));
  assert.equal(examples.length, 22);
  assert.equal(examples[0].imagePath, 'frames/Carnival of Excess (March 2019) _ FailArmy34/000025.jpg');
  assert.equal(examples[0].source, 'ln/DERIVED_from_vidln_oops_train');
  // per-word targets: one utterance per timed word
  assert.deepEqual(examples[0].utterances!.slice(0, 3).map((u) => u.utterance), ['A', 'man', 'wearing']);
});

const NARRATIVE = {
  dataset_id: 'mscoco_val2017', image_id: '139', annotator_id: 7, caption: 'a cat',
  timed_caption: [{ utterance: 'a', start_time: 0, end_time: 0.5 }, { utterance: 'cat', start_time: 0.5, end_time: 1 }],
  traces: [[{ x: 0.1, y: 0.2, t: 0 }, { x: 0.3, y: 0.4, t: 1 }]],
};
const jsonl = (...records: unknown[]): string => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

test('malformed LN records are named by file:line and key path; stop by default, skip-and-count on request', async () => {
  const badTime = { ...NARRATIVE, timed_caption: [{ utterance: 'a', start_time: 'zero', end_time: 1 }] };
  const noCaption = { ...NARRATIVE, caption: undefined };
  const badPoint = { ...NARRATIVE, traces: [[{ x: 0.1, y: 0.2, t: 0 }, { x: 0.3, t: 1 }]] };
  const file = join(scratch({ 'ln.jsonl': jsonl(NARRATIVE, badTime, '{"dataset_id": ', '', noCaption, badPoint, NARRATIVE) }), 'ln.jsonl');
  await rejectsNaming(() => collect(readLocalizedNarratives(file)), `${file}:2: timed_caption[0].start_time: expected a finite number, got "zero"`);
  const bad = new BadRecords('skip');
  const examples = await collect(readLocalizedNarratives(file, { bad }));
  assert.equal(examples.length, 2);
  assert.equal(bad.skipped, 4);
  assert.deepEqual(bad.examples.map((m) => m.slice(file.length)), [
    ':2: timed_caption[0].start_time: expected a finite number, got "zero"',
    `:3: not valid JSON (${errorOf('{"dataset_id": ')}); each line of a .jsonl file must be one JSON record`,
    ':5: caption: missing (expected a string)',
    ':6: traces[0][1].y: missing (expected a number)',
  ]);
});

const errorOf = (text: string): string => {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
};

test('a narrative with fewer than 2 trace points is left out as the reference does, and counted', async () => {
  const file = join(scratch({ 'ln.jsonl': jsonl({ ...NARRATIVE, traces: [[{ x: 0.1, y: 0.2, t: 0 }]] }, { ...NARRATIVE, traces: [] }, NARRATIVE) }), 'ln.jsonl');
  const bad = new BadRecords();
  assert.equal((await collect(readLocalizedNarratives(file, { bad }))).length, 1);
  assert.deepEqual([...bad.dropped], [['narrative with fewer than 2 trace points', 2]]);
});

test('malformed Video LN records name the actor narrative and the key', async () => {
  const video = lines(VIDEO)[0] as { actor_narratives: Record<string, unknown>[] };
  const badKeyframe = structuredClone(video);
  (badKeyframe.actor_narratives[1].traces as { kf_idx: number }[][])[2][3].kf_idx = 12;
  const noWords = structuredClone(video);
  delete noWords.actor_narratives[4].time_alignment;
  const file = join(scratch({ 'v.jsonl': jsonl(badKeyframe, noWords) }), 'v.jsonl');
  const bad = new BadRecords('skip');
  assert.equal((await collect(readVideoNarratives(file, { bad }))).length, 0);
  assert.deepEqual(bad.examples.map((m) => m.slice(file.length)), [
    ':1: actor_narratives[1].traces[2][3].kf_idx: keyframe 12 is not one of the 10 keyframe_names',
    ':2: actor_narratives[4].time_alignment: missing (expected a list)',
  ]);
});

test('jsonl: blank lines and CRLF endings are fine; a missing file is a DataError naming it', async () => {
  const file = join(scratch({ 'a.jsonl': '{"a": 1}\r\n\r\n  \n{"a": 2}' }), 'a.jsonl');
  const records = await collect(readJsonl(file));
  assert.deepEqual(records.map((r) => [r.value, String(r.at)]), [[{ a: 1 }, `${file}:1`], [{ a: 2 }, `${file}:4`]]);
  await rejectsNaming(() => collect(readJsonl('/no/such/file.jsonl')), '/no/such/file.jsonl: cannot read: no such file');
});
