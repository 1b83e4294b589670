// A real pretrained model end to end: karpathy's stories260K (llama2.c legacy format) loaded into the Llama module
// decodes greedily from BOS to the text its model card documents for `run -t 0.0`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { full } from '../src/tensor/index.ts';
import { greedy } from '../src/models/generate.ts';
import { loadLlama2c, Llama2cError } from '../src/models/llama2c.ts';
import { loadTokenizer } from '../src/data/tokenizers/index.ts';

const dir = resolve(fileURLToPath(import.meta.url), '../../../shared/data/lm/stories260K');

test('stories260K: greedy decoding from BOS writes the documented story', () => {
  const model = loadLlama2c(join(dir, 'stories260K.bin'));
  assert.deepEqual([model.config.hidden_size, model.config.num_hidden_layers, model.config.num_attention_heads, model.config.num_key_value_heads, model.config.vocab_size], [64, 5, 8, 4, 512]);
  const session = model.startDecoding({ batch: 1, maxLength: 72 });
  const { sequences } = greedy(session, full([1, 1], 1, 'int32'), { maxNewTokens: 70, eosTokenId: 1, padTokenId: 0 });
  const tokenizer = loadTokenizer(join(dir, 'tok512.bin'));
  assert.equal(tokenizer.vocabSize, model.config.vocab_size);
  const text = tokenizer.decode(sequences.toArray());
  const documented = 'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.';
  assert.ok(text.startsWith(documented), `decoded: ${JSON.stringify(text)}`);
});

test('llama2.c reader: a truncated file or a versioned export is refused by name', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'llama2c-'));
  const bin = readFileSync(join(dir, 'stories260K.bin'));
  writeFileSync(join(tmp, 'short.bin'), bin.subarray(0, bin.length - 4));
  assert.throws(() => loadLlama2c(join(tmp, 'short.bin')), (e: Error) => e instanceof Llama2cError && /short\.bin: 1056536 bytes, but its header .* needs 1056540/.test(e.message));
  const versioned = Buffer.from(bin.subarray(0, 64));
  versioned.writeUInt32LE(0x616b3432, 0);
  writeFileSync(join(tmp, 'v1.bin'), versioned);
  assert.throws(() => loadLlama2c(join(tmp, 'v1.bin')), /'ak42' magic/);
});
