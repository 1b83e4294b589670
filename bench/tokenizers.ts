// Encoding speed of each tokenizer on 10,000 captions: the 205 real COCO captions of ../shared/data/coco-mini, cycled
// (so words repeat as in a real caption set). Each timed run starts from a freshly loaded tokenizer, so WordPiece's
// word cache starts empty. Checks first that decoded ids encode back to the same ids, then prints one line per tokenizer.
// Usage: npm run bench:tokenizers [-- --reps N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer, type Tokenizer } from '../src/data/tokenizers/index.ts';

const repsAt = process.argv.indexOf('--reps');
const reps = repsAt >= 0 ? Number(process.argv[repsAt + 1]) : 5;
const data = new URL('../../shared/data/', import.meta.url).pathname;

const captions: string[] = ['train', 'val'].flatMap((split) => {
  const json = JSON.parse(readFileSync(join(data, `coco-mini/annotations/captions_${split}2017.json`), 'utf8')) as { annotations: { caption: string }[] };
  return json.annotations.map((a) => a.caption.trim());
});
const texts = Array.from({ length: 10_000 }, (_, i) => captions[i % captions.length]!);

const files: Record<string, string> = {
  'WordPiece (bert-base-uncased vocab.txt)': 'tokenizers/bert-base-uncased/vocab.txt',
  'SentencePiece BPE (LLaMA tokenizer.model)': 'tokenizers/llama-sp32000/tokenizer.model',
  'llama2.c (stories260K tok512.bin)': 'lm/stories260K/tok512.bin',
};

console.log(`${texts.length} captions (${captions.length} distinct COCO captions cycled), median of ${reps} runs, one thread`);
for (const [name, file] of Object.entries(files)) {
  const path = join(data, file);
  const check = loadTokenizer(path);
  for (const t of captions) {
    // decoding gives text that encodes to the same ids (WordPiece's decoded text differs from the caption in case and spacing)
    const ids = check.encode(t);
    const again = check.encode(check.decode(ids));
    if (again.join() !== ids.join()) throw new Error(`${name}: ${JSON.stringify(t)} does not survive decode and encode: ${ids} vs ${again}`);
  }
  const runs: { ms: number; tokens: number }[] = [];
  for (let r = 0; r < reps + 1; r++) {
    const tok: Tokenizer = loadTokenizer(path);
    const t0 = performance.now();
    let tokens = 0;
    for (const t of texts) tokens += tok.encode(t, { bos: true, eos: true }).length;
    if (r > 0) runs.push({ ms: performance.now() - t0, tokens }); // run 0 warms up the JIT
  }
  const { ms, tokens } = runs.sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)]!;
  const perSecond = (n: number): string => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}`;
  console.log(`${name}: ${ms.toFixed(1)} ms, ${tokens} tokens, ${perSecond(tokens)} tokens/s, ${perSecond(texts.length)} captions/s`);
}
