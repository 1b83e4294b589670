// What the inference commands share: the model folder (the bundled pixelllm-tiny unless --model says otherwise),
// one image argument that must be readable, the JSON printed, and the optional overlay.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.ts';
import type { TaskResult } from '../../infer/results.ts';
import type { PixelLLMPipeline } from '../../infer/pipeline.ts';

/** The model shipped with the package: models/pixelllm-tiny beside src/. */
export const BUNDLED_MODEL = resolve(dirname(fileURLToPath(import.meta.url)), '../../../models/pixelllm-tiny');

export const COMMON_OPTIONS = {
  model: { type: 'string' },
  out: { type: 'string' },
  threads: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const COMMON_HELP = `  --model DIR    a model folder (config.json, model.safetensors, tokenizer); default: the bundled pixelllm-tiny
  --out FILE     also draw the result over the image to FILE (.png, .jpg or .webp)
  --threads N    compute threads (default 2)`;

export async function loadPipeline(model: string | undefined, threads: string | undefined): Promise<PixelLLMPipeline> {
  const dir = model ?? BUNDLED_MODEL;
  if (!existsSync(join(dir, 'config.json'))) {
    throw new UserError(model ? `${dir}: not a model folder (no config.json)` : `the bundled model is missing at ${dir}; reinstall the package or pass --model DIR`);
  }
  const { setThreads } = await import('../../tensor/index.ts');
  const n = threads === undefined ? 2 : Number(threads);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--threads ${threads}: expected a positive integer`);
  setThreads(n);
  const { PixelLLMPipeline } = await import('../../infer/pipeline.ts');
  return PixelLLMPipeline.load(dir);
}

export function imageArg(positionals: string[], usage: string): string {
  const image = positionals[0];
  if (!image) throw new UserError(`an image file is required\n\n${usage}`);
  if (!existsSync(image)) throw new UserError(`${image}: no such image file`);
  return image;
}

export async function report(result: TaskResult, image: string, out: string | undefined): Promise<number> {
  console.log(JSON.stringify(result, null, 2));
  if (out) {
    const { drawOverlay } = await import('../../apps/overlay.ts');
    await drawOverlay(image, result, out);
    console.error(`overlay written to ${out}`);
  }
  return 0;
}

/** "x0,y0,x1,y1" or "x,y" → numbers, or a clear error naming the flag. */
export function numbers(flag: string, value: string, count: number): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length !== count || parts.some((v) => !Number.isFinite(v))) {
    throw new UserError(`--${flag} ${value}: expected ${count} comma-separated numbers (${count === 4 ? 'x0,y0,x1,y1' : 'x,y'}) in image pixels`);
  }
  return parts;
}
