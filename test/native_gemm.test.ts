// Correctness of the C++ addon's sgemm / sgemmStridedBatched against a float64 triple loop: all transpose
// cases, sizes that are not multiples of the micro-tile, offsets and padded leading dimensions, alpha/beta,
// beta = 0 over NaN, the one-row/one-column paths, 1 and 2 threads, and argument errors.
// Skipped when the addon is not built, unless PIXELLLM_BACKEND=native (then a missing addon is a failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Generator } from '../src/tensor/random.ts';
import { loadNative, loadError, type NativeKernels } from '../src/tensor/backend/native.ts';

const native = loadNative();

/** Deterministic uniform values in [-1, 1), from the project's seeded generator. */
function rng(seed: number): () => number {
  const g = new Generator(seed);
  return () => g.next() * 2 - 1;
}

function randomArray(n: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand();
  return a;
}

interface Case {
  transA: boolean; transB: boolean; M: number; N: number; K: number; alpha: number; beta: number;
  offA: number; lda: number; offB: number; ldb: number; offC: number; ldc: number;
  /** Fill C with NaN before the call (only meaningful with beta = 0). */
  nanC?: boolean;
}

/** Stored shapes: op(A) is M×K, op(B) is K×N, all row-major. */
function storedA(c: Case): [number, number] { return c.transA ? [c.K, c.M] : [c.M, c.K]; }
function storedB(c: Case): [number, number] { return c.transB ? [c.N, c.K] : [c.K, c.N]; }
function extent(off: number, rows: number, cols: number, ld: number): number {
  return rows === 0 || cols === 0 ? off : off + (rows - 1) * ld + cols;
}

/**
 * Checks C (every element of the M×N block within its error bound, everything else untouched) against a
 * float64 reference. The bound scales with K and the magnitudes summed, as float32 accumulation error does.
 */
function checkC(what: string, c: Case, A: Float32Array, B: Float32Array, C0: Float32Array, C: Float32Array,
                offA = c.offA, offB = c.offB, offC = c.offC): void {
  const a = (i: number, k: number) => (c.transA ? A[offA + k * c.lda + i] : A[offA + i * c.lda + k]);
  const b = (k: number, j: number) => (c.transB ? B[offB + j * c.ldb + k] : B[offB + k * c.ldb + j]);
  const inBlock = new Uint8Array(C.length);
  for (let i = 0; i < c.M; i++) {
    for (let j = 0; j < c.N; j++) {
      const idx = offC + i * c.ldc + j;
      inBlock[idx] = 1;
      let sum = 0;
      let mag = 0;
      for (let k = 0; k < c.K; k++) {
        const p = a(i, k) * b(k, j);
        sum += p;
        mag += Math.abs(p);
      }
      const old = c.beta === 0 ? 0 : C0[idx];
      const want = c.alpha * sum + c.beta * old;
      const tol = 1.2e-7 * ((c.K + 4) * Math.abs(c.alpha) * mag + 2 * Math.abs(c.beta * old)) + 1e-30;
      const got = C[idx];
      if (!(Math.abs(got - want) <= tol)) {
        assert.fail(`${what}: C[${i},${j}] = ${got}, expected ${want} (±${tol.toExponential(2)})`);
      }
    }
  }
  for (let idx = 0; idx < C.length; idx++) {
    if (!inBlock[idx] && !Object.is(C[idx], C0[idx])) assert.fail(`${what}: wrote C[${idx}] outside the M×N block`);
  }
}

function describe(c: Case): string {
  return `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'} M=${c.M} N=${c.N} K=${c.K} alpha=${c.alpha} beta=${c.beta}` +
    ` off=${c.offA}/${c.offB}/${c.offC} ld=${c.lda}/${c.ldb}/${c.ldc}${c.nanC ? ' C=NaN' : ''}`;
}

function runCase(nk: NativeKernels, c: Case, seed: number): void {
  const rand = rng(seed);
  const [ar, ac] = storedA(c);
  const [br, bc] = storedB(c);
  // Arrays a little longer than needed, so a write or read past the end would be caught by the checks.
  const A = randomArray(extent(c.offA, ar, ac, c.lda) + 3, rand);
  const B = randomArray(extent(c.offB, br, bc, c.ldb) + 3, rand);
  const C0 = randomArray(extent(c.offC, c.M, c.N, c.ldc) + 3, rand);
  if (c.nanC) {
    for (let i = 0; i < c.M; i++) for (let j = 0; j < c.N; j++) C0[c.offC + i * c.ldc + j] = NaN;
  }
  const C = C0.slice();
  nk.sgemm(c.transA, c.transB, c.M, c.N, c.K, c.alpha, A, c.offA, c.lda, B, c.offB, c.ldb, c.beta, C, c.offC, c.ldc);
  checkC(describe(c), c, A, B, C0, C);
}

/** A case with tight leading dimensions or padded ones (`pad` extra columns) and offsets. */
function makeCase(transA: boolean, transB: boolean, M: number, N: number, K: number, pad: number, alpha = 1,
                  beta = 0, nanC = false): Case {
  const [, ac] = transA ? [K, M] : [M, K];
  const [, bc] = transB ? [N, K] : [K, N];
  return {
    transA, transB, M, N, K, alpha, beta, nanC,
    offA: pad ? 5 : 0, lda: Math.max(1, ac + pad), offB: pad ? 3 : 0, ldb: Math.max(1, bc + pad),
    offC: pad ? 7 : 0, ldc: Math.max(1, N + pad),
  };
}

const SIZES = [1, 3, 7, 17, 33, 65, 129];
const TRANSPOSES: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
const THREADS = [1, 2];

if (!native) {
  if (process.env.PIXELLLM_BACKEND === 'native') {
    test('native addon loads (PIXELLLM_BACKEND=native)', () => assert.fail(loadError ?? 'loadNative() returned null'));
  } else {
    test(`native gemm: skipped, ${loadError}`, { skip: 'native addon not built' }, () => {});
  }
} else {
  const nk = native;
  const forcedKernel = process.env.PIXELLLM_KERNEL;

  test('reports a kernel and a thread count', () => {
    assert.ok(['avx512', 'avx2', 'scalar'].includes(nk.kernel()), nk.kernel());
    if (forcedKernel === 'scalar') assert.equal(nk.kernel(), 'scalar');
    nk.setThreads(1);
    assert.equal(nk.getThreads(), 1);
    nk.setThreads(2);
    assert.equal(nk.getThreads(), Math.min(2, availableParallelism()));
    nk.setThreads(100000); // never more threads than CPUs
    assert.ok(nk.getThreads() <= availableParallelism());
    nk.setThreads(2);
  });

  for (const threads of THREADS) {
    test(`sgemm, all transposes, odd sizes (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      let seed = 1;
      for (const [ta, tb] of TRANSPOSES) {
        for (const [mi, M] of SIZES.entries()) {
          for (const [ni, N] of SIZES.entries()) {
            const K = SIZES[(mi + 2 * ni) % SIZES.length];
            runCase(nk, makeCase(ta, tb, M, N, K, (mi + ni) % 2 ? 3 : 0), seed++);
          }
        }
      }
    });

    test(`sgemm, alpha/beta, beta = 0 over NaN, padded layouts (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      let seed = 1000;
      for (const [ta, tb] of TRANSPOSES) {
        for (const [M, N, K] of [[17, 33, 65], [65, 7, 129], [1, 65, 33], [33, 1, 17], [129, 129, 129]]) {
          runCase(nk, makeCase(ta, tb, M, N, K, 5, 1.5, -0.75), seed++);
          runCase(nk, makeCase(ta, tb, M, N, K, 2, -2, 0, true), seed++);
          runCase(nk, makeCase(ta, tb, M, N, K, 0, 0.5, 1), seed++);
        }
      }
    });

    test(`sgemm, shapes crossing the cache blocks (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      let seed = 2000;
      for (const [ta, tb] of TRANSPOSES) {
        // K > kc (two k blocks accumulate), M > mc, N > nc (4096) with few rows to keep the reference cheap.
        runCase(nk, makeCase(ta, tb, 250, 40, 600, 1, 1, 0.5), seed++);
        runCase(nk, makeCase(ta, tb, 5, 4100, 20, 0, 1, 0, true), seed++);
        runCase(nk, makeCase(ta, tb, 300, 70, 257, 4, -1, 0), seed++);
      }
    });

    test(`one-row and one-column products (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      let seed = 3000;
      for (const [ta, tb] of TRANSPOSES) {
        // Large enough to be split across threads; padded, strided vectors (lda/ldb/ldc > 1 on the vector side).
        runCase(nk, makeCase(ta, tb, 1, 1000, 300, 0), seed++);
        runCase(nk, makeCase(ta, tb, 1, 1001, 301, 3, 2, 0.5), seed++);
        runCase(nk, makeCase(ta, tb, 999, 1, 257, 0, 1, 0, true), seed++);
        runCase(nk, makeCase(ta, tb, 1003, 1, 258, 4, -1, 2), seed++);
        runCase(nk, makeCase(ta, tb, 1, 1, 77, 2, 1, 1), seed++);
        runCase(nk, makeCase(ta, tb, 1, 37, 1, 0, 1, 0), seed++);
      }
    });

    test(`degenerate sizes: K = 0, alpha = 0, M or N = 0 (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      runCase(nk, makeCase(false, false, 5, 6, 0, 1, 1, 0, true), 1); // K = 0, beta = 0: zeros, NaN cleared
      runCase(nk, makeCase(true, false, 5, 6, 0, 0, 1, 0.5), 2);      // K = 0: C = beta·C
      runCase(nk, makeCase(false, true, 5, 6, 7, 0, 0, 2), 3);        // alpha = 0: A·B not needed
      runCase(nk, makeCase(false, false, 0, 6, 7, 0, 1, 0), 4);
      runCase(nk, makeCase(false, false, 5, 0, 7, 0, 1, 0), 5);
    });

    test(`sgemmStridedBatched (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      let seed = 4000;
      for (const [ta, tb] of TRANSPOSES) {
        for (const [M, N, K, batch] of [[7, 9, 11, 5], [33, 17, 65, 4], [1, 40, 33, 6], [40, 1, 33, 3], [129, 65, 129, 3], [200, 200, 200, 2]]) {
          for (const layout of ['separate', 'broadcastA', 'broadcastB', 'interleavedC'] as const) {
            const c = makeCase(ta, tb, M, N, K, layout === 'separate' ? 2 : 0, 1.25, (seed % 3) - 1, seed % 2 === 0);
            const [ar, ac] = storedA(c);
            const [br, bc] = storedB(c);
            const spanA = extent(0, ar, ac, c.lda), spanB = extent(0, br, bc, c.ldb);
            const strideA = layout === 'broadcastA' ? 0 : spanA + 3;
            const strideB = layout === 'broadcastB' ? 0 : spanB + 1;
            let strideC: number;
            if (layout === 'interleavedC') {
              // Heads side by side within each row of C: row i of item h at offC + i·ldc + h·N.
              c.ldc = N * batch + 2;
              strideC = N;
            } else {
              strideC = extent(0, M, N, c.ldc) + 5;
            }
            const rand = rng(seed++);
            const A = randomArray(c.offA + strideA * (batch - 1) + spanA + 2, rand);
            const B = randomArray(c.offB + strideB * (batch - 1) + spanB + 2, rand);
            const C0 = randomArray(c.offC + strideC * (batch - 1) + extent(0, M, N, c.ldc) + 2, rand);
            if (c.nanC && c.beta === 0) C0.fill(NaN, c.offC, c.offC + strideC * (batch - 1) + extent(0, M, N, c.ldc));
            const C = C0.slice();
            nk.sgemmStridedBatched(c.transA, c.transB, M, N, K, c.alpha, A, c.offA, c.lda, strideA, B, c.offB, c.ldb,
              strideB, c.beta, C, c.offC, c.ldc, strideC, batch);
            // Check item by item: each check sees the other items' blocks as "outside", so compare those
            // against the final result instead of the original.
            for (let h = 0; h < batch; h++) {
              const before = C.slice();
              for (let i = 0; i < M; i++) {
                for (let j = 0; j < N; j++) {
                  const idx = c.offC + h * strideC + i * c.ldc + j;
                  before[idx] = C0[idx];
                }
              }
              checkC(`batched ${layout} item ${h}: ${describe(c)}`, c, A, B, before, C,
                c.offA + h * strideA, c.offB + h * strideB, c.offC + h * strideC);
            }
            // And nothing outside the union of the blocks changed.
            const touched = new Uint8Array(C.length);
            for (let h = 0; h < batch; h++) {
              for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) touched[c.offC + h * strideC + i * c.ldc + j] = 1;
            }
            for (let idx = 0; idx < C.length; idx++) {
              if (!touched[idx] && !Object.is(C[idx], C0[idx])) assert.fail(`batched ${layout}: wrote C[${idx}] outside every block`);
            }
          }
        }
      }
    });
  }

  test('changing the thread count between calls (pool restarts) keeps results right', () => {
    // A product right after setThreads must not wait for, or lose, a worker that is still starting.
    for (let i = 0; i < 40; i++) {
      nk.setThreads(1 + (i % 2));
      runCase(nk, makeCase(i % 3 === 0, i % 2 === 0, 96, 100, 120, i % 2), 5000 + i);
      runCase(nk, makeCase(false, true, 1, 700, 200, 0), 6000 + i);
    }
    nk.setThreads(2);
  });

  test('concurrent calls from worker threads (shared pool) give exact results', async () => {
    // Integer-valued inputs make every product exact, so any race shows up as a mismatch. Three threads
    // contend for the pool; the losers run their products serially.
    const addon = fileURLToPath(new URL('../build/Release/pixelllm_native.node', import.meta.url));
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const nk = require(workerData.addon);
      const M = 150, N = 170, K = 130;
      const A = new Float32Array(M * K).map((_, i) => (i % 7) - 3), B = new Float32Array(K * N).map((_, i) => (i % 5) - 2);
      let bad = 0;
      for (let r = 0; r < 100; r++) {
        const C = new Float32Array(M * N);
        nk.sgemm(false, false, M, N, K, 1, A, 0, K, B, 0, N, 0, C, 0, N);
        for (let s = 0; s < 20; s++) {
          const i = (s * 37 + r) % M, j = (s * 53 + r) % N;
          let ref = 0;
          for (let k = 0; k < K; k++) ref += A[i * K + k] * B[k * N + j];
          if (ref !== C[i * N + j]) bad++;
        }
      }
      parentPort.postMessage(bad);`;
    const { Worker } = await import('node:worker_threads');
    const mismatches = await Promise.all([0, 1, 2].map(() => new Promise<number>((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { addon } });
      w.on('message', resolve);
      w.on('error', reject);
    })));
    assert.deepEqual(mismatches, [0, 0, 0]);
  });

  test('bad arguments throw errors that name the argument, and write nothing', () => {
    nk.setThreads(2);
    const A = new Float32Array(12), B = new Float32Array(12), C = new Float32Array(9).fill(7);
    type Args = Parameters<NativeKernels['sgemm']>;
    // A valid call: 3×4 · 4×3 → 3×3.
    const ok: Args = [false, false, 3, 3, 4, 1, A, 0, 4, B, 0, 3, 0, C, 0, 3];
    nk.sgemm(...ok);
    C.fill(7);
    const bad = (patch: Record<number, unknown>, pattern: RegExp) => {
      const args = ok.slice() as unknown[];
      for (const [i, v] of Object.entries(patch)) args[Number(i)] = v;
      assert.throws(() => (nk.sgemm as (...a: unknown[]) => void)(...args), pattern);
      assert.ok(C.every((v) => v === 7), 'C was modified by a rejected call');
    };
    bad({ 0: 1 }, /transA/);
    bad({ 2: -1 }, /'M'/);
    bad({ 3: 2.5 }, /'N'/);
    bad({ 4: '4' }, /'K'/);
    bad({ 5: 'x' }, /alpha/);
    bad({ 6: new Float64Array(12) }, /'A' must be a Float32Array/);
    bad({ 9: [1, 2, 3] }, /'B' must be a Float32Array/);
    bad({ 13: null }, /'C' must be a Float32Array/);
    bad({ 8: 3 }, /'lda'/);             // lda < K
    bad({ 8: 0 }, /'lda'/);
    bad({ 7: 1 }, /\bA\b.*too short.*offA/); // offset pushes A past its end
    bad({ 11: 4 }, /\bB\b.*too short.*ldb/); // a longer ldb needs more elements than B has
    bad({ 15: 2 }, /'ldc'/);
    bad({ 14: 10 }, /offC/);
    bad({ 1: true, 10: 1, 11: 4 }, /\bB\b.*too short.*offB/); // transB: B is stored 3×4; offset 1 overruns it
    assert.throws(() => (nk.sgemm as (...a: unknown[]) => void)(false, false, 3), /expected 16 arguments/);

    const okB = [false, false, 2, 2, 2, 1, A, 0, 2, 4, B, 0, 2, 4, 0, C, 0, 2, 4, 2] as const;
    nk.sgemmStridedBatched(...okB);
    C.fill(7);
    const badB = (patch: Record<number, unknown>, pattern: RegExp) => {
      const args = okB.slice() as unknown[];
      for (const [i, v] of Object.entries(patch)) args[Number(i)] = v;
      assert.throws(() => (nk.sgemmStridedBatched as (...a: unknown[]) => void)(...args), pattern);
      assert.ok(C.every((v) => v === 7), 'C was modified by a rejected call');
    };
    badB({ 9: 11 }, /\bA\b.*too short.*strideA/);
    badB({ 13: -1 }, /strideB/);
    badB({ 18: 8 }, /\bC\b.*too short.*strideC/);
    badB({ 19: 5 }, /too short/);
    badB({ 19: 1.5 }, /batch/);
    assert.throws(() => nk.setThreads(0), /'n'/);
    assert.throws(() => (nk.setThreads as (n: unknown) => void)('2'), /'n'/);
  });

  // The other instruction sets cannot be switched in-process (the choice is made once), so re-run this file
  // in child processes with PIXELLLM_KERNEL forcing them. Skipped inside those children.
  if (!forcedKernel) {
    for (const kernel of ['avx2', 'scalar'].filter((k) => k !== nk.kernel())) {
      test(`the ${kernel} kernels pass the same tests (child process)`, () => {
        const file = fileURLToPath(import.meta.url);
        // NODE_TEST_CONTEXT would make the child report to us in the runner's private protocol.
        const { NODE_TEST_CONTEXT: _, ...env } = process.env;
        const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
          env: { ...env, PIXELLLM_KERNEL: kernel },
          encoding: 'utf8',
        });
        assert.equal(run.status, 0, `PIXELLLM_KERNEL=${kernel} run failed:\n${run.stdout}\n${run.stderr}`);
        const passed = Number(/^# pass (\d+)$/m.exec(run.stdout)?.[1] ?? 0);
        assert.ok(passed > 10, `PIXELLLM_KERNEL=${kernel}: only ${passed} tests ran:\n${run.stdout}`);
      });
    }
  }
}
