// Python pickles, protocol 2, written the way CPython's pickle.Pickler writes them: the format of the refer toolkit's
// `refs(*).p` files. A list is streamed item by item (the list opcodes come in batches of 1000, as CPython batches
// them), so a large file is never one buffer. Every string, list and dict gets a memo slot (BINPUT) as CPython gives
// it; a short string written again is a memo reference (BINGET), as CPython does for its interned strings.
// https://github.com/python/cpython/blob/main/Lib/pickle.py
import { UserError } from '../errors.ts';
import type { PickleValue } from './pickle.ts';

/** A value with no pickle form here (bytes, undefined, a function, an integer beyond 2^53...). */
export class PickleError extends UserError {
  override name = 'PickleError';
}

const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, BINFLOAT: 0x47, BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d, APPEND: 0x61, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEM: 0x73, SETITEMS: 0x75,
  BINPUT: 0x71, LONG_BINPUT: 0x72, BINGET: 0x68, LONG_BINGET: 0x6a,
} as const;

/** CPython's batch size for APPENDS and SETITEMS. */
const BATCH = 1000;
/** Strings up to this length are remembered and written once; longer ones are rarely repeated. */
const SHARED_STRING = 32;

class ByteSink {
  private chunks: Buffer[] = [];
  private scratch = Buffer.alloc(9);
  length = 0;

  byte(b: number): void {
    this.raw(Buffer.from([b]));
  }

  raw(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  /** An opcode followed by `n` bytes of the scratch buffer written by `fill`. */
  op(code: number, n: number, fill: (b: Buffer) => void): void {
    this.scratch[0] = code;
    fill(this.scratch.subarray(1));
    this.raw(Buffer.from(this.scratch.subarray(0, 1 + n)));
  }

  take(): Buffer {
    const out = Buffer.concat(this.chunks);
    this.chunks = [];
    this.length = 0;
    return out;
  }
}

export class PickleWriter {
  private out = new ByteSink();
  private memoSize = 0;
  private strings = new Map<string, number>();

  private put(): void {
    const i = this.memoSize++;
    if (i < 256) this.out.op(OP.BINPUT, 1, (b) => b.writeUInt8(i));
    else this.out.op(OP.LONG_BINPUT, 4, (b) => b.writeUInt32LE(i));
  }

  private get(i: number): void {
    if (i < 256) this.out.op(OP.BINGET, 1, (b) => b.writeUInt8(i));
    else this.out.op(OP.LONG_BINGET, 4, (b) => b.writeUInt32LE(i));
  }

  /** Appends one value's opcodes. */
  value(v: PickleValue): void {
    const o = this.out;
    if (v === null) o.byte(OP.NONE);
    else if (v === true) o.byte(OP.NEWTRUE);
    else if (v === false) o.byte(OP.NEWFALSE);
    else if (typeof v === 'number') this.number(v);
    else if (typeof v === 'string') this.string(v);
    else if (v instanceof Uint8Array) throw new PickleError('bytes have no plain protocol-2 opcode (CPython writes them as a _codecs call); not written here');
    else if (Array.isArray(v)) {
      o.byte(OP.EMPTY_LIST);
      this.put();
      this.batches(v, (x) => this.value(x), OP.APPEND, OP.APPENDS);
    } else if (typeof v === 'object') {
      o.byte(OP.EMPTY_DICT);
      this.put();
      this.batches(Object.entries(v), ([k, x]) => {
        this.string(k);
        this.value(x);
      }, OP.SETITEM, OP.SETITEMS);
    } else {
      throw new PickleError(`cannot pickle a ${typeof v} (${String(v)})`);
    }
  }

  /** Items in batches of 1000: one item with its single opcode, more between MARK and the batch opcode. */
  batches<T>(items: T[], write: (x: T) => void, single: number, many: number): void {
    for (let i = 0; i < items.length; i += BATCH) {
      const batch = items.slice(i, i + BATCH);
      if (batch.length > 1) this.out.byte(OP.MARK);
      batch.forEach(write);
      this.out.byte(batch.length > 1 ? many : single);
    }
  }

  private number(v: number): void {
    const o = this.out;
    if (!Number.isInteger(v)) o.op(OP.BINFLOAT, 8, (b) => b.writeDoubleBE(v));
    else if (v >= 0 && v <= 0xff) o.op(OP.BININT1, 1, (b) => b.writeUInt8(v));
    else if (v >= 0 && v <= 0xffff) o.op(OP.BININT2, 2, (b) => b.writeUInt16LE(v));
    else if (v >= -0x80000000 && v <= 0x7fffffff) o.op(OP.BININT, 4, (b) => b.writeInt32LE(v));
    else if (Number.isSafeInteger(v)) {
      // LONG1: little-endian two's complement, as few bytes as keep the sign
      const bytes: number[] = [];
      let x = BigInt(v);
      do {
        bytes.push(Number(x & 0xffn));
        x >>= 8n;
      } while (!((x === 0n && (bytes[bytes.length - 1]! & 0x80) === 0) || (x === -1n && (bytes[bytes.length - 1]! & 0x80) !== 0)));
      o.raw(Buffer.from([OP.LONG1, bytes.length, ...bytes]));
    } else {
      throw new PickleError(`cannot pickle the integer ${v} exactly (beyond 2^53)`);
    }
  }

  private string(s: string): void {
    const seen = this.strings.get(s);
    if (seen !== undefined) return this.get(seen);
    const bytes = Buffer.from(s, 'utf8');
    this.out.op(OP.BINUNICODE, 4, (b) => b.writeUInt32LE(bytes.length));
    this.out.raw(bytes);
    if (s.length <= SHARED_STRING) this.strings.set(s, this.memoSize);
    this.put();
  }

  /** The opcodes written since the last call. */
  take(): Buffer {
    return this.out.take();
  }

  get pending(): number {
    return this.out.length;
  }

  /** The protocol header; then the top-level value's opcodes; then `stop()`. */
  header(): void {
    this.out.raw(Buffer.from([OP.PROTO, 2]));
  }

  stop(): void {
    this.out.byte(OP.STOP);
  }

  /** Starts a streamed top-level list: call `append` per item, then `endList`, then `stop`. */
  beginList(): void {
    this.out.byte(OP.EMPTY_LIST);
    this.put();
    this.queued = [];
  }

  private queued: PickleValue[] = [];

  append(item: PickleValue): void {
    this.queued.push(item);
    if (this.queued.length === BATCH) this.flushList();
  }

  endList(): void {
    if (this.queued.length > 0) this.flushList();
  }

  private flushList(): void {
    this.batches(this.queued, (x) => this.value(x), OP.APPEND, OP.APPENDS);
    this.queued = [];
  }
}

/** A whole value as pickle bytes (protocol 2). */
export function pickle(v: PickleValue): Buffer {
  const w = new PickleWriter();
  w.header();
  w.value(v);
  w.stop();
  return w.take();
}
