// `pixelllm train CONFIG`: the training config file (JSON), its defaults, typed `--key=value` overrides, and the data
// sources it names. Paths in the file are relative to the file; `data_root` is prefixed to every source path.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Task } from '../data/types.ts';
import { PRESETS, type PixelLLMConfig } from '../models/pixelllm/config.ts';
import { checkAugment, type AugmentOptions } from '../data/image/augment.ts';
import { ConfigError, applyOverrides } from './overrides.ts';
import { REFERENCE_WEIGHTS, type LossWeights } from './step.ts';

export interface TrainSource {
  name: string;
  /** a dataset file, relative to data_root (refs(*).p, region_descriptions.json, LN jsonl, captions json) */
  path: string;
  task: Task;
  weight: number;
  /** a segment of the examples' source (`train`) or a whole source (`ln/synth_train`) */
  split: string;
  /** the image folder, relative to data_root (default `images`) */
  images?: string;
  /** train-time scale jitter and flip (default: the reference's for the task, REFERENCE_AUGMENT) */
  augment?: AugmentOptions;
}

export interface TrainConfig {
  /** a preset name in the file; the preset's full config after loading, so --model.* overrides reach every field */
  model: PixelLLMConfig;
  /** a model folder whose weights start the run, or "" for random initialisation */
  init: string;
  tokenizer: string;
  data_root: string;
  sources: TrainSource[];
  /** evaluation sources (task per source, as sources); each scored on its first eval_examples examples */
  eval_sources: TrainSource[];
  batch_size: number;
  /** batches whose gradients add up to one update */
  accumulate: number;
  steps: number;
  lr: number;
  min_lr_ratio: number;
  warmup_steps: number;
  weight_decay: number;
  /** learning-rate multiplier per layer of the trainable EVA02 encoder from the top (0.8 in the paper; 1 = none) */
  layer_decay: number;
  grad_clip: number;
  loss: LossWeights;
  /** parameter key globs that stay fixed (the paper: SAM's encoder and prompt encoder) */
  freeze: string[];
  seed: number;
  workers: number;
  eval_every: number;
  eval_examples: number;
  checkpoint_every: number;
  log_every: number;
  /** run folder: checkpoints/, history.json, curves.png, model/ (the final model folder) */
  out: string;
  /** store the final model's floats as float16 */
  half: boolean;
  threads: number;
  /** stop (with a checkpoint) after this many updates, to continue later by running the command again; 0 = never */
  stop_after: number;
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'model' | 'sources' | 'tokenizer' | 'data_root' | 'out'> = {
  init: '', eval_sources: [], batch_size: 16, accumulate: 1, steps: 1000, lr: 1e-4, min_lr_ratio: 0, warmup_steps: 100,
  weight_decay: 0.05, layer_decay: 0.8, grad_clip: 1, loss: REFERENCE_WEIGHTS, freeze: [], seed: 0, workers: 1,
  eval_every: 0, eval_examples: 100, checkpoint_every: 100, log_every: 10, half: false, threads: 2, stop_after: 0,
};

/** Reads the config file, fills defaults, resolves the model preset and relative paths, then applies the overrides. */
export function loadTrainConfig(path: string, overrides: string[]): TrainConfig {
  if (!existsSync(path)) throw new ConfigError(`${path}: no such config file`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const preset = raw.model;
  if (typeof preset !== 'string' || !(preset in PRESETS)) throw new ConfigError(`${path}: "model" must be one of ${Object.keys(PRESETS).join(', ')}; got ${JSON.stringify(preset)}`);
  const known = new Set([...Object.keys(TRAIN_DEFAULTS), 'model', 'sources', 'tokenizer', 'data_root', 'out']);
  for (const k of Object.keys(raw)) if (!known.has(k)) throw new ConfigError(`${path}: unknown key "${k}" (known: ${[...known].join(', ')})`);
  const base = { ...TRAIN_DEFAULTS, ...raw, model: structuredClone(PRESETS[preset]!), loss: { ...REFERENCE_WEIGHTS, ...(raw.loss as object) } } as TrainConfig;
  for (const k of ['sources', 'tokenizer', 'data_root', 'out'] as const) if (base[k] === undefined) throw new ConfigError(`${path}: "${k}" is required`);
  const cfg = applyOverrides(base, overrides);
  const here = dirname(resolve(path));
  const abs = (p: string) => (p === '' || isAbsolute(p) ? p : join(here, p));
  cfg.tokenizer = abs(cfg.tokenizer);
  cfg.data_root = abs(cfg.data_root);
  cfg.init = abs(cfg.init);
  cfg.out = abs(cfg.out);
  for (const s of [...cfg.sources, ...cfg.eval_sources]) checkSource(s, path);
  if (cfg.sources.length === 0) throw new ConfigError(`${path}: "sources" is empty; name at least one training dataset`);
  for (const k of ['batch_size', 'accumulate', 'steps', 'threads'] as const) if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new ConfigError(`${k} ${cfg[k]} must be a positive integer`);
  if (!(cfg.lr > 0)) throw new ConfigError(`lr ${cfg.lr} must be positive`);
  return cfg;
}

function checkSource(s: TrainSource, file: string): void {
  const tasks: Task[] = ['trace', 'caption', 'refer', 'regioncap'];
  if (!s || typeof s.name !== 'string' || typeof s.path !== 'string') throw new ConfigError(`${file}: each source needs "name", "path", "task", "weight", "split"; got ${JSON.stringify(s)}`);
  if (!tasks.includes(s.task)) throw new ConfigError(`${file}: source ${s.name}: task "${s.task}" is not one of ${tasks.join(', ')}`);
  if (!(s.weight > 0)) throw new ConfigError(`${file}: source ${s.name}: weight ${s.weight} must be positive`);
  if (s.augment !== undefined) {
    const a = s.augment as Partial<AugmentOptions>;
    if (!Array.isArray(a.scale) || a.scale.length !== 2 || typeof a.flip !== 'number' || typeof a.swapLeftRight !== 'boolean') {
      throw new ConfigError(`${file}: source ${s.name}: "augment" needs "scale": [min, max], "flip": probability, "swapLeftRight": true|false; got ${JSON.stringify(s.augment)}`);
    }
    checkAugment(s.augment, `${file}: source ${s.name}`);
  }
}
