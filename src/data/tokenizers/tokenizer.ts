// The one interface every tokenizer format implements, and the small pieces the formats share.
import { UserError } from '../../errors.ts';

/** A tokenizer file that cannot be read or is not in the format its name says; the message names the file and what is wrong. */
export class TokenizerError extends UserError {
  override name = 'TokenizerError';
}

/** The file formats: BERT vocab.txt, SentencePiece .model, HF tokenizer.json, llama2.c tokenizer.bin. */
export type TokenizerFormat = 'wordpiece' | 'sentencepiece' | 'tokenizer.json' | 'llama2c';

export interface EncodeOptions {
  /** prepend the begin-of-sequence id (BERT: [CLS]); default false */
  bos?: boolean;
  /** append the end-of-sequence id (BERT: [SEP]); default false */
  eos?: boolean;
}

/**
 * Text ⇄ token ids, the same for every format. `encode` adds no special token unless asked; `decode` drops the
 * special ones (BOS, EOS, padding, control tokens) and gives the text back the way the reference library does.
 */
export interface Tokenizer {
  /** the file format it was read from */
  readonly format: TokenizerFormat;
  /** number of ids: every id in [0, vocabSize) has a token */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly unkId: number | null;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>): string;
  /** the vocabulary entry of an id (a wordpiece, a `▁`-prefixed piece, `<0x0A>`...); throws on an id outside the vocabulary */
  idToToken(id: number): string;
  /** the id of a vocabulary entry, or undefined when it is not one */
  tokenToId(token: string): number | undefined;
}

/** Wraps ids with BOS/EOS as asked; fails clearly when the tokenizer has no such id. */
export function withSpecials(tok: Tokenizer, ids: number[], options: EncodeOptions | undefined): number[] {
  if (options?.bos) {
    if (tok.bosId === null) throw new TokenizerError(`this ${tok.format} tokenizer has no BOS token; encode without { bos: true }`);
    ids.unshift(tok.bosId);
  }
  if (options?.eos) {
    if (tok.eosId === null) throw new TokenizerError(`this ${tok.format} tokenizer has no EOS token; encode without { eos: true }`);
    ids.push(tok.eosId);
  }
  return ids;
}

/** Per-word results, kept until there are `limit` of them, then dropped all at once (words repeat; memory stays bounded). */
export class WordCache<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly limit = 100_000) {}

  get(word: string, compute: (word: string) => V): V {
    let v = this.map.get(word);
    if (v === undefined) {
      v = compute(word);
      if (this.map.size >= this.limit) this.map.clear();
      this.map.set(word, v);
    }
    return v;
  }
}

/** Throws unless id is an integer in [0, size). */
export function checkId(id: number, size: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= size) throw new RangeError(`token id ${id} is outside the vocabulary [0, ${size})`);
}

const utf8 = new TextEncoder();

export const utf8Bytes = (s: string): Uint8Array => utf8.encode(s);

/** Length of the valid UTF-8 sequence at b[i] (1–4), or 0 when it is not one (overlong, surrogate, past U+10FFFF, cut short). */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const ok1 = c === 0xe0 ? cont(1, 0xa0) : c === 0xed ? cont(1, 0x80, 0x9f) : cont(1);
    return ok1 && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const ok1 = c === 0xf0 ? cont(1, 0x90) : c === 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
    return ok1 && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

const strictDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Bytes → text where every byte that does not start a valid UTF-8 sequence becomes one U+FFFD, as sentencepiece's
 * decoder does (TextDecoder would turn a cut-short sequence into a single U+FFFD).
 */
export function utf8Text(b: Uint8Array): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < b.length;) {
    const n = utf8SequenceLength(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += strictDecoder.decode(b.subarray(start, i)) + '\uFFFD';
    start = ++i;
  }
  return out + strictDecoder.decode(b.subarray(start));
}

/** `<0xNN>` → NN, or -1 when the piece is not a byte piece. */
export function bytePieceValue(piece: string): number {
  return piece.length === 6 && piece.startsWith('<0x') && piece.endsWith('>') && /^[0-9A-F]{2}$/.test(piece.slice(3, 5))
    ? parseInt(piece.slice(3, 5), 16)
    : -1;
}

export const bytePiece = (b: number): string => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
