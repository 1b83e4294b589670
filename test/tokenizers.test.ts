// Tokenizers against the reference: HF BertTokenizer and sentencepiece outputs in the tokenizers fixture (every string,
// ids, pieces and decoded text), the Llama 2 token ids published in llama2.c's test.c, hand-worked unigram and
// normalizer cases, and the real llama2.c tok512.bin.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Llama2cTokenizer, SentencePieceTokenizer, TokenizerError, WordPieceTokenizer, basicTokenize, loadTokenizer,
  parseModelProto, PieceType, type ModelProto, type Tokenizer,
} from '../src/data/tokenizers/index.ts';
import { PrefixMatcher, SpNormalizer } from '../src/data/tokenizers/sp_normalizer.ts';
import { main } from '../src/cli/main.ts';
import { fixturesDir } from './helpers.ts';

const shared = resolve(fileURLToPath(import.meta.url), '../../../shared/data');
const BERT_VOCAB = join(shared, 'tokenizers/bert-base-uncased/vocab.txt');
const LLAMA_MODEL = join(shared, 'tokenizers/llama-sp32000/tokenizer.model');
const TOK512 = join(shared, 'lm/stories260K/tok512.bin');

interface Fixture {
  strings: string[];
  bert: { ids: number[]; tokens: string[]; fast_ids: number[]; decoded: string }[];
  llama: { ids: number[]; pieces: string[]; decoded: string }[];
}
const fixture = (): Fixture => JSON.parse(readFileSync(join(fixturesDir(), 'tokenizers/tokenizers.json'), 'utf8')) as Fixture;

const bert = WordPieceTokenizer.fromFile(BERT_VOCAB);
const llama = SentencePieceTokenizer.fromFile(LLAMA_MODEL);
const tokens = (tok: Tokenizer, ids: number[]): string[] => ids.map((id) => tok.idToToken(id));

/** Llama 2 prompts and their ids (with BOS) from llama2.c's test.c, taken there from Meta's tokenizer. */
const PUBLISHED_LLAMA: [string, number[]][] = [
  ['', [1]],
  ['I believe the meaning of life is', [1, 306, 4658, 278, 6593, 310, 2834, 338]],
  ['Simply put, the theory of relativity states that ', [1, 3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871]],
  ['A brief message congratulating the team on the launch:\n\n        Hi everyone,\n\n        I just ',
    [1, 319, 11473, 2643, 378, 629, 271, 18099, 278, 3815, 373, 278, 6826, 29901, 13, 13, 4706, 6324, 14332, 29892, 13, 13, 4706, 306, 925, 29871]],
  ['Translate English to French:\n\n        sea otter => loutre de mer\n        peppermint => menthe poivrée\n        plush girafe => girafe peluche\n        cheese =>',
    [1, 4103, 9632, 4223, 304, 5176, 29901, 13, 13, 4706, 7205, 4932, 357, 1149, 301, 449, 276, 316, 2778, 13, 4706, 1236, 407, 837, 524, 1149, 6042, 354,
      772, 440, 29878, 1318, 13, 4706, 715, 1878, 330, 3055, 1725, 1149, 330, 3055, 1725, 4639, 28754, 13, 4706, 923, 968, 1149]],
];

describe('WordPiece (BERT uncased) matches HF BertTokenizer', () => {
  test('every fixture string: ids with [CLS]/[SEP], wordpieces, decoded text', () => {
    const fx = fixture();
    fx.strings.forEach((s, i) => {
      const want = fx.bert[i]!;
      const ids = bert.encode(s, { bos: true, eos: true });
      assert.deepEqual(ids, want.ids, `ids of ${JSON.stringify(s)}`);
      assert.deepEqual(ids, want.fast_ids, `ids of ${JSON.stringify(s)} vs BertTokenizerFast`);
      assert.deepEqual(tokens(bert, ids), want.tokens, `wordpieces of ${JSON.stringify(s)}`);
      assert.equal(bert.decode(ids), want.decoded, `decoded ${JSON.stringify(s)}`);
    });
  });

  test('special ids and vocabulary', () => {
    assert.deepEqual([bert.bosId, bert.eosId, bert.padId, bert.unkId, bert.tokenToId('[MASK]')], [101, 102, 0, 100, 103]);
    assert.equal(bert.vocabSize, 30522);
    assert.equal(bert.idToToken(1996), 'the');
    assert.equal(bert.tokenToId('##ing'), 2075);
    assert.equal(bert.tokenToId('not-a-token'), undefined);
    assert.throws(() => bert.idToToken(30522), RangeError);
  });

  test('basic tokenizer: clean-up, whitespace, accents, CJK and BERT punctuation', () => {
    // NBSP is a space separator; U+200B (Cf) and NUL are dropped; accents go after NFD; katakana is not split per character
    assert.deepEqual(basicTokenize('Ünïcödé\u00a0CAFÉ\tx\u200by\u0000z'), ['unicode', 'cafe', 'xyz']);
    // $ + ^ ~ ` are symbols in Unicode but BERT counts every non-alphanumeric printable ASCII character as punctuation
    assert.deepEqual(basicTokenize('$5+3^2 a~b`c'), ['$', '5', '+', '3', '^', '2', 'a', '~', 'b', '`', 'c']);
    assert.deepEqual(basicTokenize('東京タワー«hi»'), ['東', '京', 'タワー', '«', 'hi', '»']);
    assert.deepEqual(basicTokenize('Hello World', false), ['Hello', 'World']);
  });

  test('a word of 100 characters is split, one of 101 is [UNK]', () => {
    const hundred = bert.encode('a'.repeat(100));
    assert.equal(hundred.length > 1 && !hundred.includes(100), true);
    assert.deepEqual(tokens(bert, hundred).slice(0, 2), ['aaa', '##aa']);
    assert.deepEqual(bert.encode('a'.repeat(101)), [100]);
  });

  test('special tokens in the text are kept whole only as written', () => {
    assert.deepEqual(tokens(bert, bert.encode('a [MASK] b')), ['a', '[MASK]', 'b']);
    assert.deepEqual(tokens(bert, bert.encode('a [mask]')), ['a', '[', 'mask', ']']);
  });

  test('round trip of lower-case text whose spacing the decoder restores', () => {
    const text = 'a man is riding a horse on the beach, next to a surfboard.';
    assert.equal(bert.decode(bert.encode(text, { bos: true, eos: true })), text);
  });
});

describe('SentencePiece BPE (LLaMA tokenizer.model) matches sentencepiece', () => {
  test('every fixture string: ids (no BOS/EOS), pieces, decoded text, and the round trip', () => {
    const fx = fixture();
    fx.strings.forEach((s, i) => {
      const want = fx.llama[i]!;
      const ids = llama.encode(s);
      assert.deepEqual(ids, want.ids, `ids of ${JSON.stringify(s)}`);
      assert.deepEqual(tokens(llama, ids), want.pieces, `pieces of ${JSON.stringify(s)}`);
      assert.equal(llama.decode(ids), want.decoded, `decoded ${JSON.stringify(s)}`);
      assert.equal(llama.decode(llama.encode(s, { bos: true, eos: true })), s, `round trip of ${JSON.stringify(s)}`);
    });
  });

  test('the Llama 2 ids published with llama2.c', () => {
    for (const [text, ids] of PUBLISHED_LLAMA) assert.deepEqual(llama.encode(text, { bos: true }), ids, JSON.stringify(text));
  });

  test('special ids; decoding of control, unknown and broken byte pieces', () => {
    assert.deepEqual([llama.bosId, llama.eosId, llama.padId, llama.unkId, llama.vocabSize], [1, 2, null, 0, 32000]);
    const [e7, x88] = [llama.tokenToId('<0xE7>')!, llama.tokenToId('<0x88>')!];
    assert.deepEqual([e7, x88], [234, 139]); // byte b is piece 3 + b
    assert.equal(llama.decode([1, 15043, 2]), 'Hello');
    assert.equal(llama.decode([15043, 0]), 'Hello \u2047 '); // <unk> is written as ' ⁇ '
    // an incomplete UTF-8 sequence gives one U+FFFD per byte, as sentencepiece decodes it
    assert.equal(llama.decode([e7, x88, 15043]), '\ufffd\ufffd Hello');
  });
});

// ---- A hand-made unigram model: a tiny protobuf writer for ModelProto, and a precompiled charsmap built by hand.

function varint(n: number): number[] {
  const out: number[] = [];
  for (let v = n >>> 0; ; v >>>= 7) {
    if (v < 0x80) return [...out, v];
    out.push((v & 0x7f) | 0x80);
  }
}
const lengthDelimited = (no: number, payload: Uint8Array | number[]): number[] => [...varint((no << 3) | 2), ...varint(payload.length), ...payload];
const utf8 = (s: string): number[] => [...new TextEncoder().encode(s)];
const varintField = (no: number, v: number): number[] => [...varint(no << 3), ...varint(v)];
function floatField(no: number, v: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return [...varint((no << 3) | 5), ...b];
}

/** A serialized ModelProto with these pieces (piece, score, type), model type (1 unigram, 2 BPE) and normalizer charsmap. */
function modelProto(pieces: [string, number, number][], modelType: number, charsmap?: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (const [piece, score, type] of pieces) out.push(...lengthDelimited(1, [...lengthDelimited(1, utf8(piece)), ...floatField(2, score), ...varintField(3, type)]));
  out.push(...lengthDelimited(2, varintField(3, modelType))); // trainer_spec.model_type
  if (charsmap) out.push(...lengthDelimited(3, [...lengthDelimited(1, utf8('nmt_nfkc')), ...lengthDelimited(2, charsmap)]));
  return Uint8Array.from(out);
}

/**
 * A darts-clone double array mapping 'B' → "b" and 'Ａ' (U+FF21, bytes EF BC A1) → "a". A unit is
 * label (bits 0-7) | has_leaf (bit 8) | offset << 10; a child sits at parent ^ offset ^ byte, a leaf (top bit set,
 * value in the low 31 bits) at node ^ offset. Root: offset 1, so the first byte b lands at 1 ^ b.
 *   'B'  0x42: 1^0x42 = 67  (label 0x42, leaf, offset 1) → leaf at 66, value 2 ("b" at byte 2 of the strings)
 *   0xEF: 1^0xEF = 238 (offset 256) → 238^256 = 494; 0xBC: 494^0xBC = 338 (offset 512) → 850;
 *   0xA1: 850^0xA1 = 1011 (label 0xA1, leaf, offset 1) → leaf at 1010, value 0 ("a")
 */
function handBuiltCharsmap(): Uint8Array {
  const units = new Uint32Array(1012);
  const unit = (label: number, offset: number, leaf = false): number => (label | (leaf ? 1 << 8 : 0) | (offset << 10)) >>> 0;
  units[0] = unit(0, 1);
  units[67] = unit(0x42, 1, true);
  units[66] = (0x80000000 | 2) >>> 0;
  units[238] = unit(0xef, 256);
  units[338] = unit(0xbc, 512);
  units[1011] = unit(0xa1, 1, true);
  units[1010] = 0x80000000;
  const strings = utf8('a\0b\0');
  const blob = new Uint8Array(4 + units.byteLength + strings.length);
  const view = new DataView(blob.buffer);
  view.setUint32(0, units.byteLength, true);
  units.forEach((u, i) => view.setUint32(4 + 4 * i, u, true));
  blob.set(strings, 4 + units.byteLength);
  return blob;
}

describe('SentencePiece unigram (hand-made model)', () => {
  const { NORMAL, UNKNOWN, CONTROL, USER_DEFINED } = PieceType;
  const model = modelProto([
    ['<unk>', 0, UNKNOWN], ['<s>', 0, CONTROL], ['</s>', 0, CONTROL],
    ['▁', -1, NORMAL], ['a', -2, NORMAL], ['b', -2, NORMAL], ['▁a', -2.5, NORMAL], ['ab', -1, NORMAL], ['▁ab', -4, NORMAL],
    ['<sep>', 0, USER_DEFINED],
  ], 1, handBuiltCharsmap());
  const uni = new SentencePieceTokenizer(parseModelProto(model, 'unigram test model'));
  const pieces = (text: string): string[] => tokens(uni, uni.encode(text));

  test('Viterbi takes the best total score, not the longest piece', () => {
    // "▁ab": ▁|a|b = −5, ▁a|b = −4.5, ▁ab = −4, ▁|ab = −1 − 1 = −2 (best)
    assert.deepEqual(pieces('ab'), ['▁', 'ab']);
  });

  test('an unknown character costs min score − 10 and a run of them is one <unk>', () => {
    // "▁abzz": z has no piece; ▁|ab|z|z, and the two unknown pieces become one <unk>
    assert.deepEqual(uni.encode('abzz'), [3, 7, 0]);
    assert.equal(uni.decode(uni.encode('abzz')), 'ab \u2047 ');
  });

  test('a user-defined piece is never split (UTF-8 length × max score − 0.1)', () => {
    // max NORMAL score starts at FLT_MIN in sentencepiece, so <sep> scores 5·FLT_MIN − 0.1 ≈ −0.1 and beats <|s|e|p|> as <unk>s
    assert.deepEqual(pieces('a<sep>b'), ['▁a', '<sep>', 'b']);
  });

  test('precompiled charsmap rules and extra whitespace removal', () => {
    // 'Ａ' → 'a' and 'B' → 'b' by the charsmap; leading, trailing and repeated spaces go: "▁ab▁b"
    assert.deepEqual(pieces('  ＡB   b '), ['▁', 'ab', '▁', 'b']);
    assert.equal(uni.decode(uni.encode('  ＡB   b ')), 'ab b');
  });
});

describe('SentencePiece BPE (hand-made model)', () => {
  const { NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED } = PieceType;
  const pieces = (abcType: number): [string, number, number][] => [
    ['<unk>', 0, UNKNOWN], ['<s>', 0, CONTROL], ['</s>', 0, CONTROL],
    ['▁', -10, NORMAL], ['a', -10, NORMAL], ['b', -10, NORMAL], ['c', -10, NORMAL],
    ['ab', -1, NORMAL], ['bc', -2, NORMAL], ['abc', -0.5, abcType], ['▁a', -5, NORMAL], ['▁b', -2, NORMAL], ['a▁b', -4, NORMAL],
    ['<sep>', 0, USER_DEFINED],
  ];
  const bpe = new SentencePieceTokenizer(parseModelProto(modelProto(pieces(NORMAL), 2), 'bpe test model'));
  const split = (tok: SentencePieceTokenizer, text: string): string[] => tokens(tok, tok.encode(text));

  test('merges go by piece score, not left to right', () => {
    // "▁abc": pairs ▁a −5, ab −1, bc −2 → ab first; then ab+c = abc −0.5 → ▁|abc (bc never happens)
    assert.deepEqual(split(bpe, 'abc'), ['▁', 'abc']);
  });

  test('a piece across a word start is formed when its score says so', () => {
    // "▁a▁b": ▁b −2 first, then a+▁b = a▁b −4 beats ▁a −5 → ▁|a▁b (merging word by word would give ▁a|▁b)
    assert.deepEqual(split(bpe, 'a b'), ['▁', 'a▁b']);
  });

  test('user-defined pieces stay whole; UNUSED pieces are split back into the pieces they were merged from', () => {
    assert.deepEqual(split(bpe, 'ab<sep>c'), ['▁', 'ab', '<sep>', 'c']);
    const withUnused = new SentencePieceTokenizer(parseModelProto(modelProto(pieces(UNUSED), 2), 'bpe test model'));
    assert.deepEqual(split(withUnused, 'abc'), ['▁', 'ab', 'c']);
  });
});

test('the identity normalizer\'s whole-string path equals the character-by-character one', () => {
  // a user-defined piece that never occurs forces the general path (sentencepiece's Normalize, one prefix at a time)
  const never = new PrefixMatcher(new Set(['\u0000never']));
  const inputs = ['', ' ', '   ', '  a  b  ', 'a\u2581 ', '\u2581a', ' \ud800x', 'x\udc00 ', '😀  y', ' \t a\n'];
  for (const removeExtraWhitespaces of [true, false]) {
    for (const escapeWhitespaces of [true, false]) {
      for (const addDummyPrefix of [true, false]) {
        for (const suffix of [false, true]) {
          const spec = { name: 'identity', precompiledCharsmap: null, addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces };
          const fast = new SpNormalizer(spec, suffix, null, 'test');
          const general = new SpNormalizer(spec, suffix, never, 'test');
          for (const text of inputs) assert.equal(fast.normalize(text), general.normalize(text), `${JSON.stringify(text)} with ${JSON.stringify({ ...spec, suffix })}`);
        }
      }
    }
  }
});

// ---- llama2.c tokenizer.bin

/** tokenizer.bin bytes as llama2.c's tokenizer.py exports a SentencePiece model: ▁ → ' ', BOS/EOS as "\n<s>\n"/"\n</s>\n". */
function llama2cExport(m: ModelProto): Uint8Array {
  const records = m.pieces.map((p, i) => {
    const text = i === 1 ? '\n<s>\n' : i === 2 ? '\n</s>\n' : p.piece.replaceAll('▁', ' ');
    return { bytes: new TextEncoder().encode(text), score: p.score };
  });
  const size = 4 + records.reduce((n, r) => n + 8 + r.bytes.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt32(0, Math.max(...records.map((r) => r.bytes.length)), true);
  let pos = 4;
  for (const r of records) {
    view.setFloat32(pos, r.score, true);
    view.setInt32(pos + 4, r.bytes.length, true);
    out.set(r.bytes, pos + 8);
    pos += 8 + r.bytes.length;
  }
  return out;
}

describe('llama2.c tokenizer.bin', () => {
  const tok512 = Llama2cTokenizer.fromFile(TOK512);

  test('tok512.bin: 512 tokens, the byte tokens at 3 + b, its first merges', () => {
    assert.equal(tok512.vocabSize, 512);
    assert.deepEqual([0, 1, 2, 3, 13, 258].map((id) => tok512.idToToken(id)), ['<unk>', '\n<s>\n', '\n</s>\n', '<0x00>', '<0x0A>', '<0xFF>']);
    assert.deepEqual([259, 260, 261, 265, 410].map((id) => tok512.idToToken(id)), [' t', 'he', ' a', ' the', ' ']);
    // after BOS the leading space of ' t' goes: ' t' + 'he' → "the"
    assert.equal(tok512.decode([1, 259, 260, 261]), 'the a');
    assert.equal(tok512.decode([259, 260]), 'the');
  });

  test('tok512.bin: encode merges to its pieces and round-trips, with byte tokens for unknown characters', () => {
    const text = 'Once upon a time, there was a little girl named Lily.';
    const ids = tok512.encode(text, { bos: true });
    assert.equal(ids[0], 1);
    assert.ok(ids.length < text.length / 2, `${ids.length} tokens for ${text.length} characters`);
    assert.equal(tok512.decode(ids), text);
    assert.deepEqual(tok512.encode('€'), [410, 503]); // ' ' (the dummy prefix) and '€', which tok512 has
    const zhe = tok512.encode('ж'); // which it has not: its UTF-8 bytes D0 B6 as tokens 3 + b
    assert.deepEqual(zhe, [410, 0xd0 + 3, 0xb6 + 3]);
    assert.equal(tok512.decode(zhe), 'ж');
  });

  test('a tokenizer.bin exported from the LLaMA model encodes as sentencepiece does', () => {
    const l2c = Llama2cTokenizer.fromBuffer(llama2cExport(parseModelProto(readFileSync(LLAMA_MODEL), LLAMA_MODEL)));
    const fx = fixture();
    fx.strings.forEach((s, i) => {
      assert.deepEqual(l2c.encode(s), fx.llama[i]!.ids, `ids of ${JSON.stringify(s)}`);
      assert.equal(l2c.decode(l2c.encode(s, { bos: true, eos: true })), s, `round trip of ${JSON.stringify(s)}`);
    });
    for (const [text, ids] of PUBLISHED_LLAMA) assert.deepEqual(l2c.encode(text, { bos: true }), ids, JSON.stringify(text));
  });

  test('a cut-short file is an error naming the token', () => {
    const buf = readFileSync(TOK512).subarray(0, 1000);
    assert.throws(() => Llama2cTokenizer.fromBuffer(buf, 'short.bin'), (e: unknown) => e instanceof TokenizerError && /short\.bin: token \d+/.test(e.message));
  });
});

describe('loadTokenizer', () => {
  test('picks the format by file name, and by the first bytes when the name says nothing', () => {
    assert.equal(loadTokenizer(BERT_VOCAB).format, 'wordpiece');
    assert.equal(loadTokenizer(LLAMA_MODEL).format, 'sentencepiece');
    assert.equal(loadTokenizer(TOK512).format, 'llama2c');
    const dir = mkdtempSync(join(tmpdir(), 'pixelllm-tok-'));
    for (const [src, name, format] of [[BERT_VOCAB, 'vocab', 'wordpiece'], [LLAMA_MODEL, 'llama', 'sentencepiece'], [TOK512, 'tok', 'llama2c']] as const) {
      copyFileSync(src, join(dir, name));
      assert.equal(loadTokenizer(join(dir, name)).format, format, name);
    }
    assert.equal(loadTokenizer(join(dir, 'tok')).encode('the').length > 0, true);
  });

  test('a folder is searched for the usual file names', () => {
    assert.equal(loadTokenizer(join(shared, 'tokenizers/llama-sp32000')).format, 'sentencepiece');
  });

  test('bad files are TokenizerErrors naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pixelllm-tok-'));
    const bad = join(dir, 'broken.model');
    writeFileSync(bad, readFileSync(LLAMA_MODEL).subarray(0, 5000));
    assert.throws(() => loadTokenizer(bad), (e: unknown) => e instanceof TokenizerError && e.message.startsWith(bad));
    assert.throws(() => loadTokenizer(join(dir, 'missing.json')), TokenizerError);
    writeFileSync(join(dir, 'x.json'), '{"model": ');
    assert.throws(() => loadTokenizer(join(dir, 'x.json')), /not valid JSON/);
    const binary = join(dir, 'weights');
    writeFileSync(binary, Uint8Array.from([0xff, 0xfe, 0x01, 0x02]));
    assert.throws(() => loadTokenizer(binary), /not a tokenizer file/);
  });
});

test('pixelllm tokenize prints the ids, the tokens and the decoded text', async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  let code: number;
  try {
    code = await main(['tokenize', BERT_VOCAB, '--bos', '--eos', 'Hello,', 'wörld!']);
  } finally {
    console.log = log;
  }
  assert.equal(code, 0);
  assert.deepEqual(lines, ['ids: [101,7592,1010,2088,999,102]', 'tokens: ["[CLS]","hello",",","world","!","[SEP]"]', 'decoded: "hello, world!"']);
});
