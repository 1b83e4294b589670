// The pickle reader: a refer-style refs file made by Python, Python 2 style opcodes assembled by hand, and refusals.
//
// test/data/refer/refcoco/refs(google).p holds the refcoco google refs of the shared RefCOCO sample in the refer
// toolkit's layout (no embedded `ann`, no dataset fields). It was made once, from the repository root, with:
//   python3 -c "import json,pickle; refs=[{k:v for k,v in r.items() if k not in ('ann','dataset','dataset_partition')} for r in json.load(open('../shared/data/refcoco-sample/refcoco_sample_refs.json'))['ref'] if r['dataset']=='refcoco' and r['dataset_partition']=='google']; pickle.dump(refs, open('test/data/refer/refcoco/refs(google).p','wb'), protocol=2)"
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPickle } from '../src/data/pickle.ts';
import { DataError } from '../src/data/records.ts';
import { SHARED } from './data_helpers.ts';

const REFS = new URL('./data/refer/refcoco/refs(google).p', import.meta.url);

test('the refer-layout refs pickle holds exactly the sample refs it was made from', () => {
  const sample = JSON.parse(readFileSync(join(SHARED, 'refcoco-sample/refcoco_sample_refs.json'), 'utf8')).ref as Record<string, unknown>[];
  const expected = sample
    .filter((r) => r.dataset === 'refcoco' && r.dataset_partition === 'google')
    .map(({ ann: _a, dataset: _d, dataset_partition: _p, ...rest }) => rest);
  assert.equal(expected.length, 5);
  assert.deepEqual(readPickle(readFileSync(REFS)), expected);
});

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const u32 = (n: number): number[] => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];

test('Python 2 cPickle protocol 2 opcodes, assembled by hand', () => {
  const bytes = Uint8Array.from([
    0x80, 2, // PROTO 2
    0x7d, 0x71, 0, // EMPTY_DICT, BINPUT 0
    0x28, // MARK
    0x55, 3, ...ascii('raw'), 0x71, 1, // SHORT_BINSTRING 'raw', BINPUT 1
    0x54, ...u32(5), ...ascii('caf'), 0xe9, ...ascii('!'), // BINSTRING in Latin-1 (not UTF-8): 'café!'
    0x55, 2, ...ascii('id'), 0x4a, ...u32(0xffffffff), // BININT -1
    0x55, 3, ...ascii('big'), 0x8a, 5, 0, 0, 0, 0, 1, // LONG1 2^32
    0x55, 3, ...ascii('neg'), 0x8a, 2, 0x00, 0xff, // LONG1 -256 (two's complement)
    0x55, 1, ...ascii('f'), 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, // BINFLOAT 1.5 (big-endian)
    0x55, 1, ...ascii('n'), 0x4e, // NONE
    0x55, 1, ...ascii('t'), 0x88, // NEWTRUE
    0x55, 4, ...ascii('pair'), 0x4b, 7, 0x4d, 0x34, 0x12, 0x86, // TUPLE2 (BININT1 7, BININT2 0x1234)
    0x55, 4, ...ascii('same'), 0x68, 1, // BINGET 1: the memoised 'raw'
    0x55, 1, ...ascii('u'), 0x58, ...u32(2), 0xc3, 0xa9, // BINUNICODE 'é' in UTF-8
    0x55, 1, ...ascii('l'), 0x5d, 0x28, 0x4b, 1, 0x4b, 2, 0x65, 0x4b, 3, 0x61, // EMPTY_LIST, MARK 1 2 APPENDS, 3 APPEND
    0x75, // SETITEMS
    0x2e, // STOP
  ]);
  assert.deepEqual(readPickle(bytes), { raw: 'café!', id: -1, big: 2 ** 32, neg: -256, f: 1.5, n: null, t: true, pair: [7, 0x1234], same: 'raw', u: 'é', l: [1, 2, 3] });
});

test('text INT and LONG opcodes, which Python 2 writes even in protocol 2 for ints past 32 bits', () => {
  // Python 2's save_int writes an int outside 32 bits as `I4294967296\n` in every protocol; protocol 1 writes booleans
  // as `I01\n` / `I00\n`; text LONG is `L-7L\n`
  const bytes = Uint8Array.from([0x80, 2, 0x5d, 0x28, 0x49, ...ascii('4294967296\n'), 0x49, ...ascii('01\n'), 0x4c, ...ascii('-7L\n'), 0x65, 0x2e]);
  assert.deepEqual(readPickle(bytes), [4294967296, true, -7]);
  assert.throws(() => readPickle(Uint8Array.from([0x80, 2, 0x49, ...ascii('1e5\n'), 0x2e])), /text integer "1e5"/);
});

test('Python 3 protocol 4 framing and memo opcodes', () => {
  // PROTO 4, FRAME 6, SHORT_BINUNICODE 'hi', MEMOIZE, TUPLE1, STOP
  const bytes = Uint8Array.from([0x80, 4, 0x95, 6, 0, 0, 0, 0, 0, 0, 0, 0x8c, 2, ...ascii('hi'), 0x94, 0x85, 0x2e]);
  assert.deepEqual(readPickle(bytes), ['hi']);
});

test('object-building opcodes are refused, truncation is named, both with the byte offset', () => {
  const throwsNaming = (bytes: number[], ...parts: string[]): void => assert.throws(() => readPickle(Uint8Array.from(bytes), 'refs.p'), (e: unknown) => {
    assert.ok(e instanceof DataError);
    for (const p of parts) assert.ok(e.message.includes(p), `${e.message} does not mention ${p}`);
    return true;
  });
  // GLOBAL 'os\nsystem\n' would import a callable: never
  throwsNaming([0x80, 2, 0x63, ...ascii('os\nsystem\n')], 'refs.p: byte 2: pickle opcode 0x63 ("c") is not supported');
  throwsNaming([0x80, 2, 0x5d, 0x4b], 'refs.p: byte 4:', 'truncated');
  throwsNaming([0x80, 2, 0x5d, 0x4b, 1], 'refs.p: byte 5:', 'truncated');
  throwsNaming([0x80, 2, 0x68, 9], 'memo entry 9 was never stored');
});
