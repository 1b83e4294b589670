// The streaming json reader: every real sample rebuilt item by item equals JSON.parse of the whole file, at any
// chunk size; hard cases (strings holding brackets and quotes, multi-byte characters cut by a chunk boundary, scalar
// items, unwanted keys); errors name the item's key path and line, or the line where the structure breaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { streamJson } from '../src/data/json_stream.ts';
import { BadRecords } from '../src/data/records.ts';
import { collect, rejectsNaming, scratch, SHARED } from './data_helpers.ts';

async function rebuild(path: string, chunkSize: number, keys?: string[]): Promise<unknown> {
  let out: unknown;
  const onKey = (key: string): void => {
    if (!keys || keys.includes(key)) ((out ??= {}) as Record<string, unknown>)[key] = [];
  };
  for await (const it of streamJson(path, { chunkSize, keys, onKey })) {
    if (it.key === '') (out ??= [] as unknown[]) && (out as unknown[]).push(it.value);
    else {
      out ??= {};
      const o = out as Record<string, unknown>;
      if (it.index < 0) o[it.key] = it.value;
      else ((o[it.key] ??= []) as unknown[]).push(it.value);
    }
  }
  return out;
}

test('every json sample rebuilt from its streamed items equals JSON.parse of the file', async () => {
  const files = [
    'coco-mini/annotations/captions_train2017.json', 'coco-mini/annotations/instances_val2017.json',
    'vg-sample/region_descriptions_v1.0_images1-5.json', 'vg-sample/region_descriptions_v1.2_images1-5.json',
    'vg-sample/image_data_images1-5.json', 'refcoco-sample/refcoco_sample_refs.json', 'caption-eval/coco-mini-loo-golden.json',
  ];
  for (const f of files) {
    const path = join(SHARED, f);
    const whole = JSON.parse(readFileSync(path, 'utf8'));
    for (const chunk of [1 << 20, 4093]) assert.deepEqual(await rebuild(path, chunk), whole, `${f} in chunks of ${chunk}`);
  }
});

test('strings with brackets, quotes, escapes and multi-byte characters split across 1-byte chunks', async () => {
  const value = {
    info: { note: 'a "]}" in a string \\', list: [1, '[', { '}': ']' }] },
    n: 5,
    s: 'x,y',
    annotations: [{ caption: 'ünïcode 😀 "quoted" \\"' }, 'scalar, with comma', -1.5e3, true, null, [[]], {}],
    empty: [],
  };
  const path = join(scratch({ 'a.json': JSON.stringify(value, null, 2) }), 'a.json');
  assert.deepEqual(await rebuild(path, 1), value);
  assert.deepEqual(await rebuild(path, 7, ['annotations']), { annotations: value.annotations }); // others scanned past
  const items = await collect(streamJson(path, { keys: ['annotations'] }));
  assert.deepEqual(items.map((i) => String(i.at)), [0, 1, 2, 3, 4, 5, 6].map((k) => `${path}: annotations[${k}]`));
  const top = join(scratch({ 't.json': ' [ 1 , "two" , {"three": [3]} ] ' }), 't.json');
  assert.deepEqual((await collect(streamJson(top, { chunkSize: 3 }))).map((i) => [String(i.at).slice(top.length + 2), i.value]), [['[0]', 1], ['[1]', 'two'], ['[2]', { three: [3] }]]);
});

test('an item that is not valid JSON is named by key path and line, and can be skipped', async () => {
  const path = join(scratch({ 'b.json': '{"images": [\n{"id": 1},\n{"id": 01},\n{"id": 3}\n]}' }), 'b.json');
  await rejectsNaming(() => collect(streamJson(path)), `${path}: images[1] (line 3): not valid JSON`);
  const bad = new BadRecords('skip');
  assert.deepEqual((await collect(streamJson(path, {}, bad))).map((i) => i.value), [{ id: 1 }, { id: 3 }]);
  assert.equal(bad.skipped, 1);
});

test('a broken structure always stops, naming the line', async () => {
  const cases: [string, string][] = [
    ['{"images": [{"id": 1}', ':1: the file ends inside a value'],
    ['{"images": [{"id": 1}]}\n]', ':2: more data after the top-level value'],
    ['{"images": [{"id": 1}}', ':1: unexpected "}"'],
    ['{"images" [1]}', ':1: unexpected "["'],
    ['{"a": 1}\n{"b": 2}', ':2: more data after the top-level value'],
    ['"just a string"', ':1: expected a top-level object or array'],
    ['', ':1: the file is empty'],
    // the separators between streamed items are checked too (each item is parsed on its own)
    ['[{"a": 1}{"b": 2}]', ':1: missing "," between two items'],
    ['{"annotations": [{"a": 1},\n,{"c": 3}]}', ':2: unexpected "," (an item is missing)'],
    ['[1, 2,]', ':1: a "," before "]" (trailing comma)'],
    ['[, 1]', ':1: unexpected "," (an item is missing)'],
  ];
  for (const [text, message] of cases) {
    const path = join(scratch({ 'c.json': text }), 'c.json');
    await rejectsNaming(() => collect(streamJson(path, {}, new BadRecords('skip'))), `${path}${message}`);
  }
  await rejectsNaming(() => collect(streamJson('/no/such.json')), '/no/such.json: cannot read: no such file');
});
