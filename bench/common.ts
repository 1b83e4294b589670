// Shared by the benchmarks. The environment PyTorch/numpy peers run in: ours minus OpenBLAS tuning overrides (OPENBLAS_CORETYPE,
// OPENBLAS_L2_SIZE), so OpenBLAS picks its own kernels for this CPU; what was removed is printed once.
import { spawnSync } from 'node:child_process';

let reported = false;

export function peerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  const removed = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'].filter((k) => k in env).map((k) => `${k}=${env[k]}`);
  for (const k of ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE']) delete env[k];
  if (!reported) console.log(removed.length ? `peer environment: unset ${removed.join(', ')}` : 'peer environment: no OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE to unset');
  reported = true;
  return env;
}

/** Median wall time in ms of `reps` calls of f, after `warmup` untimed calls. */
export function medianMs(f: () => void, reps: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

/** The stdout of a peer script under Debian's python (which has python3-torch), or null with a warning. */
export function runPeer(script: string, args: (string | number)[]): string | null {
  const run = spawnSync('/usr/bin/python3', [script, ...args.map(String)], { encoding: 'utf8', env: peerEnv() });
  if (run.status !== 0) {
    console.warn(`peer (PyTorch) unavailable: ${run.stderr.trim().split('\n').at(-1)}; install Debian's python3-torch`);
    return null;
  }
  return run.stdout;
}

/** medianMs for async work: the median wall time in ms of `reps` awaited calls, after `warmup` untimed ones. */
export async function medianMsAsync(f: () => Promise<unknown>, reps: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}
