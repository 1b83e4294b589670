// Builds a WordPiece vocab.txt from every text of the datasets in a folder (the synthetic set, for pixelllm-tiny):
// BERT's five special tokens first (ids 0–4), then every word of the texts and prompts, most frequent first, then
// every letter, digit and punctuation mark alone and as a `##` continuation, so any other English word still
// tokenizes (into pieces) rather than to [UNK].
//   npx tsx scripts/make_vocab.ts DATA_DIR OUT/vocab.txt
import { writeFileSync, renameSync } from 'node:fs';
import { findDatasets } from '../src/data/formats.ts';
import { BadRecords } from '../src/data/records.ts';
import { basicTokenize } from '../src/data/tokenizers/index.ts';
import { DEFAULT_TASK_PROMPTS } from '../src/models/pixelllm/config.ts';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: npx tsx scripts/make_vocab.ts DATA_DIR OUT/vocab.txt');
  process.exit(2);
}
const counts = new Map<string, number>();
const add = (text: string) => {
  for (const w of basicTokenize(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
};
for (const p of Object.values(DEFAULT_TASK_PROMPTS)) add(p.replace('{text}', ''));
const { datasets } = await findDatasets(dir);
for (const d of datasets) {
  for await (const ex of d.read(new BadRecords('stop'))) {
    add(ex.text);
    for (const r of ex.references ?? []) add(r);
  }
}
const words = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
const chars = [...'abcdefghijklmnopqrstuvwxyz0123456789', ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
const vocab = [...new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words, ...chars, ...chars.map((c) => `##${c}`)])];
writeFileSync(`${out}.tmp`, `${vocab.join('\n')}\n`);
renameSync(`${out}.tmp`, out);
console.log(`${out}: ${vocab.length} tokens (${words.length} words from ${datasets.length} datasets in ${dir})`);
