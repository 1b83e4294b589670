// Training checkpoints that survive a crash at any moment: each one is written into a temporary folder and renamed
// into place whole, then `latest.json` is replaced by rename, so the checkpoint a run resumes from is always complete.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../tensor/index.ts';
import { readSafetensors, readSafetensorsHeader, writeSafetensors } from '../nn/safetensors.ts';
import { UserError } from '../errors.ts';

export interface Checkpoint {
  step: number;
  /** model tensors (all of them, or the trainable ones when the frozen rest comes from public checkpoints) */
  model: Map<string, Tensor>;
  optimizer: { step: number; tensors: Map<string, Tensor> };
  /** everything else a resume needs, as JSON: the config, data-sampler and generator states, the metric history */
  state: Record<string, unknown>;
}

export class CheckpointError extends UserError {
  override name = 'CheckpointError';
}

const stepDir = (step: number) => `step-${String(step).padStart(8, '0')}`;

/** Writes the checkpoint of `step` under dir/step-NNNNNNNN and points latest.json at it; keeps the newest `keep`. */
export function saveCheckpoint(dir: string, ckpt: Checkpoint, { keep = 2 } = {}): string {
  mkdirSync(dir, { recursive: true });
  const final = join(dir, stepDir(ckpt.step));
  const tmp = join(dir, `.tmp-${stepDir(ckpt.step)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeSafetensors(join(tmp, 'model.safetensors'), ckpt.model);
  writeSafetensors(join(tmp, 'optimizer.safetensors'), ckpt.optimizer.tensors, { step: String(ckpt.optimizer.step) });
  writeFileSync(join(tmp, 'state.json'), JSON.stringify({ step: ckpt.step, ...ckpt.state }));
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeFileSync(join(dir, 'latest.json.tmp'), JSON.stringify({ step: ckpt.step, dir: stepDir(ckpt.step) }));
  renameSync(join(dir, 'latest.json.tmp'), join(dir, 'latest.json'));
  const all = readdirSync(dir).filter((f) => /^step-\d{8}$/.test(f)).sort();
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(join(dir, old), { recursive: true, force: true });
  return final;
}

/** The checkpoint latest.json points at, or null when dir holds none. */
export function loadLatestCheckpoint(dir: string): Checkpoint | null {
  const pointer = join(dir, 'latest.json');
  if (!existsSync(pointer)) return null;
  let sub: string;
  try {
    sub = JSON.parse(readFileSync(pointer, 'utf8')).dir;
  } catch (e) {
    throw new CheckpointError(`${pointer} is not valid JSON (${(e as Error).message}); delete it to start over or point it at a step-* folder`);
  }
  return loadCheckpoint(join(dir, sub));
}

export function loadCheckpoint(path: string): Checkpoint {
  for (const f of ['model.safetensors', 'optimizer.safetensors', 'state.json']) {
    if (!existsSync(join(path, f))) throw new CheckpointError(`${path} has no ${f}: not a checkpoint folder`);
  }
  const { step, ...state } = JSON.parse(readFileSync(join(path, 'state.json'), 'utf8')) as { step: number } & Record<string, unknown>;
  const optFile = join(path, 'optimizer.safetensors');
  const optimizer = { step: Number(readSafetensorsHeader(optFile).metadata.step ?? step), tensors: readSafetensors(optFile) };
  return { step, model: readSafetensors(join(path, 'model.safetensors')), optimizer, state };
}
