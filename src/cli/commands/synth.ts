// `pixelllm synth --out DIR --n N --seed S`: the synthetic PixelLLM dataset in the real datasets' formats.
import { parseArgs } from 'node:util';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors.ts';
import { Progress } from '../../train/progress.ts';
import { synthesize } from '../../data/synth/run.ts';
import { writePreview } from '../../data/synth/preview.ts';
import type { Command } from '../main.ts';

const HELP = `usage: pixelllm synth --out DIR --n N [--seed S] [--size W[xH]] [--preview] [--force]

Draws N synthetic scenes (1–8 shapes: 12 shapes, 12 colours, 3 sizes, 4 textures, occlusion, look-alike distractors,
5 kinds of background) and writes them in the formats PixelLLM trains on, with train/val/test splits (80/10/10):
  DIR/images/100000000001.jpg ...                     12-digit ids: COCO's and VG's file name at once
  DIR/localized_narratives/{train,val,test}.jsonl      narrated captions, word timings, mouse traces
  DIR/refcoco/refs(synth).p, refcoco/instances.json    referring expressions, boxes, RLE masks
  DIR/visual_genome/region_descriptions.json, image_data.json, densecap_splits.json
  DIR/annotations/captions_{train,val,test}.json       five short captions per image
  DIR/manifest.json                                    generator version, seed, counts (written last)
The same seed gives the same files; image i does not depend on N.

  --out DIR      output folder (created; must be empty unless --force)
  --n N          number of images
  --seed S       random seed (default 0)
  --size W[xH]   fixed image size in pixels (default: each image 128–512 px, aspect 1:2 to 2:1)
  --preview      also write DIR/preview.png (16 scenes: masks, referring boxes, traces coloured by utterance)
                 and DIR/preview.html (the same with the narratives, expressions and captions)
  --force        write into a non-empty folder (files of the same name are replaced)`;

function integer(name: string, value: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) throw new UserError(`--${name} is required\n\n${HELP}`);
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UserError(`--${name} ${value}: expected an integer from ${min} to ${max}`);
  return Number(value);
}

function size(value: string | undefined): { width?: number; height?: number } {
  if (value === undefined) return {};
  const m = /^(\d+)(?:x(\d+))?$/.exec(value);
  const [w, h] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [NaN, NaN];
  if (!(w >= 64 && w <= 4096 && h >= 64 && h <= 4096)) throw new UserError(`--size ${value}: expected W or WxH with sides from 64 to 4096, e.g. --size 256`);
  return { width: w, height: h };
}

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: {
        out: { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' }, size: { type: 'string' },
        preview: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length > 0) throw new UserError(`unexpected argument '${positionals[0]}'\n\n${HELP}`);
    if (!values.out) throw new UserError(`--out is required\n\n${HELP}`);
    const out = values.out;
    const n = integer('n', values.n, 1);
    const seed = integer('seed', values.seed ?? '0', 0, 0xffffffff);
    if (existsSync(out) && !statSync(out).isDirectory()) throw new UserError(`--out ${out} is a file, not a folder`);
    if (existsSync(out) && readdirSync(out).length > 0 && !values.force) {
      throw new UserError(`${out} is not empty; choose another --out or pass --force to replace the files of a previous run`);
    }
    const progress = new Progress(n, 0, { label: 'synth' });
    const result = await synthesize({ out, n, seed, ...size(values.size), keep: values.preview ? 16 : 0, progress: (done) => progress.update(done) });
    progress.done();
    const c = result.counts;
    console.log(`wrote ${n} images to ${out} (train ${c.images.train}, val ${c.images.val}, test ${c.images.test}): ${c.objects} objects, `
      + `${c.refs} refs with ${c.sentences} expressions (${((100 * c.spatialSentences) / Math.max(1, c.sentences)).toFixed(1)}% need position or an ordinal), `
      + `${c.regions} regions, ${c.captions} captions, ${c.narratives} narratives`);
    console.log(`${(n / result.seconds).toFixed(1)} images/s (${result.seconds.toFixed(2)} s)`);
    if (values.preview) {
      const files = await writePreview(out, result.kept);
      console.log(`preview: ${files.map((f) => join(out, f)).join(', ')}`);
    }
    return 0;
  },
};
