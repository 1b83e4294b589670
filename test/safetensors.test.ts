// safetensors: F16/BF16 storage rounds as numpy/torch do, the in-memory (browser) reader equals the file reader,
// a failed write leaves the old file, a header can be read alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, readSafetensorsBuffer, readSafetensorsHeader, writeSafetensors } from '../src/nn/safetensors.ts';
import { floatToHalf, halfToFloat } from '../src/nn/safetensors_format.ts';
import { Tensor, tensor } from '../src/tensor/index.ts';
import { fixturesDir } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'pixelllm-st-'));

test('float16 rounding matches numpy astype(float16) bit for bit', () => {
  // np.array([1/3, 65504, 65520, 1e-8, 5.96e-8, 3e-5, -2.5, 0.1, 1e-4, 6.1e-5], float32).astype(float16).view(uint16)
  const inputs = [1 / 3, 65504, 65520, 1e-8, 5.96e-8, 3e-5, -2.5, 0.1, 1e-4, 6.1e-5];
  assert.deepEqual(inputs.map(floatToHalf), [13653, 31743, 31744, 0, 1, 503, 49408, 11878, 1678, 1023]);
  assert.ok(Number.isNaN(halfToFloat(floatToHalf(NaN))));
  for (let h = 0; h < 0x7c00; h += 37) assert.equal(floatToHalf(halfToFloat(h)), h, `half ${h} round trip`);
});

test('F16 and BF16 files store rounded values and read back as float32', () => {
  const t = tensor([1 / 3, 0.1, -2.5, 3.14159, 1e-30, 65504]);
  const path = join(dir, 'half.safetensors');
  writeSafetensors(path, { t, ids: tensor([1, 2], { dtype: 'int32' }) }, { note: 'x' }, { floatType: 'BF16' });
  const header = readSafetensorsHeader(path);
  assert.equal(header.entries.get('t')!.dtype, 'BF16');
  assert.deepEqual(header.metadata, { note: 'x' });
  // torch.tensor([...]).to(torch.bfloat16).view(torch.int16) & 0xffff
  const bits = [16043, 15821, 49184, 16457, 3490, 18304];
  const back = readSafetensors(path);
  assert.deepEqual(back.get('t')!.toArray(), bits.map((b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]));
  assert.deepEqual(back.get('ids')!.toArray(), [1, 2]);
  writeSafetensors(path, { t }, undefined, { floatType: 'F16' });
  assert.deepEqual(readSafetensors(path).get('t')!.toArray(), t.toArray().map((v) => halfToFloat(floatToHalf(v))));
});

test('the buffer reader (browser) gives what the file reader gives, and the filter skips keys', () => {
  const path = join(fixturesDir(), 't5', 'model.safetensors');
  const fromFile = readSafetensors(path);
  const fromBuffer = readSafetensorsBuffer(readFileSync(path));
  assert.deepEqual([...fromBuffer.keys()], [...fromFile.keys()]);
  for (const [k, t] of fromFile) assert.deepEqual(fromBuffer.get(k)!.toArray(), t.toArray(), k);
  const some = readSafetensors(path, (k) => k.startsWith('encoder.'));
  assert.ok(some.size > 0 && [...some.keys()].every((k) => k.startsWith('encoder.')));
});

test('a write that fails keeps the previous file and leaves no temporary behind', () => {
  const path = join(dir, 'keep.safetensors');
  writeSafetensors(path, { a: tensor([1, 2, 3]) });
  const before = readFileSync(path);
  const bad = new Tensor(new Float32Array(2), [2]);
  assert.throws(() => writeSafetensors(path, { a: bad, __metadata__: bad }), /reserves it/);
  assert.deepEqual(readFileSync(path), before);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), []);
  writeFileSync(join(dir, 'junk.safetensors'), 'x');
  assert.throws(() => readSafetensors(join(dir, 'junk.safetensors')), /too short/);
  assert.throws(() => readSafetensors(join(dir, 'missing.safetensors')), /missing\.safetensors: cannot open \(ENOENT\)/);
  assert.ok(existsSync(path));
});

test('headers that break the format are refused: overlapping or trailing bytes, bad metadata', () => {
  const craft = (name: string, header: unknown, data: Uint8Array) => {
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat([len, json, data]));
    return path;
  };
  const overlap = craft('overlap.st', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8));
  assert.throws(() => readSafetensors(overlap), /tensor b: data starts at 4, expected 8/);
  const trailing = craft('trailing.st', { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(12));
  assert.throws(() => readSafetensors(trailing), /the tensors end at byte \d+ but the file has \d+/);
  const meta = craft('meta.st', { __metadata__: null, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
  assert.throws(() => readSafetensorsHeader(meta), /__metadata__ must map strings to strings, got null/);
  const metaNum = craft('meta2.st', { __metadata__: { step: 5 } }, new Uint8Array(0));
  assert.throws(() => readSafetensorsHeader(metaNum), /__metadata__ must map strings to strings/);
});
