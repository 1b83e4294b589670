// Reads a SentencePiece `.model` file: a protobuf ModelProto (pieces with scores and types, trainer and normalizer
// settings). Only the fields encoding needs are kept; the wire format is read here rather than through a protobuf package.
// https://github.com/google/sentencepiece/blob/master/src/sentencepiece_model.proto
import { TokenizerError } from './tokenizer.ts';

export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;

export interface Piece {
  piece: string;
  score: number;
  type: number;
}

export interface NormalizerSpec {
  name: string;
  /** darts-clone double array + replacement strings, or null for the identity normalizer */
  precompiledCharsmap: Uint8Array | null;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface ModelProto {
  pieces: Piece[];
  modelType: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkPiece: string;
  bosPiece: string;
  eosPiece: string;
  padPiece: string;
  /** what decoding writes for <unk> */
  unkSurface: string;
  normalizer: NormalizerSpec;
  /** applied to decoded text when it carries rules */
  denormalizer: NormalizerSpec | null;
}

interface Field {
  no: number;
  /** varint fields: the low 32 bits, as a signed int32 (negative int32 values are 10-byte varints) */
  int: number;
  bytes: Uint8Array;
  float: number;
}

const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** The fields of one protobuf message, in file order. */
function* fields(buf: Uint8Array, where: string): Generator<Field> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  const fail = (why: string): never => {
    throw new TokenizerError(`${where}: ${why} at byte ${pos}; the file is not a SentencePiece model or is cut short`);
  };
  const varint = (): number => {
    let lo = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= buf.length) fail('truncated varint');
      if (shift >= 70) fail('varint longer than 10 bytes');
      const b = buf[pos++]!;
      if (shift < 32) lo |= (b & 0x7f) << shift; // only the low 32 bits matter for int32, enum and bool fields
      if (b < 0x80) return lo;
    }
  };
  const lengthOf = (n: number): number => (n < 0 || pos + n > buf.length ? fail(`length ${n} runs past the end`) : n);
  while (pos < buf.length) {
    const key = varint() >>> 0;
    const no = key >>> 3;
    const field: Field = { no, int: 0, bytes: new Uint8Array(0), float: 0 };
    switch (key & 7) {
      case 0:
        field.int = varint();
        break;
      case 1:
        pos += lengthOf(8);
        break;
      case 2: {
        const n = lengthOf(varint() >>> 0);
        field.bytes = buf.subarray(pos, pos + n);
        pos += n;
        break;
      }
      case 5:
        lengthOf(4);
        field.float = view.getFloat32(pos, true);
        pos += 4;
        break;
      default:
        fail(`field ${no} has wire type ${key & 7}, which a ModelProto never uses`);
    }
    yield field;
  }
}

const text = (b: Uint8Array): string => utf8.decode(b);

function readPiece(buf: Uint8Array, where: string): Piece {
  const p: Piece = { piece: '', score: 0, type: PieceType.NORMAL };
  for (const f of fields(buf, where)) {
    if (f.no === 1) p.piece = text(f.bytes);
    else if (f.no === 2) p.score = f.float;
    else if (f.no === 3) p.type = f.int;
  }
  return p;
}

function readNormalizer(buf: Uint8Array, where: string): NormalizerSpec {
  const n: NormalizerSpec = { name: '', precompiledCharsmap: null, addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
  for (const f of fields(buf, where)) {
    if (f.no === 1) n.name = text(f.bytes);
    else if (f.no === 2) n.precompiledCharsmap = f.bytes.length > 0 ? f.bytes : null;
    else if (f.no === 3) n.addDummyPrefix = f.int !== 0;
    else if (f.no === 4) n.removeExtraWhitespaces = f.int !== 0;
    else if (f.no === 5) n.escapeWhitespaces = f.int !== 0;
  }
  return n;
}

/** Parses a serialized ModelProto; `where` (the file name) prefixes every error. Defaults are the proto's. */
export function parseModelProto(buf: Uint8Array, where: string): ModelProto {
  const m: ModelProto = {
    pieces: [], modelType: ModelType.UNIGRAM, byteFallback: false, treatWhitespaceAsSuffix: false,
    unkPiece: '<unk>', bosPiece: '<s>', eosPiece: '</s>', padPiece: '<pad>', unkSurface: ' \u2047 ',
    normalizer: readNormalizer(new Uint8Array(0), where), denormalizer: null,
  };
  // an empty string in a *_piece field means "the default", as ModelInterface reads it
  const pieceName = (b: Uint8Array, fallback: string): string => text(b) || fallback;
  for (const f of fields(buf, where)) {
    if (f.no === 1) m.pieces.push(readPiece(f.bytes, `${where}: piece ${m.pieces.length}`));
    else if (f.no === 3) m.normalizer = readNormalizer(f.bytes, `${where}: normalizer_spec`);
    else if (f.no === 5) m.denormalizer = readNormalizer(f.bytes, `${where}: denormalizer_spec`);
    else if (f.no === 2) {
      for (const t of fields(f.bytes, `${where}: trainer_spec`)) {
        if (t.no === 3) m.modelType = t.int;
        else if (t.no === 24) m.treatWhitespaceAsSuffix = t.int !== 0;
        else if (t.no === 35) m.byteFallback = t.int !== 0;
        else if (t.no === 44) m.unkSurface = text(t.bytes);
        else if (t.no === 45) m.unkPiece = pieceName(t.bytes, '<unk>');
        else if (t.no === 46) m.bosPiece = pieceName(t.bytes, '<s>');
        else if (t.no === 47) m.eosPiece = pieceName(t.bytes, '</s>');
        else if (t.no === 48) m.padPiece = pieceName(t.bytes, '<pad>');
      }
    }
  }
  if (m.pieces.length === 0) throw new TokenizerError(`${where}: the model has no pieces; is this a SentencePiece .model file?`);
  return m;
}
