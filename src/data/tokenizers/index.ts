// Tokenizers: one interface (./tokenizer.ts) over BERT WordPiece vocab.txt, SentencePiece .model, HF tokenizer.json
// and llama2.c tokenizer.bin files, and loadTokenizer(path), which picks the format from the file.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { HfJsonTokenizer } from './hf_json.ts';
import { Llama2cTokenizer } from './llama2c.ts';
import { SentencePieceTokenizer } from './sentencepiece.ts';
import { TokenizerError, type Tokenizer, type TokenizerFormat as Format } from './tokenizer.ts';
import { WordPieceTokenizer } from './wordpiece.ts';

export { TokenizerError, type EncodeOptions, type Tokenizer, type TokenizerFormat } from './tokenizer.ts';
export { WordPieceTokenizer, basicTokenize, type WordPieceOptions } from './wordpiece.ts';
export { SentencePieceTokenizer } from './sentencepiece.ts';
export { parseModelProto, PieceType, ModelType, type ModelProto, type Piece } from './sentencepiece_proto.ts';
export { HfJsonTokenizer } from './hf_json.ts';
export { Llama2cTokenizer } from './llama2c.ts';

/** File names looked for, in this order, when loadTokenizer is given a folder. */
const FOLDER_FILES = ['tokenizer.json', 'tokenizer.model', 'spiece.model', 'vocab.txt', 'tokenizer.bin'];

/**
 * Loads a tokenizer file: `*.json` (HF tokenizer.json), `*.model` (SentencePiece), `*.txt` (BERT vocab.txt),
 * `*.bin` (llama2.c); other names are recognised by their first bytes. A folder is searched for the files above.
 */
export function loadTokenizer(path: string): Tokenizer {
  if (!existsSync(path)) throw new TokenizerError(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    const found = FOLDER_FILES.map((f) => join(path, f)).find((f) => existsSync(f));
    if (!found) throw new TokenizerError(`${path}: the folder holds none of ${FOLDER_FILES.join(', ')}`);
    return loadTokenizer(found);
  }
  switch (formatOf(path)) {
    case 'tokenizer.json':
      return HfJsonTokenizer.fromFile(path);
    case 'sentencepiece':
      return SentencePieceTokenizer.fromFile(path);
    case 'wordpiece':
      return WordPieceTokenizer.fromFile(path);
    case 'llama2c':
      return Llama2cTokenizer.fromFile(path);
  }
}

function formatOf(path: string): Format {
  const name = basename(path);
  if (name === 'tokenizer_config.json') throw new TokenizerError(`${path}: this holds settings only; load the tokenizer.json beside it`);
  const byName: Record<string, Format> = { '.json': 'tokenizer.json', '.model': 'sentencepiece', '.txt': 'wordpiece', '.bin': 'llama2c' };
  const known = byName[extname(name).toLowerCase()];
  if (known) return known;
  const head = firstBytes(path, 4);
  if (head[0] === 0x7b) return 'tokenizer.json'; // '{'
  // a ModelProto starts with field 1 (a piece message) of non-zero length; a tokenizer.bin with int32 max_token_length
  if (head[0] === 0x0a && head[1] !== 0) return 'sentencepiece';
  if (head.length === 4 && head[1] === 0 && head[2] === 0 && head[3] === 0) return 'llama2c';
  if (head[0] !== undefined && head[0] >= 0x20 && head[0] < 0x7f) return 'wordpiece';
  throw new TokenizerError(`${path}: not a tokenizer file this project reads (tokenizer.json, SentencePiece .model, BERT vocab.txt, llama2.c tokenizer.bin)`);
}

function firstBytes(path: string, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  const fd = openSync(path, 'r');
  try {
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}
