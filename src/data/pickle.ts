// A reader for Python pickles that hold plain data (dicts, lists, tuples, strings, numbers, None, booleans), the
// subset the refer toolkit's refs(*.p) files use (written by Python 2's cPickle, protocol 2). Binary protocols 1–5;
// anything that would construct a Python object (GLOBAL, REDUCE, BUILD, ...) is refused: we never run pickle code.
// Opcodes as documented in CPython's Lib/pickletools.py.
import { DataError } from './records.ts';

export type PickleValue = null | boolean | number | string | Uint8Array | PickleValue[] | { [key: string]: PickleValue };

const MARK = Symbol('mark');
type Slot = PickleValue | typeof MARK;

/** The value a pickle holds; dict keys become strings, tuples lists. */
export function readPickle(bytes: Uint8Array, file = 'pickle'): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: Slot[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;

  const fail = (reason: string): never => {
    throw new DataError(`${file}: byte ${pos}: ${reason}`);
  };
  const need = (n: number): number => {
    if (pos + n > bytes.length) fail(`the pickle ends after ${bytes.length} bytes in the middle of a value (truncated file?)`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => bytes[need(1)];
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => Number(view.getBigUint64(need(8), true));
  // py2: a Python 2 byte string, which may hold any bytes: UTF-8 when it is, else Latin-1 (pickle's encoding='latin1')
  const text = (n: number, py2 = false): string => {
    const at = need(n);
    const raw = bytes.subarray(at, at + n);
    try {
      return utf8.decode(raw);
    } catch {
      return py2 ? Buffer.from(raw).toString('latin1') : fail('a unicode string is not valid UTF-8');
    }
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) fail('the pickle pops from an empty stack (corrupted file?)');
    return v as PickleValue;
  };
  const popToMark = (): PickleValue[] => {
    const m = stack.lastIndexOf(MARK);
    if (m < 0) fail('no MARK before a list/dict/tuple end (corrupted file?)');
    const items = stack.splice(m) as PickleValue[];
    return items.slice(1);
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('an append or set-item has no list/dict under it');
    return v as PickleValue;
  };
  const setItems = (target: PickleValue, kv: PickleValue[]): void => {
    if (target === null || typeof target !== 'object' || Array.isArray(target) || target instanceof Uint8Array) fail('SETITEM on a value that is not a dict');
    const dict = target as { [key: string]: PickleValue };
    for (let i = 0; i + 1 < kv.length; i += 2) {
      Object.defineProperty(dict, String(kv[i]), { value: kv[i + 1], enumerable: true, writable: true, configurable: true });
    }
  };
  const append = (target: PickleValue, items: PickleValue[]): void => {
    if (!Array.isArray(target)) fail('APPEND on a value that is not a list');
    (target as PickleValue[]).push(...items);
  };
  const signedLong = (n: number): number => {
    const at = need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
    if (n > 0 && bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail(`integer ${v} does not fit a JavaScript number`);
    return Number(v);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME (a length hint)
      case 0x2e: { // STOP
        const v = pop();
        if (stack.length) fail(`${stack.length} values left on the stack at STOP (corrupted file?)`);
        return v;
      }
      case 0x28: stack.push(MARK); break;
      case 0x7d: stack.push({}); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE (tuples read as lists)
      case 0x74: stack.push(popToMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; } // TUPLE3
      case 0x61: { const v = pop(); append(top(), [v]); break; } // APPEND
      case 0x65: { const items = popToMark(); append(top(), items); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const kv = popToMark(); setItems(top(), kv); break; } // SETITEMS
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo entry ${k} was never stored`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(view.getUint16(need(2), true)); break; // BININT2
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x8a: stack.push(signedLong(u8())); break; // LONG1
      case 0x8b: stack.push(signedLong(u32())); break; // LONG4
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x55: stack.push(text(u8(), true)); break; // SHORT_BINSTRING (Python 2 str)
      case 0x54: stack.push(text(u32(), true)); break; // BINSTRING
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x43: case 0x42: { // SHORT_BINBYTES, BINBYTES
        const n = op === 0x43 ? u8() : u32();
        const at = need(n);
        stack.push(bytes.slice(at, at + n));
        break;
      }
      case 0x49: case 0x4c: { // INT, LONG as decimal text: Python 2 writes them even in protocol 2 for ints past 32 bits
        const start = pos;
        while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
        if (pos >= bytes.length) fail('a text INT/LONG runs past the end of the data');
        const digits = new TextDecoder().decode(bytes.subarray(start, pos++)).replace(/L$/, '');
        if (op === 0x49 && (digits === '00' || digits === '01')) stack.push(digits === '01'); // protocol 1 booleans
        else if (/^[-+]?\d+$/.test(digits) && Number.isSafeInteger(Number(digits))) stack.push(Number(digits));
        else fail(`text integer ${JSON.stringify(digits.slice(0, 30))} is not an integer that fits a JavaScript number`);
        break;
      }
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x30: pop(); break; // POP
      case 0x31: popToMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        pos--;
        fail(`pickle opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))}) is not supported: `
          + 'only plain data (dicts, lists, strings, numbers) in binary protocols 1-5 can be read; re-save the file with protocol 2');
    }
  }
}
