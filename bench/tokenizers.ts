// Encoding speed of each tokenizer (with BOS/EOS, one thread) on two workloads from ../shared/data:
// - 10,000 captions: the 205 real COCO captions of coco-mini, cycled, as an epoch over a caption set repeats words;
// - one pass over 1,483 distinct texts (those captions and the 1,278 Visual Genome region phrases of vg-sample).
// Every timed run starts from a freshly loaded tokenizer, so the word caches start empty. Checks first that decoded
// ids encode back to the same ids, then prints one line per tokenizer and workload.
// Usage: npm run bench:tokenizers [-- --reps N]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTokenizer } from '../src/data/tokenizers/index.ts';

const repsAt = process.argv.indexOf('--reps');
const reps = repsAt >= 0 ? Number(process.argv[repsAt + 1]) : 5;
const data = new URL('../../shared/data/', import.meta.url).pathname;
const readJson = (file: string): unknown => JSON.parse(readFileSync(join(data, file), 'utf8'));

const captions = ['train', 'val'].flatMap((split) =>
  (readJson(`coco-mini/annotations/captions_${split}2017.json`) as { annotations: { caption: string }[] }).annotations.map((a) => a.caption.trim()));
const phrases = (readJson('vg-sample/region_descriptions_v1.2_images1-5.json') as { regions: { phrase: string }[] }[])
  .flatMap((image) => image.regions.map((r) => r.phrase.trim()));
const workloads: Record<string, string[]> = {
  '10k captions': Array.from({ length: 10_000 }, (_, i) => captions[i % captions.length]!),
  [`${captions.length + phrases.length} distinct texts`]: [...captions, ...phrases],
};

const files: Record<string, string> = {
  'WordPiece (bert-base-uncased vocab.txt)': 'tokenizers/bert-base-uncased/vocab.txt',
  'SentencePiece BPE (LLaMA tokenizer.model)': 'tokenizers/llama-sp32000/tokenizer.model',
  'llama2.c (stories260K tok512.bin)': 'lm/stories260K/tok512.bin',
};

console.log(`median of ${reps} runs (after one warm-up run), one thread, each run from a freshly loaded tokenizer`);
for (const [name, file] of Object.entries(files)) {
  const path = join(data, file);
  const check = loadTokenizer(path);
  for (const t of [...captions, ...phrases]) {
    // WordPiece's decoded text differs from the input in case and spacing, so compare ids, not text
    const ids = check.encode(t);
    const again = check.encode(check.decode(ids));
    if (again.join() !== ids.join()) throw new Error(`${name}: ${JSON.stringify(t)} does not survive decode and encode: ${ids} vs ${again}`);
  }
  for (const [workload, texts] of Object.entries(workloads)) {
    const runs: { ms: number; tokens: number }[] = [];
    for (let r = 0; r <= reps; r++) {
      const tok = loadTokenizer(path);
      const t0 = performance.now();
      let tokens = 0;
      for (const t of texts) tokens += tok.encode(t, { bos: true, eos: true }).length;
      if (r > 0) runs.push({ ms: performance.now() - t0, tokens });
    }
    const { ms, tokens } = runs.sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)]!;
    const rate = (n: number): string => Math.round(n / (ms / 1000)).toLocaleString('en-US');
    console.log(`${name}, ${workload}: ${ms.toFixed(1)} ms, ${tokens} tokens, ${rate(tokens)} tokens/s, ${rate(texts.length)} texts/s`);
  }
}
