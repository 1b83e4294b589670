// The safetensors format, free of Node APIs (the browser reads an ArrayBuffer with it): an 8-byte little-endian
// header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__?: {string: string}}, then the raw
// little-endian tensor bytes. https://github.com/huggingface/safetensors
import { Tensor } from '../tensor/index.ts';
import { UserError } from '../errors.ts';

/** A file that is not valid safetensors, or a tensor in it this project cannot hold; the message names the file and key. */
export class SafetensorsError extends UserError {
  override name = 'SafetensorsError';
}

export interface Entry {
  dtype: string;
  shape: number[];
  /** byte range within the data section (after the header) */
  data_offsets: [number, number];
}

export interface Header {
  /** tensors in file order */
  entries: Map<string, Entry>;
  metadata: Record<string, string>;
  /** where the data section starts in the file: 8 + header length */
  dataStart: number;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };

/** The header length stored in the first 8 bytes. */
export function headerLength(first8: Uint8Array, source: string, fileSize: number): number {
  if (first8.length < 8 || fileSize < 8) throw new SafetensorsError(`${source}: too short to be a safetensors file`);
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (n > fileSize - 8) throw new SafetensorsError(`${source}: header length ${n} runs past the end of the file (${fileSize} bytes)`);
  // the reference library's cap: a larger "header" is a corrupt length, not JSON worth allocating
  if (n > 100_000_000) throw new SafetensorsError(`${source}: header length ${n} is over the format's 100 MB limit; the file is corrupt`);
  return n;
}

/** Parses and validates the JSON header (its bytes only); every entry is checked against the file size. */
export function parseHeader(json: Uint8Array, source: string, fileSize: number): Header {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${source}: ${why}`);
  };
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(json));
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + json.length;
  const entries = new Map<string, Entry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      const ok = typeof raw === 'object' && raw !== null && !Array.isArray(raw) && Object.values(raw).every((v) => typeof v === 'string');
      if (!ok) fail(`__metadata__ must map strings to strings, got ${JSON.stringify(raw)?.slice(0, 80)}`);
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as Entry;
    const valid = typeof e === 'object' && e !== null && Array.isArray(e.shape) && Array.isArray(e.data_offsets)
      && e.shape.every((d) => Number.isInteger(d) && d >= 0) && e.data_offsets.length === 2
      && e.data_offsets.every((o) => Number.isInteger(o) && o >= 0) && e.data_offsets[0] <= e.data_offsets[1];
    if (!valid) fail(`tensor ${name}: entry ${JSON.stringify(raw)} needs dtype, a shape of non-negative integers and data_offsets [start, end]`);
    const width = BYTES[e.dtype] ?? fail(`tensor ${name}: dtype ${e.dtype} is not supported`);
    const [start, end] = e.data_offsets;
    const n = e.shape.reduce((a, d) => a * d, 1);
    if (end - start !== n * width || dataStart + end > fileSize) {
      fail(`tensor ${name}: offsets [${start}, ${end}] do not hold ${n} ${e.dtype} values within the file`);
    }
    entries.set(name, e);
  }
  // as the reference library requires: the byte ranges tile the data section, no overlap, gap or trailing bytes
  let end = 0;
  for (const [name, e] of [...entries].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1])) {
    if (e.data_offsets[0] !== end) fail(`tensor ${name}: data starts at ${e.data_offsets[0]}, expected ${end} (tensors overlap or leave a gap)`);
    end = e.data_offsets[1];
  }
  if (dataStart + end !== fileSize) fail(`the tensors end at byte ${dataStart + end} but the file has ${fileSize}`);
  return { entries, metadata, dataStart };
}

/** One tensor from its bytes: floats as float32 (F64 stays float64), integers as int32, BOOL as bool. */
export function decodeTensor(bytes: Uint8Array, e: Entry, name: string, source: string): Tensor {
  const n = e.shape.reduce((a, d) => a * d, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // a fresh, aligned copy (the constructor copies; Buffer.slice would not); x86/ARM hosts and the format are little-endian
  const own = () => new Uint8Array(bytes).buffer;
  let data: Tensor['data'];
  switch (e.dtype) {
    case 'F32': data = new Float32Array(own()); break;
    case 'F64': data = new Float64Array(own()); break;
    case 'I32': data = new Int32Array(own()); break;
    case 'BF16': {
      data = new Float32Array(n);
      const u = new Uint32Array(data.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16; // bf16 is the top half of a float32
      break;
    }
    case 'F16': {
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = halfToFloat(view.getUint16(2 * i, true));
      break;
    }
    case 'I64': {
      data = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`${source}: tensor ${name}: int64 value ${v} does not fit int32`);
        data[i] = Number(v);
      }
      break;
    }
    case 'U8': data = Int32Array.from(bytes); break;
    default: data = Uint8Array.from(bytes, (b) => (b !== 0 ? 1 : 0)); // BOOL
  }
  return new Tensor(data, e.shape);
}

/** Every tensor of a safetensors file held in memory (the browser's fetch → ArrayBuffer). */
export function readSafetensorsBuffer(buffer: ArrayBuffer | Uint8Array, source = 'safetensors buffer'): Map<string, Tensor> {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  const n = headerLength(bytes.subarray(0, 8), source, bytes.length);
  const header = parseHeader(bytes.subarray(8, 8 + n), source, bytes.length);
  const out = new Map<string, Tensor>();
  for (const [name, e] of header.entries) {
    out.set(name, decodeTensor(bytes.subarray(header.dataStart + e.data_offsets[0], header.dataStart + e.data_offsets[1]), e, name, source));
  }
  return out;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE half, rounding to nearest even, overflow to ±Infinity, NaN kept. */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal
    mant |= 0x800000; // subnormal: shift the implicit one in and round
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 31) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** The storage type a float tensor is written as: float32 as is, or float16 / bfloat16 to halve the file. */
export type FloatStorageType = 'F32' | 'F16' | 'BF16';

/** The dtype a tensor is stored as, and its bytes per element. */
export function storedType(t: Tensor, floatType: FloatStorageType = 'F32'): { dtype: string; width: number } {
  const dtype = t.dtype === 'float32' ? floatType : { float64: 'F64', int32: 'I32', bool: 'BOOL' }[t.dtype];
  return { dtype, width: BYTES[dtype] };
}

/** One tensor's bytes in the file's type. */
export function encodeTensor(t: Tensor, floatType: FloatStorageType = 'F32'): { dtype: string; bytes: Uint8Array } {
  const values = t.values();
  if (t.dtype === 'float32' && floatType !== 'F32') {
    const out = new Uint16Array(values.length);
    if (floatType === 'F16') for (let i = 0; i < values.length; i++) out[i] = floatToHalf(values[i]);
    else {
      const bits = new Uint32Array(Float32Array.from(values).buffer);
      for (let i = 0; i < values.length; i++) {
        const b = bits[i];
        out[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff; // round to nearest even, as torch's bf16 cast
        if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) out[i] = (b >>> 16) | 0x40; // keep NaN a NaN
      }
    }
    return { dtype: floatType, bytes: new Uint8Array(out.buffer) };
  }
  return { dtype: storedType(t).dtype, bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** The header bytes (length prefix + JSON padded to 8 bytes) of a file holding `entries` in this order. */
export function encodeHeader(entries: [string, { dtype: string; shape: readonly number[]; byteLength: number }][], metadata: Record<string, string> | undefined, source: string): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, e] of entries) {
    if (name === '__metadata__') throw new SafetensorsError(`${source}: a tensor cannot be named __metadata__ (the format reserves it)`);
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.byteLength] };
    offset += e.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20); // align the data to 8 bytes
  padded.set(json);
  json = padded;
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}
