// float32 matrix products of the native addon against a peer measured in the same run: PyTorch's torch.mm for
// the GEMM shapes and numpy's mat-vec (`A @ x`) for the one-row shapes, both on the system BLAS, via
// bench/peer_gemm.py under Debian's /usr/bin/python3. Each shape is validated first, then ours and the peer's
// timings are taken in alternating rounds (the machine is noisy) and the medians compared.
// Writes bench/results/gemm.json. Usage: npm run bench:gemm [-- --rounds N]
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadNative, loadError, type NativeKernels } from '../src/tensor/backend/native.ts';
import { peerEnv } from './common.ts';

const PYTHON = '/usr/bin/python3'; // Debian's python with python3-torch/python3-numpy (not a pyenv python on PATH)
const root = new URL('..', import.meta.url).pathname;
const argRounds = process.argv.indexOf('--rounds');
const ROUNDS = argRounds > 0 ? Number(process.argv[argRounds + 1]) : 9;
const ROUND_SECONDS = 0.06; // time each side spends per round
// OpenBLAS threads busy-wait for a while after a call; let them park before timing ours.
const PEER_SETTLE_MS = 150;

const SHAPES: [number, number, number][] = [[1024, 1024, 1024], [256, 768, 3072], [1, 2048, 2048], [1, 4096, 16384]];
const THREADS = [1, 2];

// ---------------------------------------------------------------------------------------------------------
// The peer process

class Peer {
  private lines: AsyncIterableIterator<string>;
  constructor(private proc: ChildProcessByStdio<Writable, Readable, null>) {
    this.lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  }
  async request<T>(req: object): Promise<T> {
    this.proc.stdin.write(JSON.stringify(req) + '\n');
    const next = await this.lines.next();
    if (next.done) throw new Error('peer exited');
    return JSON.parse(next.value) as T;
  }
  close(): void {
    this.proc.stdin.end();
  }
}

interface PeerInfo { torch: string; numpy: string; blas: string | null; openblas: boolean; openblas_core: string | null }

function aptInstall(packages: string[]): boolean {
  if (process.getuid?.() !== 0) return false;
  console.log(`installing ${packages.join(' ')} with apt-get ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, stdio: 'inherit' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { env, stdio: 'inherit' });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, stdio: 'inherit' });
  }
  return r.status === 0;
}

async function startPeer(env: NodeJS.ProcessEnv, retry = true): Promise<{ peer: Peer; info: PeerInfo } | null> {
  const proc = spawn(PYTHON, [join(root, 'bench/peer_gemm.py')], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const failed = new Promise<null>((resolve) => proc.on('error', () => resolve(null)));
  const peer = new Peer(proc);
  const info = await Promise.race([peer.request<PeerInfo & { error?: string }>({ cmd: 'info' }).catch(() => null), failed]);
  if (info && !info.error) {
    // Debian's python3-numpy/python3-torch pull in the reference BLAS, which is ~30× slower than OpenBLAS: not
    // a meaningful peer. The OpenBLAS package takes over libblas.so.3 through update-alternatives.
    if (!info.openblas && retry && aptInstall(['libopenblas0-pthread'])) {
      peer.close();
      return startPeer(env, false);
    }
    return { peer, info };
  }
  peer.close();
  if (retry && aptInstall(['python3-torch', 'python3-numpy', 'libopenblas0-pthread'])) return startPeer(env, false);
  console.warn(`peer unavailable: ${PYTHON} cannot import torch and numpy. Install Debian's packages as root:\n` +
    '  apt-get install python3-torch python3-numpy libopenblas0-pthread');
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Our side

function randomArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return a;
}

interface Problem {
  run(): void;
  /** Throws if sampled entries differ from a float64 reference. */
  validate(): void;
}

/** op(A)·op(B) with A M×K and B K×N row-major, as torch.mm(a, b). */
function gemmProblem(nk: NativeKernels, M: number, K: number, N: number): Problem {
  const A = randomArray(M * K, 1), B = randomArray(K * N, 2), C = new Float32Array(M * N);
  return {
    run: () => nk.sgemm(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, C, 0, N),
    validate() {
      C.fill(NaN);
      this.run();
      for (let s = 0; s < 256; s++) {
        const i = (s * 7919) % M, j = (s * 104729) % N;
        let ref = 0, mag = 0;
        for (let k = 0; k < K; k++) {
          ref += A[i * K + k]! * B[k * N + j]!;
          mag += Math.abs(A[i * K + k]! * B[k * N + j]!);
        }
        if (!(Math.abs(C[i * N + j]! - ref) <= 1e-5 * mag + 1e-6)) throw new Error(`C[${i},${j}] = ${C[i * N + j]}, expected ${ref}`);
      }
    },
  };
}

/** One row: y = x·W^T with W stored N×K (the layout of numpy's `A @ x`), or y = x·W with W stored K×N. */
function gemvProblem(nk: NativeKernels, K: number, N: number, weightsNxK: boolean): Problem {
  const W = randomArray(N * K, 3), x = randomArray(K, 4), y = new Float32Array(N);
  const w = weightsNxK ? (n: number, k: number) => W[n * K + k]! : (n: number, k: number) => W[k * N + n]!;
  return {
    run: () => nk.sgemm(false, weightsNxK, 1, N, K, 1, x, 0, K, W, 0, weightsNxK ? K : N, 0, y, 0, N),
    validate() {
      y.fill(NaN);
      this.run();
      for (let n = 0; n < N; n += 7) {
        let ref = 0, mag = 0;
        for (let k = 0; k < K; k++) {
          ref += x[k]! * w(n, k);
          mag += Math.abs(x[k]! * w(n, k));
        }
        if (!(Math.abs(y[n]! - ref) <= 1e-5 * mag + 1e-6)) throw new Error(`y[${n}] = ${y[n]}, expected ${ref}`);
      }
    },
  };
}

function timeOurs(p: Problem, reps: number): number[] {
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    p.run();
    ts.push((performance.now() - t0) / 1e3);
  }
  return ts;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

// ---------------------------------------------------------------------------------------------------------

interface Row { shape: [number, number, number]; threads: number; gflops: number; peer: 'torch' | 'numpy'; peer_gflops: number; ratio: number }

async function main(): Promise<void> {
  const nk = loadNative();
  if (!nk) {
    console.error(`native addon unavailable: ${loadError}`);
    process.exit(1);
  }
  const started = await startPeer(peerEnv());
  if (!started) process.exit(1);
  const { peer, info } = started;
  console.log(`ours: kernel ${nk.kernel()}; peer: torch ${info.torch}, numpy ${info.numpy}, BLAS ${info.blas}` +
    (info.openblas_core ? ` (OpenBLAS core ${info.openblas_core})` : ''));
  if (!info.openblas) console.warn('WARNING: the peer is not using OpenBLAS; its numbers are not representative');
  console.log(`${ROUNDS} alternating rounds of ~${ROUND_SECONDS * 1e3} ms per side; medians of all timed calls\n`);

  const rows: Row[] = [];
  const extra: string[] = [];
  const header = 'shape (M×K×N)      threads   ours GFLOP/s   peer            peer GFLOP/s   ratio';
  console.log(header);
  console.log('-'.repeat(header.length));
  for (const [M, K, N] of SHAPES) {
    const oneRow = M === 1;
    const kind = oneRow ? 'mv' : 'mm';
    const problem = oneRow ? gemvProblem(nk, K, N, true) : gemmProblem(nk, M, K, N);
    const other = oneRow ? gemvProblem(nk, K, N, false) : null; // the other weight layout, for information
    const flops = 2 * M * K * N;
    for (const threads of THREADS) {
      nk.setThreads(threads);
      problem.validate();
      other?.validate();
      // Warm up both sides and size the rounds from the warm-up timings.
      const ourEst = median(timeOurs(problem, 3));
      const peerWarm = await peer.request<{ times: number[] }>({ cmd: 'run', kind, shape: [M, K, N], threads, reps: 3, warmup: 1 });
      const peerEst = median(peerWarm.times);
      const ourReps = Math.max(3, Math.min(400, Math.round(ROUND_SECONDS / ourEst)));
      const peerReps = Math.max(3, Math.min(400, Math.round(ROUND_SECONDS / peerEst)));
      const ours: number[] = [], theirs: number[] = [], otherTimes: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate who goes first so slow drifts (thermal, neighbours) hit both alike.
        const peerFirst = round % 2 === 1;
        if (peerFirst) {
          theirs.push(...(await peer.request<{ times: number[] }>({ cmd: 'run', kind, shape: [M, K, N], threads, reps: peerReps, warmup: 1 })).times);
          await sleep(PEER_SETTLE_MS);
        }
        timeOurs(problem, 1);
        ours.push(...timeOurs(problem, ourReps));
        if (!peerFirst) {
          theirs.push(...(await peer.request<{ times: number[] }>({ cmd: 'run', kind, shape: [M, K, N], threads, reps: peerReps, warmup: 1 })).times);
          await sleep(PEER_SETTLE_MS);
        }
      }
      if (other) {
        // Measured after the comparison so its weights do not crowd the L3 cache during it.
        timeOurs(other, 3);
        for (let round = 0; round < ROUNDS; round++) otherTimes.push(...timeOurs(other, ourReps));
      }
      const gflops = flops / median(ours) / 1e9;
      const peerGflops = flops / median(theirs) / 1e9;
      const row: Row = { shape: [M, K, N], threads, gflops, peer: oneRow ? 'numpy' : 'torch', peer_gflops: peerGflops, ratio: gflops / peerGflops };
      rows.push(row);
      const peerName = oneRow ? 'numpy A@x' : 'torch.mm';
      console.log(`${`${M}×${K}×${N}`.padEnd(18)} ${String(threads).padStart(7)} ${gflops.toFixed(1).padStart(14)}   ${peerName.padEnd(15)} ${peerGflops.toFixed(1).padStart(12)} ${row.ratio.toFixed(2).padStart(7)}`);
      if (other) extra.push(`${M}×${K}×${N}, ${threads} thread(s): ${(flops / median(otherTimes) / 1e9).toFixed(1)} GFLOP/s`);
    }
  }
  peer.close();
  console.log('\nours with the weights stored K×N (row-streaming path; the table uses N×K, as numpy\'s A@x):');
  for (const line of extra) console.log(`  ${line}`);

  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/gemm.json'), JSON.stringify(rows, null, 2) + '\n');
  console.log('\nwrote bench/results/gemm.json');
}

await main();
