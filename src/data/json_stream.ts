// Streaming reader for the big dataset json files (COCO instances ~0.5 GB, Visual Genome regions ~0.7 GB: more than
// V8's longest string, so JSON.parse of the whole file is impossible). It scans the bytes a chunk at a time, finds
// the items of the top-level array (VG) or of the arrays under the top-level keys (COCO: images, annotations, ...),
// and JSON.parses each item alone. Scanning bytes is safe in UTF-8: every byte of a multi-byte character is ≥ 0x80.
import { createReadStream } from 'node:fs';
import { At, BadRecords, DataError, readFailure } from './records.ts';

export interface JsonItem {
  /** the top-level key the item sits under ('' in a top-level array) */
  key: string;
  /** its index in that array, or -1 when the key's value is not an array (it is then the item) */
  index: number;
  value: unknown;
  /** file and key path (`annotations[17]`, `[3]`), for messages about this item */
  at: At;
}

export interface JsonStreamOptions {
  /** top-level keys whose items to parse and yield; others are scanned past without parsing. Default: all. */
  keys?: readonly string[];
  /** called with each top-level key as the scan reaches it (an empty list has no items to tell it was there) */
  onKey?: (key: string) => void;
  /** bytes per read */
  chunkSize?: number;
}

const [QUOTE, BACKSLASH, COMMA, COLON, LBRACE, RBRACE, LBRACKET, RBRACKET, NEWLINE] = [34, 92, 44, 58, 123, 125, 91, 93, 10];
const isSpace = (b: number): boolean => b === 32 || b === 10 || b === 13 || b === 9;

/**
 * The items of a json file whose top level is an array or an object, in file order. An item that is not valid JSON
 * goes to `bad`; a broken structure (truncated file, stray byte between items) always throws.
 */
export async function* streamJson(path: string, options: JsonStreamOptions = {}, bad = new BadRecords()): AsyncGenerator<JsonItem> {
  const wanted = options.keys ? new Set(options.keys) : null;
  const stream = createReadStream(path, { highWaterMark: options.chunkSize ?? 1 << 20 });

  let line = 1;
  let depth = 0;
  let top = 0; // LBRACE or LBRACKET once the top-level container is open
  let inString = false;
  let escaped = false;
  // top-level object: what comes next at depth 1
  let expect: 'key' | 'colon' | 'value' | 'comma' = 'key';
  let key = '';
  let arrayDepth = 0; // depth of the array whose elements are items (1: top-level array, 2: under a key), 0: none
  // between items: 'first' right after '[', 'comma' after an item, 'item' after a ','
  let itemExpect: 'first' | 'comma' | 'item' = 'first';
  let index = 0;
  // the capture in progress: 0 none, 1 an item that is an object/array, 2 a scalar item, 3 a top-level key
  let capturing = 0;
  let keep = true; // false: scan past an unwanted item without storing it
  let captureDepth = 0;
  let captureStart = 0;
  let captureLine = 0;
  let itemIndex = 0;
  let pieces: Buffer[] = [];
  let ready: JsonItem[] = [];

  const structure = (reason: string): never => {
    throw new DataError(`${path}:${line}: ${reason}; the file is not valid JSON (truncated or corrupted?)`);
  };
  const begin = (at: number, kind: number, store: boolean, idx: number): void => {
    capturing = kind;
    keep = store;
    captureStart = at;
    captureLine = line;
    itemIndex = idx;
    pieces = [];
  };
  const finish = (buf: Buffer, end: number): void => {
    const kind = capturing;
    capturing = 0;
    if (!keep) return;
    pieces.push(buf.subarray(captureStart, end));
    const text = (pieces.length === 1 ? pieces[0] : Buffer.concat(pieces)).toString('utf8');
    pieces = [];
    if (kind === 3) {
      key = JSON.parse(text) as string; // the scanner saw a complete string: this cannot fail
      options.onKey?.(key);
      return;
    }
    const at = new At(path, key === '' ? `[${itemIndex}]` : itemIndex < 0 ? key : `${key}[${itemIndex}]`);
    try {
      ready.push({ key, index: itemIndex, value: JSON.parse(text), at });
    } catch (e) {
      bad.report(new DataError(`${at} (line ${captureLine}): not valid JSON (${(e as Error).message})`));
    }
  };
  // a value starts at byte i: an item of the item array, or (keyValue) the value of a top-level key
  const valueStart = (i: number, b: number, keyValue: boolean): void => {
    const container = b === LBRACE || b === LBRACKET;
    if (depth === arrayDepth) {
      if (itemExpect === 'comma') structure('missing "," between two items');
      itemExpect = 'comma';
      begin(i, container ? 1 : 2, top === LBRACKET || wanted === null || wanted.has(key), index++);
    } else if (keyValue) {
      const store = wanted === null || wanted.has(key);
      if (b === LBRACKET) {
        depth = 2;
        arrayDepth = 2;
        itemExpect = 'first';
        index = 0;
        return;
      }
      begin(i, container ? 1 : 2, store, -1);
    } else {
      structure(`unexpected ${JSON.stringify(String.fromCharCode(b))}`);
    }
    if (container) {
      captureDepth = depth;
      depth++;
    } else if (b === QUOTE) {
      inString = true;
    }
  };

  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      const n = buf.length;
      if (capturing) captureStart = 0;
      for (let i = 0; i < n; i++) {
        const b = buf[i];
        if (b === NEWLINE) line++;
        if (inString) {
          if (escaped) escaped = false;
          else if (b === BACKSLASH) escaped = true;
          else if (b === QUOTE) {
            inString = false;
            if (capturing === 3) finish(buf, i + 1);
          }
          continue;
        }
        if (capturing === 1) {
          // inside an object/array item: only strings and brackets matter until it closes
          if (b === QUOTE) inString = true;
          else if (b === LBRACE || b === LBRACKET) depth++;
          else if (b === RBRACE || b === RBRACKET) {
            depth--;
            if (depth === captureDepth) finish(buf, i + 1);
          }
          continue;
        }
        if (capturing === 2) {
          if (b === QUOTE) {
            inString = true;
            continue;
          }
          if (b !== COMMA && b !== RBRACKET && b !== RBRACE) continue;
          finish(buf, i); // the separator ends a scalar item, then is read as structure below
        }
        if (isSpace(b)) continue;
        if (depth === 0) {
          if (top !== 0) structure('more data after the top-level value');
          if (b !== LBRACE && b !== LBRACKET) structure('expected a top-level object or array');
          top = b;
          depth = 1;
          if (b === LBRACKET) [arrayDepth, itemExpect] = [1, 'first'];
          continue;
        }
        const inTopObject = depth === 1 && top === LBRACE;
        if (b === QUOTE && inTopObject && expect === 'key') {
          begin(i, 3, true, -1);
          inString = true;
          expect = 'colon';
        } else if (b === COLON) {
          if (!inTopObject || expect !== 'colon') structure('unexpected ":"');
          expect = 'value';
        } else if (b === COMMA) {
          if (inTopObject) {
            if (expect !== 'comma') structure('unexpected ","');
            expect = 'key';
          } else if (depth === arrayDepth) {
            // (a cast: valueStart sets itemExpect too, which TypeScript's narrowing does not see)
            if ((itemExpect as string) !== 'comma') structure('unexpected "," (an item is missing)');
            itemExpect = 'item';
          }
        } else if (b === RBRACE || b === RBRACKET) {
          if ((b === RBRACE) !== (depth === 1 && top === LBRACE)) structure(`unexpected ${JSON.stringify(String.fromCharCode(b))}`);
          if (depth === arrayDepth && itemExpect === 'item') structure('a "," before "]" (trailing comma)');
          depth--;
          if (depth === 1 && arrayDepth === 2) arrayDepth = 0;
          if (depth === 0) arrayDepth = 0;
        } else {
          const keyValue = inTopObject && expect === 'value';
          if (keyValue) expect = 'comma';
          valueStart(i, b, keyValue);
        }
      }
      if (capturing && keep) pieces.push(buf.subarray(captureStart));
      if (ready.length) {
        const out = ready;
        ready = [];
        yield* out;
      }
    }
  } catch (e) {
    throw readFailure(path, e);
  } finally {
    stream.destroy();
  }
  if (top === 0) structure('the file is empty');
  if (depth !== 0 || inString) structure('the file ends inside a value');
}
