// HF tokenizer.json through @huggingface/tokenizers: the three model kinds it describes, each in a tokenizer.json
// written the way transformers' converters write it: WordPiece from the BERT vocab.txt and SentencePiece-style BPE from
// the LLaMA tokenizer.model (both must reproduce the fixture's reference ids), and a byte-level BPE (GPT-2 layout)
// with a handful of merges whose ids are worked out by hand.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { HfJsonTokenizer, loadTokenizer, parseModelProto } from '../src/data/tokenizers/index.ts';
import { fixturesDir } from './helpers.ts';

const shared = resolve(fileURLToPath(import.meta.url), '../../../shared/data');

interface Fixture {
  strings: string[];
  bert: { ids: number[]; decoded: string }[];
  llama: { ids: number[]; decoded: string }[];
}
const fixture = (): Fixture => JSON.parse(readFileSync(join(fixturesDir(), 'tokenizers/tokenizers.json'), 'utf8')) as Fixture;

const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
const sequence = { Sequence: { id: 'A', type_id: 0 } };

/** bert-base-uncased's tokenizer.json, as transformers' BertConverter writes it. */
function bertJson(): Record<string, unknown> {
  const lines = readFileSync(join(shared, 'tokenizers/bert-base-uncased/vocab.txt'), 'utf8').split('\n').slice(0, -1);
  const vocab = Object.fromEntries(lines.map((t, i) => [t, i]));
  return {
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => added(vocab[t]!, t)),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing', single: [special('[CLS]'), sequence, special('[SEP]')], pair: [],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

/**
 * LLaMA's tokenizer.json, as transformers' LlamaConverter writes it: the pieces as a BPE vocabulary with byte fallback,
 * and merges recovered from the pieces (every split of a piece into two pieces, ranked by the piece's score, then by
 * the ids of the halves), spaces as ▁ with a ▁ prepended.
 */
function llamaJson(): Record<string, unknown> {
  const path = join(shared, 'tokenizers/llama-sp32000/tokenizer.model');
  const { pieces } = parseModelProto(readFileSync(path), path);
  const vocab = new Map(pieces.map((p, i) => [p.piece, i]));
  const merges: { left: string; right: string; score: number; l: number; r: number }[] = [];
  for (const p of pieces) {
    const chars = Array.from(p.piece);
    const local = [];
    for (let k = 1; k < chars.length; k++) {
      const [left, right] = [chars.slice(0, k).join(''), chars.slice(k).join('')];
      if (vocab.has(left) && vocab.has(right)) local.push({ left, right, score: p.score, l: vocab.get(left)!, r: vocab.get(right)! });
    }
    merges.push(...local.sort((a, b) => a.l - b.l || a.r - b.r));
  }
  merges.sort((a, b) => b.score - a.score); // stable: ties keep their order
  return {
    added_tokens: [0, 1, 2].map((id) => added(id, pieces[id]!.piece)),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: { type: 'TemplateProcessing', single: [special('<s>'), sequence], pair: [], special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: {
      type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true,
      vocab: Object.fromEntries(vocab), merges: merges.map((m) => [m.left, m.right]),
    },
  };
}

/** GPT-2's byte → character map: printable Latin-1 bytes map to themselves, the rest to U+0100 onwards, in byte order. */
function bytesToUnicode(): string[] {
  const printable = [...range(0x21, 0x7e), ...range(0xa1, 0xac), ...range(0xae, 0xff)];
  const order = [...printable, ...range(0, 255).filter((b) => !printable.includes(b))];
  const chars: string[] = [];
  let n = 0;
  for (const b of order) chars.push(String.fromCodePoint(printable.includes(b) ? b : 256 + n++));
  return chars; // chars[i] is the character of vocabulary id i, and GPT-2's ids 0..255 are in this order
}
const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Llama 3's split pattern (tiktoken's cl100k pattern): letters with one leading non-letter, digits in groups of at most 3. */
const LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * A byte-level BPE in GPT-2's layout: the 256 byte characters (ids as in GPT-2), the given merges (their results get
 * ids from 256 on), then <|endoftext|>. Pre-tokenized as GPT-2 does, or as Llama 3 does (a Split regex, then bytes).
 */
function byteLevelJson(merges: string[], split: 'gpt2' | 'llama3'): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  bytesToUnicode().forEach((c, id) => (vocab[c] = id));
  merges.forEach((m, i) => (vocab[m.replace(' ', '')] = 256 + i));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: split === 'gpt2' };
  return {
    added_tokens: [added(256 + merges.length, '<|endoftext|>')],
    normalizer: null,
    pre_tokenizer: split === 'gpt2' ? byteLevel
      : { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: LLAMA3_SPLIT }, behavior: 'Isolated', invert: false }, byteLevel] },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, vocab, merges },
  };
}
const gpt2Json = (): Record<string, unknown> => byteLevelJson(['Ġ t', 'h e', 'Ġt he', 't h'], 'gpt2'); // Ġt 256, he 257, Ġthe 258, th 259

describe('tokenizer.json', () => {
  test('WordPiece (BertNormalizer, BertPreTokenizer, WordPiece decoder) reproduces BertTokenizer on every fixture string', () => {
    const tok = new HfJsonTokenizer(bertJson());
    assert.deepEqual([tok.bosId, tok.eosId, tok.unkId, tok.vocabSize], [101, 102, 100, 30522]); // BOS/EOS read off the template
    const fx = fixture();
    fx.strings.forEach((s, i) => {
      const ids = tok.encode(s, { bos: true, eos: true });
      assert.deepEqual(ids, fx.bert[i]!.ids, `ids of ${JSON.stringify(s)}`);
      assert.equal(tok.decode(ids), fx.bert[i]!.decoded, `decoded ${JSON.stringify(s)}`);
    });
  });

  test('SentencePiece-style BPE with byte fallback reproduces sentencepiece on every fixture string', () => {
    const tok = new HfJsonTokenizer(llamaJson(), { bos_token: '<s>', eos_token: '</s>' });
    assert.deepEqual([tok.bosId, tok.eosId, tok.unkId, tok.vocabSize], [1, 2, 0, 32000]);
    const fx = fixture();
    fx.strings.forEach((s, i) => {
      const ids = tok.encode(s);
      assert.deepEqual(ids, fx.llama[i]!.ids, `ids of ${JSON.stringify(s)}`);
      assert.equal(tok.decode(ids), fx.llama[i]!.decoded, `decoded ${JSON.stringify(s)}`);
    });
    assert.deepEqual(tok.encode('I believe the meaning of life is', { bos: true }), [1, 306, 4658, 278, 6593, 310, 2834, 338]); // llama2.c's test.c
  });

  test('byte-level BPE: merge ranks, the GPT-2 split pattern, bytes as characters', () => {
    const tok = new HfJsonTokenizer(gpt2Json(), { bos_token: '<|endoftext|>', eos_token: '<|endoftext|>' });
    // "the": (t,h) has rank 3, (h,e) rank 1 → t|he, and (t,he) is no merge. " the": Ġ t → Ġt, h e → he, Ġt he → Ġthe.
    // t is byte 0x74, id 0x74 − 0x21 = 83 (printable bytes start at '!' = id 0)
    assert.deepEqual(tok.encode('the the'), [83, 257, 258]);
    // split "it" "'s" " 42" "\n": no merge crosses a split; '\n' → Ċ and ' ' → Ġ are GPT-2's ids 198 and 220
    assert.deepEqual(tok.encode("it's 42\n"), [72, 83, 6, 82, 220, 19, 17, 198]);
    // 🙂 = F0 9F 99 82: F0 → 'ð' (id 106 + 0xF0 − 0xAE = 172); 9F, 99, 82 are unprintable → 221 + (b − 0x7F)
    assert.deepEqual(tok.encode('🙂'), [172, 253, 247, 224]);
    assert.deepEqual(tok.encode('<|endoftext|>the', { eos: true }), [260, 83, 257, 260]);
    assert.equal(tok.decode([83, 257, 258, 260]), 'the the');
    assert.equal(tok.decode([172, 253, 247, 224, 198, 220]), '🙂\n ');
    assert.equal(tok.decode([]), '');
    assert.deepEqual([tok.bosId, tok.eosId, tok.idToToken(220), tok.tokenToId('Ġthe')], [260, 260, 'Ġ', 258]);
  });

  test("Llama 3's pre-tokenizer splits digits in threes, so no merge crosses 123|45", () => {
    const merges = ['3 4', '1 2', '12 3', '4 5']; // 34 256, 12 257, 123 258, 45 259
    const llama3 = new HfJsonTokenizer(byteLevelJson(merges, 'llama3'));
    // "123": 1 2 → 12, 12 3 → 123; "45": 4 5 → 45. Merged whole, "12345" would take 3 4 first: 12|34|5
    assert.deepEqual(llama3.encode('12345'), [258, 259]);
    assert.deepEqual(new HfJsonTokenizer(byteLevelJson(merges, 'gpt2')).encode('12345'), [257, 256, 20]); // '5' is byte 0x35, id 0x35 − 0x21
    assert.equal(llama3.decode(llama3.encode("I'M 12345 ok\n")), "I'M 12345 ok\n");
  });

  test('loadTokenizer reads tokenizer.json with the tokenizer_config.json beside it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pixelllm-tokjson-'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(gpt2Json()));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ bos_token: { content: '<|endoftext|>' }, eos_token: '<|endoftext|>' }));
    const tok = loadTokenizer(dir);
    assert.deepEqual([tok.format, tok.bosId, tok.vocabSize], ['tokenizer.json', 260, 261]);
    assert.throws(() => loadTokenizer(join(dir, 'tokenizer_config.json')), /load the tokenizer.json beside it/);
  });
});
