// llama2.c's `tokenizer.bin`: int32 max_token_length, then for every token float32 score, int32 byte length, bytes
// (little-endian). Spaces are written as ' ' (not U+2581), BOS/EOS are 1/2 with the strings "\n<s>\n"/"\n</s>\n",
// and ids 3..258 are the bytes <0x00>..<0xFF>. Encoding and decoding follow run.c's encode() and decode().
// https://github.com/karpathy/llama2.c/blob/master/run.c
import { readFileSync } from 'node:fs';
import { mergeByScore } from './bpe_merge.ts';
import {
  TokenizerError, WordCache, bytePieceValue, checkId, utf8Bytes, utf8Text, withSpecials, type EncodeOptions, type Tokenizer,
} from './tokenizer.ts';

const BOS = 1;
const EOS = 2;
/** byte b is token b + 3 (after <unk>, <s>, </s>) */
const BYTE_OFFSET = 3;
/** run.c starts its best score here, so a pair scoring lower never merges */
const NO_SCORE = -1e10;
/** a word: leading spaces, then everything up to the next space that follows another character */
const WORDS = / *[^ ]*/g;

export class Llama2cTokenizer implements Tokenizer {
  readonly format = 'llama2c' as const;
  readonly vocabSize: number;
  readonly bosId = BOS;
  readonly eosId = EOS;
  readonly padId = null;
  readonly unkId = 0;
  private readonly ids = new Map<string, number>();
  /** no token has a space after another character, so merges never cross a word start and words merge alone */
  private readonly wordsMergeAlone: boolean;
  private readonly cache = new WordCache<number[]>();

  static fromFile(path: string): Llama2cTokenizer {
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new TokenizerError(`${path}: cannot read the llama2.c tokenizer (${(e as Error).message})`);
    }
    return Llama2cTokenizer.fromBuffer(buf, path);
  }

  /** Parses the file's bytes; the vocabulary size is the number of records (run.c takes it from the model header). */
  static fromBuffer(buf: Uint8Array, where = 'tokenizer.bin'): Llama2cTokenizer {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const fail = (why: string): never => {
      throw new TokenizerError(`${where}: ${why}; a llama2.c tokenizer.bin is int32 max_token_length then (float32 score, int32 length, bytes) per token`);
    };
    if (buf.length < 4) fail('too short');
    const tokens: string[] = [];
    const scores: number[] = [];
    const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    for (let pos = 4; pos < buf.length;) {
      if (pos + 8 > buf.length) fail(`token ${tokens.length} is cut short at byte ${pos}`);
      const score = view.getFloat32(pos, true);
      const len = view.getInt32(pos + 4, true);
      if (len < 0 || pos + 8 + len > buf.length) fail(`token ${tokens.length} has length ${len}, past the end of the file at byte ${pos}`);
      tokens.push(decoder.decode(buf.subarray(pos + 8, pos + 8 + len)));
      scores.push(score);
      pos += 8 + len;
    }
    if (tokens.length < BYTE_OFFSET + 256) fail(`it has ${tokens.length} tokens, fewer than <unk>, <s>, </s> and the 256 byte tokens`);
    return new Llama2cTokenizer(tokens, scores);
  }

  constructor(private readonly tokens: readonly string[], private readonly scores: readonly number[]) {
    this.vocabSize = tokens.length;
    // run.c binary-searches a sorted copy; with a repeated string we keep its first id
    tokens.forEach((t, id) => {
      if (!this.ids.has(t)) this.ids.set(t, id);
    });
    this.wordsMergeAlone = !tokens.some((t) => /[^ ] /.test(t));
  }

  /** A dummy-prefix ' ' (for non-empty text), then each character as a token or as its UTF-8 byte tokens, then best-score merges. */
  encode(text: string, options?: EncodeOptions): number[] {
    const ids: number[] = [];
    if (text !== '') {
      const prefixed = ' ' + text;
      for (const word of this.wordsMergeAlone ? prefixed.match(WORDS)! : [prefixed]) {
        for (const id of this.cache.get(word, (w) => this.merge(w))) ids.push(id);
      }
    }
    return withSpecials(this, ids, options);
  }

  private merge(text: string): number[] {
    const symbols: string[] = [];
    for (const ch of text) {
      if (this.ids.has(ch)) symbols.push(ch);
      else for (const b of utf8Bytes(ch)) symbols.push(this.tokens[b + BYTE_OFFSET]!);
    }
    const scoreOf = (piece: string): number | undefined => {
      const id = this.ids.get(piece);
      return id !== undefined && this.scores[id]! > NO_SCORE ? this.scores[id] : undefined;
    };
    // every symbol is a token string: a character found in the vocabulary, a byte token, or a merge result
    return mergeByScore(symbols, scoreOf).map((s) => this.ids.get(s)!);
  }

  /** Token strings concatenated; `<0xNN>` tokens are raw bytes; the space after BOS (and at the start) is dropped; BOS/EOS vanish. */
  decode(ids: ArrayLike<number>): string {
    const bytes: number[] = [];
    let prev = BOS;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      checkId(id, this.vocabSize);
      let piece = this.tokens[id]!;
      if (id !== BOS && id !== EOS) {
        if (prev === BOS && piece.startsWith(' ')) piece = piece.slice(1);
        const b = bytePieceValue(piece);
        if (b >= 0) bytes.push(b);
        else for (const x of utf8Bytes(piece)) bytes.push(x);
      }
      prev = id;
    }
    return utf8Text(Uint8Array.from(bytes));
  }

  idToToken(id: number): string {
    checkId(id, this.vocabSize);
    return this.tokens[id]!;
  }

  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }
}
