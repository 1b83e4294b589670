// The options of npm run bench:pixelllm (and of its worker processes, which take the same flags plus --worker/--phase).
import { UserError } from '../../src/errors.ts';
import { PRESETS } from '../../src/models/pixelllm/config.ts';
import type { Box } from '../../src/data/types.ts';

export class BenchArgsError extends UserError {
  override name = 'BenchArgsError';
}

export interface BenchOptions {
  models: string[];
  /** every measurement runs at each of these thread counts */
  threads: number[];
  /** timed repetitions of each inference task (median reported) */
  reps: number;
  /** timed training steps per batch kind */
  trainReps: number;
  /** images per call for the throughput rows */
  batch: number;
  /** rows of each training batch (the tiny model's training config uses 12) */
  trainBatch: number;
  /** run the PyTorch peer for pixelllm-tiny */
  peer: boolean;
  /** the image every task runs on, with the expression and region to ask about; null: a synthetic scene */
  image: string | null;
  expression: string;
  box: Box | null;
  out: string;
  /** worker mode: measure one model in this process */
  worker: string | null;
  phase: 'infer' | 'train';
  /** worker, train phase: write the batches as JSON for the peer here */
  peerBatch: string | null;
}

export const USAGE = `npm run bench:pixelllm -- [--models pixelllm-tiny,pixelllm-cpu] [--threads 1,2] [--reps 5] [--train-reps 3]
  [--batch 8] [--train-batch 12] [--no-peer] [--image FILE --expression TEXT --box x0,y0,x1,y1] [--out bench/results/pixelllm.json]`;

const positive = (flag: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new BenchArgsError(`${flag} ${JSON.stringify(v)}: expected a positive integer\n${USAGE}`);
  return n;
};

export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const o: BenchOptions = {
    models: ['pixelllm-tiny', 'pixelllm-cpu'], threads: [...new Set([1, Number(env.PIXELLLM_THREADS ?? 2)])], reps: 5, trainReps: 3,
    batch: 8, trainBatch: 12, peer: true, image: null, expression: 'the red circle', box: null, out: 'bench/results/pixelllm.json',
    worker: null, phase: 'infer', peerBatch: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--no-peer') {
      o.peer = false;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || !flag.startsWith('--')) throw new BenchArgsError(`${value === undefined ? `${flag} needs a value` : `unexpected argument ${JSON.stringify(flag)}`}\n${USAGE}`);
    switch (flag) {
      case '--models':
        o.models = value.split(',').filter(Boolean);
        for (const m of o.models) if (!(m in PRESETS)) throw new BenchArgsError(`--models: unknown model ${JSON.stringify(m)}; presets: ${Object.keys(PRESETS).join(', ')}`);
        if (o.models.length === 0) throw new BenchArgsError('--models: give at least one model');
        break;
      case '--threads':
        o.threads = [...new Set(value.split(',').map((v) => positive('--threads', v)))];
        break;
      case '--reps': o.reps = positive(flag, value); break;
      case '--train-reps': o.trainReps = positive(flag, value); break;
      case '--batch': o.batch = positive(flag, value); break;
      case '--train-batch': o.trainBatch = positive(flag, value); break;
      case '--image': o.image = value; break;
      case '--expression':
        if (value.trim() === '') throw new BenchArgsError('--expression is empty');
        o.expression = value;
        break;
      case '--box': {
        const b = value.split(',').map(Number);
        if (b.length !== 4 || !b.every(Number.isFinite) || !(b[2]! > b[0]! && b[3]! > b[1]!)) throw new BenchArgsError(`--box ${JSON.stringify(value)}: expected x0,y0,x1,y1 with x1 > x0 and y1 > y0`);
        o.box = b as Box;
        break;
      }
      case '--out': o.out = value; break;
      case '--worker': o.worker = value; break;
      case '--phase':
        if (value !== 'infer' && value !== 'train') throw new BenchArgsError(`--phase ${JSON.stringify(value)}: expected infer or train`);
        o.phase = value;
        break;
      case '--peer-batch': o.peerBatch = value; break;
      default:
        throw new BenchArgsError(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return o;
}

/** The flags that give a worker the same settings. */
export function workerArgs(o: BenchOptions, model: string, phase: 'infer' | 'train', threads: number, peerBatch: string | null): string[] {
  return [
    '--worker', model, '--phase', phase, '--threads', String(threads), '--reps', String(o.reps), '--train-reps', String(o.trainReps),
    '--batch', String(o.batch), '--train-batch', String(o.trainBatch), '--expression', o.expression,
    ...(o.image ? ['--image', o.image] : []), ...(o.box ? ['--box', o.box.join(',')] : []), ...(peerBatch ? ['--peer-batch', peerBatch] : []),
  ];
}
