// SentencePiece's precompiled normalization rules (e.g. nmt_nfkc in T5 and ALBERT models): a darts-clone double-array
// trie over UTF-8 keys whose values point into a block of NUL-terminated replacement strings.
// Blob layout: <uint32 LE trie size in bytes><trie units, uint32 LE each><replacement strings>.
// https://github.com/google/sentencepiece/blob/master/src/normalizer.cc (NormalizePrefix)
// https://github.com/s-yata/darts-clone/blob/master/include/darts.h (DoubleArrayUnit, commonPrefixSearch)
import { TokenizerError } from './tokenizer.ts';

const hasLeaf = (unit: number): boolean => ((unit >>> 8) & 1) === 1;
const value = (unit: number): number => unit & 0x7fffffff;
/** a leaf unit has its top bit set, so its label never equals a byte */
const label = (unit: number): number => (unit & 0x800000ff) >>> 0;
const offset = (unit: number): number => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);

export class PrecompiledCharsMap {
  private readonly units: Uint32Array;
  private readonly strings: Uint8Array;
  private readonly replacements = new Map<number, string>();

  constructor(blob: Uint8Array, where: string) {
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = blob.length >= 4 ? view.getUint32(0, true) : -1;
    if (trieBytes < 0 || trieBytes % 4 !== 0 || 4 + trieBytes > blob.length) {
      throw new TokenizerError(`${where}: precompiled_charsmap is broken (trie size ${trieBytes} in a blob of ${blob.length} bytes)`);
    }
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + 4 * i, true);
    this.strings = blob.subarray(4 + trieBytes);
  }

  /**
   * The longest rule whose key is a prefix of text at pos: its replacement and how many UTF-16 code units it
   * consumes; null when none matches. Walks the UTF-8 bytes of successive characters through the trie.
   */
  match(text: string, pos: number): [string, number] | null {
    const units = this.units;
    let node = offset(units[0]!);
    let best: [number, number] | null = null;
    for (let i = pos; i < text.length;) {
      const cp = text.codePointAt(i)!;
      i += cp > 0xffff ? 2 : 1;
      const bytes = utf8Of(cp);
      for (let k = 0; k < bytes.length; k++) {
        node ^= bytes[k]!;
        const unit = units[node];
        if (unit === undefined || label(unit) !== bytes[k]) return this.result(best);
        node ^= offset(unit);
        // a key ending inside a character would split it; nmt_nfkc and the other rule sets have none
        if (hasLeaf(unit) && k === bytes.length - 1) best = [value(units[node] ?? 0), i - pos];
      }
    }
    return this.result(best);
  }

  private result(best: [number, number] | null): [string, number] | null {
    if (best === null) return null;
    let s = this.replacements.get(best[0]);
    if (s === undefined) {
      let end = best[0];
      while (end < this.strings.length && this.strings[end] !== 0) end++;
      s = new TextDecoder('utf-8', { ignoreBOM: true }).decode(this.strings.subarray(best[0], end));
      this.replacements.set(best[0], s);
    }
    return [s, best[1]];
  }
}

const scratch = [0, 0, 0, 0];

/** The UTF-8 bytes of one code point (lone surrogates as U+FFFD, as TextEncoder writes them). Reuses one array. */
function utf8Of(cp: number): number[] {
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) {
    scratch.length = 1;
    scratch[0] = cp;
  } else if (cp < 0x800) {
    scratch.length = 2;
    scratch[0] = 0xc0 | (cp >> 6);
    scratch[1] = 0x80 | (cp & 63);
  } else if (cp < 0x10000) {
    scratch.length = 3;
    scratch[0] = 0xe0 | (cp >> 12);
    scratch[1] = 0x80 | ((cp >> 6) & 63);
    scratch[2] = 0x80 | (cp & 63);
  } else {
    scratch.length = 4;
    scratch[0] = 0xf0 | (cp >> 18);
    scratch[1] = 0x80 | ((cp >> 12) & 63);
    scratch[2] = 0x80 | ((cp >> 6) & 63);
    scratch[3] = 0x80 | (cp & 63);
  }
  return scratch;
}
