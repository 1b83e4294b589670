// SentencePiece `.model` tokenizers (LLaMA, T5, ...): BPE merged by piece score and unigram (Viterbi), with byte
// fallback, as SentencePieceProcessor encodes and decodes.
// https://github.com/google/sentencepiece/blob/master/src/sentencepiece_processor.cc
// https://github.com/google/sentencepiece/blob/master/src/unigram_model.cc (EncodeOptimized)
import { readFileSync } from 'node:fs';
import { mergeByScore } from './bpe_merge.ts';
import { ModelType, PieceType, parseModelProto, type ModelProto } from './sentencepiece_proto.ts';
import { PrefixMatcher, SPACE_SYMBOL, SpNormalizer } from './sp_normalizer.ts';
import {
  TokenizerError, WordCache, bytePiece, bytePieceValue, checkId, utf8Bytes, utf8Text, withSpecials, type EncodeOptions, type Tokenizer,
} from './tokenizer.ts';

/** unigram: an unknown character costs this much below the lowest piece score */
const UNK_PENALTY = 10;
const FLT_MIN = 1.1754943508222875e-38;
/** a word: leading ▁s, then everything up to the next ▁ that follows another character */
const WORDS = /\u2581*[^\u2581]*/g;

export class SentencePieceTokenizer implements Tokenizer {
  readonly format = 'sentencepiece' as const;
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly unkId: number;
  /** NORMAL, USER_DEFINED and UNUSED pieces: what segmentation may produce */
  private readonly pieces = new Map<string, number>();
  /** CONTROL, UNKNOWN and BYTE pieces, looked up first as sentencepiece's PieceToId does */
  private readonly reserved = new Map<string, number>();
  private readonly normalizer: SpNormalizer;
  private readonly denormalizer: SpNormalizer | null;
  private readonly userDefined: PrefixMatcher;
  private readonly byteIds: Int32Array | null;
  private readonly scores: Float32Array;
  private readonly hasUnused: boolean;
  /**
   * True when no piece has U+2581 after another character (so none spans "x▁"): BPE then never merges across a
   * word start, each word can be merged alone, and repeated words come from the cache.
   */
  private readonly wordsMergeAlone: boolean;
  private readonly wordCache = new WordCache<[string, number][]>();
  /** unigram: longest piece in code units, lowest NORMAL score, highest NORMAL score (FLT_MIN at least, as sentencepiece starts it) */
  private readonly maxPieceLength: number;
  private readonly minScore: number;
  private readonly maxScore: number;

  static fromFile(path: string): SentencePieceTokenizer {
    let buf: Uint8Array;
    try {
      buf = readFileSync(path);
    } catch (e) {
      throw new TokenizerError(`${path}: cannot read the SentencePiece model (${(e as Error).message})`);
    }
    return new SentencePieceTokenizer(parseModelProto(buf, path), path);
  }

  constructor(private readonly model: ModelProto, where = 'SentencePiece model') {
    const { pieces, modelType } = model;
    if (modelType !== ModelType.BPE && modelType !== ModelType.UNIGRAM) {
      const name = Object.entries(ModelType).find(([, v]) => v === modelType)?.[0] ?? String(modelType);
      throw new TokenizerError(`${where}: model type ${name} is not supported; only BPE and UNIGRAM models are`);
    }
    this.vocabSize = pieces.length;
    this.scores = Float32Array.from(pieces, (p) => p.score);
    this.hasUnused = pieces.some((p) => p.type === PieceType.UNUSED);
    this.wordsMergeAlone = !pieces.some((p) => /[^\u2581]\u2581/.test(p.piece));
    const userDefined = new Set<string>();
    let unk = -1;
    let maxLength = 0;
    let minScore = Infinity;
    let maxScore = FLT_MIN;
    pieces.forEach(({ piece, type, score }, id) => {
      if (piece === '') throw new TokenizerError(`${where}: piece ${id} is empty`);
      const normal = type === PieceType.NORMAL || type === PieceType.USER_DEFINED || type === PieceType.UNUSED;
      const map = normal ? this.pieces : this.reserved;
      if (map.has(piece)) throw new TokenizerError(`${where}: piece ${JSON.stringify(piece)} is defined twice (ids ${map.get(piece)} and ${id})`);
      map.set(piece, id);
      if (type === PieceType.USER_DEFINED) userDefined.add(piece);
      if (type === PieceType.UNKNOWN) {
        if (unk >= 0) throw new TokenizerError(`${where}: two unknown pieces (ids ${unk} and ${id})`);
        unk = id;
      }
      if (type === PieceType.NORMAL) {
        minScore = Math.min(minScore, score);
        maxScore = Math.max(maxScore, score);
      }
      if (normal) maxLength = Math.max(maxLength, piece.length);
    });
    if (unk < 0) throw new TokenizerError(`${where}: no piece has type UNKNOWN; a SentencePiece model needs one`);
    this.unkId = unk;
    this.maxPieceLength = maxLength;
    this.minScore = minScore;
    this.maxScore = maxScore;
    this.byteIds = model.byteFallback ? this.findBytePieces(where) : null;
    this.userDefined = new PrefixMatcher(userDefined);
    this.normalizer = new SpNormalizer(model.normalizer, model.treatWhitespaceAsSuffix, this.userDefined, where);
    this.denormalizer = model.denormalizer?.precompiledCharsmap
      ? new SpNormalizer(model.denormalizer, false, null, `${where}: denormalizer_spec`) : null;
    const control = (piece: string): number | null => {
      const id = this.pieceToId(piece);
      return pieces[id]!.type === PieceType.CONTROL ? id : null;
    };
    this.bosId = control(model.bosPiece);
    this.eosId = control(model.eosPiece);
    this.padId = control(model.padPiece);
  }

  private findBytePieces(where: string): Int32Array {
    const ids = new Int32Array(256).fill(-1);
    this.model.pieces.forEach(({ piece, type }, id) => {
      if (type !== PieceType.BYTE) return;
      const b = bytePieceValue(piece);
      if (b < 0) throw new TokenizerError(`${where}: byte piece ${JSON.stringify(piece)} (id ${id}) is not of the form <0xNN>`);
      ids[b] = id;
    });
    const missing = ids.indexOf(-1);
    if (missing >= 0) throw new TokenizerError(`${where}: byte_fallback is on but there is no piece ${bytePiece(missing)}`);
    return ids;
  }

  /** sentencepiece's PieceToId: reserved pieces first, then normal ones, else <unk> */
  private pieceToId(piece: string): number {
    return this.reserved.get(piece) ?? this.pieces.get(piece) ?? this.unkId;
  }

  private typeOf(id: number): number {
    return this.model.pieces[id]!.type;
  }

  encode(text: string, options?: EncodeOptions): number[] {
    const normalized = this.normalizer.normalize(text);
    const segments = this.model.modelType === ModelType.BPE ? this.segmentBpeByWord(normalized) : this.segmentUnigram(normalized);
    const ids: number[] = [];
    let prevUnknown = false;
    for (const [piece, id] of segments) {
      const unknown = this.typeOf(id) === PieceType.UNKNOWN;
      if (unknown && this.byteIds) {
        for (const b of utf8Bytes(piece)) ids.push(this.byteIds[b]!);
      } else if (!(unknown && prevUnknown)) {
        ids.push(id); // a run of unknown pieces is one <unk>
      }
      prevUnknown = unknown;
    }
    return withSpecials(this, ids, options);
  }

  /** BPE, one word (a run of ▁ and what follows it) at a time when that gives the same merges. */
  private segmentBpeByWord(normalized: string): [string, number][] {
    if (!this.wordsMergeAlone) return this.segmentBpe(normalized);
    const out: [string, number][] = [];
    for (const word of normalized.match(WORDS) ?? []) out.push(...this.wordCache.get(word, (w) => this.segmentBpe(w)));
    return out;
  }

  /** BPE: characters (user-defined pieces whole) merged by piece score; pieces of type UNUSED are split back into the two they came from. */
  private segmentBpe(normalized: string): [string, number][] {
    const symbols: string[] = [];
    const frozen: boolean[] = [];
    for (let pos = 0; pos < normalized.length;) {
      const user = this.userDefined.empty ? 0 : this.userDefined.match(normalized, pos);
      const len = user > 0 ? user : normalized.codePointAt(pos)! > 0xffff ? 2 : 1;
      symbols.push(normalized.substr(pos, len));
      frozen.push(user > 0);
      pos += len;
    }
    const unusedParts = new Map<string, [string, string]>();
    const scoreOf = (piece: string): number | undefined => {
      const id = this.pieces.get(piece);
      return id === undefined ? undefined : this.scores[id];
    };
    const noteUnused = (piece: string, left: string, right: string): void => {
      if (this.typeOf(this.pieces.get(piece)!) === PieceType.UNUSED) unusedParts.set(piece, [left, right]);
    };
    const merged = mergeByScore(symbols, scoreOf, frozen, this.hasUnused ? noteUnused : undefined);
    const out: [string, number][] = [];
    const resegment = (piece: string): void => {
      const id = this.pieceToId(piece);
      const parts = this.typeOf(id) === PieceType.UNUSED ? unusedParts.get(piece) : undefined;
      if (parts) {
        resegment(parts[0]);
        resegment(parts[1]);
      } else {
        out.push([piece, id]);
      }
    };
    merged.forEach(resegment);
    return out;
  }

  /**
   * Unigram: the segmentation with the highest total piece score (Viterbi over end positions). An unknown character
   * scores minScore − 10; a user-defined piece scores its UTF-8 length × maxScore − 0.1 so it always wins. Scores add
   * in float32 as in sentencepiece, so ties break the same way.
   */
  private segmentUnigram(normalized: string): [string, number][] {
    const n = normalized.length;
    if (n === 0) return [];
    const bestScore = new Float64Array(n + 1);
    const bestStart = new Int32Array(n + 1).fill(-1);
    const bestId = new Int32Array(n + 1).fill(-1);
    const unkScore = Math.fround(this.minScore - UNK_PENALTY);
    const offer = (end: number, start: number, id: number, score: number): void => {
      if (bestStart[end] === -1 || score > bestScore[end]!) {
        bestScore[end] = Math.fround(score);
        bestStart[end] = start;
        bestId[end] = id;
      }
    };
    for (let start = 0; start < n;) {
      const charLen = normalized.codePointAt(start)! > 0xffff ? 2 : 1;
      const base = bestScore[start]!;
      let hasSingleChar = false;
      for (let end = start + 1; end <= Math.min(n, start + this.maxPieceLength); end++) {
        const piece = normalized.slice(start, end);
        const id = this.pieces.get(piece);
        if (id === undefined) continue;
        const { type, score } = this.model.pieces[id]!;
        if (type === PieceType.UNUSED) continue;
        const total = type === PieceType.USER_DEFINED
          ? Math.fround(utf8Bytes(piece).length * this.maxScore) - 0.1 + base
          : Math.fround(score + base);
        offer(end, start, id, total);
        if (end - start === charLen) hasSingleChar = true;
      }
      if (!hasSingleChar) offer(start + charLen, start, this.unkId, Math.fround(unkScore + base));
      start += charLen;
    }
    const out: [string, number][] = [];
    for (let end = n; end > 0; end = bestStart[end]!) out.push([normalized.slice(bestStart[end]!, end), bestId[end]!]);
    return out.reverse();
  }

  /**
   * Pieces joined with U+2581 as space; the first piece loses its dummy-prefix space; byte pieces are gathered into
   * UTF-8 (an invalid byte becomes U+FFFD); control pieces vanish and <unk> becomes ' ⁇ '.
   */
  decode(ids: ArrayLike<number>): string {
    const { addDummyPrefix, removeExtraWhitespaces } = this.model.normalizer;
    let text = '';
    let bytes: number[] = [];
    let atStart = true;
    let strippedPrefix = false;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      checkId(id, this.vocabSize);
      const { piece, type } = this.model.pieces[id]!;
      if (type === PieceType.BYTE) {
        bytes.push(bytePieceValue(piece));
        continue;
      }
      if (bytes.length > 0) {
        text += utf8Text(Uint8Array.from(bytes));
        bytes = [];
      }
      if (strippedPrefix || text !== '') atStart = false;
      strippedPrefix = false;
      if (type === PieceType.CONTROL) continue;
      if (type === PieceType.UNKNOWN) {
        text += this.model.unkSurface;
        continue;
      }
      let s = piece;
      if (atStart && (addDummyPrefix || removeExtraWhitespaces) && s.startsWith(SPACE_SYMBOL)) {
        s = s.slice(SPACE_SYMBOL.length);
        strippedPrefix = !removeExtraWhitespaces; // with extra whitespace removed, every leading space goes
      }
      text += s.replaceAll(SPACE_SYMBOL, ' ');
    }
    if (bytes.length > 0) text += utf8Text(Uint8Array.from(bytes));
    return this.denormalizer ? this.denormalizer.normalize(text) : text;
  }

  idToToken(id: number): string {
    checkId(id, this.vocabSize);
    return this.model.pieces[id]!.piece;
  }

  tokenToId(token: string): number | undefined {
    return this.reserved.get(token) ?? this.pieces.get(token);
  }
}
