// The safetensors format: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// then the raw little-endian tensor bytes. https://github.com/huggingface/safetensors
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Tensor } from '../tensor/index.ts';
import { UserError } from '../errors.ts';

/** A file that is not valid safetensors, or a tensor in it this project cannot hold; the message names the file and key. */
export class SafetensorsError extends UserError {
  override name = 'SafetensorsError';
}

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };

/** All tensors of a file: floats as float32 (F64 stays float64), integers as int32, BOOL as bool. */
export function readSafetensors(path: string): Map<string, Tensor> {
  const buf = readFileSync(path);
  const fail = (why: string): never => {
    throw new SafetensorsError(`${path}: ${why}`);
  };
  if (buf.length < 8) fail('too short to be a safetensors file');
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) fail(`header length ${headerLen} runs past the end of the file (${buf.length} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8'));
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const base = 8 + headerLen;
  const out = new Map<string, Tensor>();
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const e = raw as Entry;
    const valid = typeof e === 'object' && e !== null && Array.isArray(e.shape) && Array.isArray(e.data_offsets)
      && e.shape.every((d) => Number.isInteger(d) && d >= 0) && e.data_offsets.length === 2
      && e.data_offsets.every((o) => Number.isInteger(o) && o >= 0) && e.data_offsets[0] <= e.data_offsets[1];
    if (!valid) fail(`tensor ${name}: entry ${JSON.stringify(raw)} needs dtype, a shape of non-negative integers and data_offsets [start, end]`);
    const width = BYTES[e.dtype] ?? fail(`tensor ${name}: dtype ${e.dtype} is not supported`);
    const [start, end] = e.data_offsets;
    const n = e.shape.reduce((a, d) => a * d, 1);
    if (end - start !== n * width || base + end > buf.length) {
      fail(`tensor ${name}: offsets [${start}, ${end}] do not hold ${n} ${e.dtype} values within the file`);
    }
    out.set(name, new Tensor(decode(buf.subarray(base + start, base + end), e.dtype, n, name, path), e.shape));
  }
  return out;
}

function decode(bytes: Buffer, dtype: string, n: number, name: string, path: string): Tensor['data'] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    // a byte copy into a fresh (aligned) buffer; the file and x86/ARM hosts are both little-endian
    case 'F32':
      return new Float32Array(new Uint8Array(bytes).buffer);
    case 'F64':
      return new Float64Array(new Uint8Array(bytes).buffer);
    case 'BF16': {
      const out = new Float32Array(n);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16; // bf16 is the top half of a float32
      return out;
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`${path}: tensor ${name}: int64 value ${v} does not fit int32`);
        out[i] = Number(v);
      }
      return out;
    }
    case 'U8':
      return Int32Array.from(bytes);
    case 'I32':
      return new Int32Array(new Uint8Array(bytes).buffer);
    default: // BOOL
      return Uint8Array.from(bytes, (b) => (b !== 0 ? 1 : 0));
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const WRITE_DTYPE: Record<Tensor['dtype'], string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/**
 * Writes tensors (sorted by name) and optional string metadata. The file is written beside the target and renamed
 * over it, so a crash never leaves a half-written file in place of a good one.
 */
export function writeSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) => (a < b ? -1 : 1));
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  const blobs: Uint8Array[] = [];
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError(`${path}: a tensor cannot be named __metadata__ (the format reserves it)`);
    const values = t.values();
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice(); // platform is little-endian
    header[name] = { dtype: WRITE_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
    blobs.push(bytes);
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // align the data to 8 bytes
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, Buffer.concat([head, Buffer.from(json), ...blobs]));
  renameSync(tmp, path);
}
