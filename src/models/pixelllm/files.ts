// A PixelLLM model folder: config.json (PixelLLMConfig), model.safetensors (every tensor under the reference
// prefixes; float16 storage is allowed) and the tokenizer file the config names. Written atomically: the folder is
// built beside its final place and renamed in whole.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../../nn/safetensors.ts';
import { loadTokenizer, type Tokenizer } from '../../data/tokenizers/index.ts';
import { UserError } from '../../errors.ts';
import { PixelLLM } from './pixelllm.ts';
import { PRESETS, type PixelLLMConfig } from './config.ts';

export class ModelFolderError extends UserError {
  override name = 'ModelFolderError';
}

/** Writes `model` with its config and tokenizer to dir (replacing it whole); `half` stores floats as float16. */
export function saveModelFolder(dir: string, model: PixelLLM, tokenizerPath: string, { half = false } = {}): void {
  const tmp = join(dirname(dir), `.tmp-${basename(dir)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const config = { ...model.config, tokenizer: basename(tokenizerPath) };
  writeFileSync(join(tmp, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  writeSafetensors(join(tmp, 'model.safetensors'), model.stateDict(), { format: 'pt', pixelllm_config: JSON.stringify(config) }, { floatType: half ? 'F16' : 'F32' });
  copyFileSync(tokenizerPath, join(tmp, basename(tokenizerPath)));
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export interface LoadedModel {
  model: PixelLLM;
  tokenizer: Tokenizer;
  dir: string;
}

/** Reads a model folder (or a preset name with random weights, for tests and benchmarks). */
export function loadModelFolder(dir: string): LoadedModel {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new ModelFolderError(`${dir}: no config.json; a model folder holds config.json, model.safetensors and its tokenizer file (presets: ${Object.keys(PRESETS).join(', ')})`);
  let config: PixelLLMConfig;
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8')) as PixelLLMConfig;
  } catch (e) {
    throw new ModelFolderError(`${configPath}: not valid JSON (${(e as Error).message})`);
  }
  const model = new PixelLLM(config);
  const weights = join(dir, 'model.safetensors');
  if (!existsSync(weights)) throw new ModelFolderError(`${dir}: no model.safetensors`);
  const state = readSafetensors(weights);
  // LoRA-wrapped models may be saved merged or with their adapters; load as saved
  model.loadStateDict(new Map([...state].map(([k, t]) => [k, t.to('float32')])));
  model.eval();
  return { model, tokenizer: loadTokenizer(join(dir, config.tokenizer)), dir };
}

