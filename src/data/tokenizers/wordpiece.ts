// BERT's WordPiece tokenizer, as HF BertTokenizer does it with do_lower_case=True (the basic tokenizer, then greedy
// longest-match-first wordpieces), and decoding as the tokenizers library's WordPiece decoder does it.
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/tokenization_bert.py
// https://github.com/huggingface/tokenizers/blob/main/tokenizers/src/decoders/wordpiece.rs
import { readFileSync } from 'node:fs';
import { TokenizerError, WordCache, checkId, withSpecials, type EncodeOptions, type Tokenizer } from './tokenizer.ts';

export interface WordPieceOptions {
  /** lower-case and strip accents (uncased BERT); default true */
  lowercase?: boolean;
  /** words longer than this many characters become [UNK]; default 100 */
  maxInputCharsPerWord?: number;
}

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export class WordPieceTokenizer implements Tokenizer {
  readonly format = 'wordpiece' as const;
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly unkId: number;
  private readonly vocab = new Map<string, number>();
  private readonly idToTokenTable: readonly string[];
  private readonly specialIds = new Set<number>();
  /** special tokens written in the text are kept whole, as the tokenizer's added-token splitting does */
  private readonly specialTokens: string[];
  private readonly lowercase: boolean;
  private readonly maxInputChars: number;
  /** no vocabulary entry is longer than this (in characters), so longer candidates need no lookup */
  private readonly maxEntryChars: number;
  private readonly cache = new WordCache<number[]>();

  /** Reads a BERT `vocab.txt` (one token a line, the line number is the id). */
  static fromFile(path: string, options?: WordPieceOptions): WordPieceTokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new TokenizerError(`${path}: cannot read the WordPiece vocabulary (${(e as Error).message})`);
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop(); // the newline that ends the last line starts no token
    return new WordPieceTokenizer(lines, options, path);
  }

  constructor(tokens: readonly string[], options: WordPieceOptions = {}, source = 'vocabulary') {
    this.idToTokenTable = tokens;
    this.vocabSize = tokens.length;
    let maxChars = 0;
    tokens.forEach((t, id) => {
      this.vocab.set(t, id); // a repeated line maps to its last id, as HF's load_vocab dict does
      maxChars = Math.max(maxChars, charCount(t));
    });
    this.maxEntryChars = maxChars;
    const unk = this.vocab.get('[UNK]');
    if (unk === undefined) throw new TokenizerError(`${source}: has no [UNK] token; a BERT vocab.txt lists [PAD], [UNK], [CLS], [SEP] and [MASK]`);
    this.unkId = unk;
    this.bosId = this.vocab.get('[CLS]') ?? null;
    this.eosId = this.vocab.get('[SEP]') ?? null;
    this.padId = this.vocab.get('[PAD]') ?? null;
    this.specialTokens = SPECIALS.filter((t) => this.vocab.has(t));
    for (const t of this.specialTokens) this.specialIds.add(this.vocab.get(t)!);
    this.lowercase = options.lowercase ?? true;
    this.maxInputChars = options.maxInputCharsPerWord ?? 100;
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const ids: number[] = [];
    for (const [chunk, isSpecial] of splitOnSpecials(text, this.specialTokens)) {
      if (isSpecial) ids.push(this.vocab.get(chunk)!);
      else for (const word of basicTokenize(chunk, this.lowercase)) this.wordpiece(word, ids);
    }
    return withSpecials(this, ids, options);
  }

  /** Appends the wordpieces of one word to out ([UNK] alone when it has none). */
  private wordpiece(word: string, out: number[]): void {
    for (const id of this.cache.get(word, (w) => this.greedyPieces(w) ?? [this.unkId])) out.push(id);
  }

  /** Longest vocabulary prefix first, then `##` continuations; null when some part has none or the word is too long. */
  private greedyPieces(word: string): number[] | null {
    const chars = SURROGATE.test(word) ? Array.from(word) : null; // index by code point, as Python's list(word)
    const n = chars ? chars.length : word.length;
    if (n > this.maxInputChars) return null;
    const sub = (a: number, b: number): string => (chars ? chars.slice(a, b).join('') : word.slice(a, b));
    const pieces: number[] = [];
    for (let start = 0; start < n;) {
      let end = Math.min(n, start + this.maxEntryChars);
      let id: number | undefined;
      while (end > start) {
        id = this.vocab.get(start > 0 ? '##' + sub(start, end) : sub(start, end));
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) return null;
      pieces.push(id);
      start = end;
    }
    return pieces;
  }

  /** Joins the tokens (`##` pieces glued to the previous one, others after a space) with the decoder's clean-up, special tokens skipped. */
  decode(ids: ArrayLike<number>): string {
    let out = '';
    let first = true;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const token = this.idToToken(id);
      if (this.specialIds.has(id)) continue;
      const piece = first ? token : token.startsWith('##') ? token.slice(2) : ' ' + token;
      out += cleanup(piece);
      first = false;
    }
    return out;
  }

  idToToken(id: number): string {
    checkId(id, this.vocabSize);
    return this.idToTokenTable[id]!;
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token);
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;
const charCount = (s: string): number => (SURROGATE.test(s) ? Array.from(s).length : s.length);

/** The decoder's clean-up, applied to each token with its leading space (so `it ' s` keeps its spaces). */
function cleanup(s: string): string {
  if (!s.includes(' ')) return s;
  return s.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',')
    .replaceAll(" ' ", "'").replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}

/** Splits text around every occurrence of a special token (the longest one where several start at the same place). */
function* splitOnSpecials(text: string, specials: readonly string[]): Generator<[string, boolean]> {
  let start = 0;
  while (start < text.length) {
    let at = -1;
    let match = '';
    for (const s of specials) {
      const i = text.indexOf(s, start);
      if (i >= 0 && (at < 0 || i < at || (i === at && s.length > match.length))) {
        at = i;
        match = s;
      }
    }
    if (at < 0) break;
    if (at > start) yield [text.slice(start, at), false];
    yield [match, true];
    start = at + match.length;
  }
  if (start < text.length) yield [text.slice(start), false];
}

// ---- The basic tokenizer: clean-up, CJK characters as words, whitespace split, lower case without accents, punctuation split.

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const NON_ASCII = /[^\x00-\x7f]/;
const CONTROL = /\p{C}/u;
const SPACE_SEPARATOR = /\p{Zs}/u;
const PUNCTUATION = /\p{P}/u;
const MARK_NONSPACING = /\p{Mn}/gu;
const WHITESPACE_RUN = /\s+/;

/** The words of text before wordpieces: what BasicTokenizer.tokenize returns. */
export function basicTokenize(text: string, lowercase = true): string[] {
  let clean = cleanText(text);
  if (NON_ASCII.test(clean)) clean = clean.normalize('NFC');
  const words: string[] = [];
  for (let word of clean.split(WHITESPACE_RUN)) {
    if (word === '') continue;
    if (lowercase) {
      word = word.toLowerCase();
      if (NON_ASCII.test(word)) word = word.normalize('NFD').replace(MARK_NONSPACING, '');
    }
    splitPunctuation(word, words);
  }
  return words;
}

/** Drops NUL, U+FFFD and control characters, turns whitespace into ' ' and puts spaces around CJK ideographs. */
function cleanText(text: string): string {
  if (PRINTABLE_ASCII.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d) out += ' ';
    else if (cp === 0 || cp === 0xfffd || CONTROL.test(ch)) continue;
    else if (SPACE_SEPARATOR.test(ch)) out += ' ';
    else if (isCjk(cp)) out += ` ${ch} `;
    else out += ch;
  }
  return out;
}

/** The CJK Unified Ideographs blocks BERT treats as one word each (not Hangul, Hiragana or Katakana). */
function isCjk(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df)
    || (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf)
    || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** BERT's punctuation: every non-alphanumeric printable ASCII character (so `$`, `+`, `^` count) and Unicode category P. */
function isPunctuation(ch: string, cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return cp >= 128 && PUNCTUATION.test(ch);
}

/** Appends the pieces of word to out, every punctuation character on its own. */
function splitPunctuation(word: string, out: string[]): void {
  let start = 0;
  for (let i = 0; i < word.length;) {
    const cp = word.codePointAt(i)!;
    const len = cp > 0xffff ? 2 : 1;
    if (isPunctuation(word.slice(i, i + len), cp)) {
      if (i > start) out.push(word.slice(start, i));
      out.push(word.slice(i, i + len));
      start = i + len;
    }
    i += len;
  }
  if (start < word.length) out.push(word.slice(start));
}
