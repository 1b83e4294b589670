// The addon's float32 element-wise, softmax and normalisation kernels against float64 references: every unary op
// over a wide range with edge values (±0, huge, ±inf, NaN, subnormals), every binary op, b layout and swap (exact:
// float32 arithmetic rounds once either way), and the row kernels against rows.ts run in float64. Sizes cover the
// vector tails (1, 7, 8, 9), offsets, and calls big enough for two threads; bad arguments must name themselves.
// Skipped when the addon is not built, unless PIXELLLM_BACKEND=native (then a missing addon is a failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Generator } from '../src/tensor/random.ts';
import { loadNative, loadError } from '../src/tensor/backend/native.ts';
import { BINARY, BMODE, UNARY, type UnaryOp } from '../src/tensor/backend/elementwise_native.ts';
import * as rows64 from '../src/tensor/backend/rows.ts';
import { erf } from '../src/tensor/math.ts';

const native = loadNative();

/** Deterministic uniform values in [0, 1), from the project's seeded generator. */
function rng(seed: number): () => number {
  const g = new Generator(seed);
  return () => g.next();
}

const EDGES = [0, -0, 1, -1, 1e-40, -1e-40, 1e30, -1e30, 3.4e38, -3.4e38, Infinity, -Infinity, NaN, 88.72, 88.73, -87.3, -103.9, -150];

/** n values: mostly uniform in [−lo, hi], some normal-sized, every 11th an edge value. */
function inputs(n: number, seed: number, lo = -20, hi = 20): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = i % 11 === 5 ? EDGES[(i / 11 | 0) % EDGES.length]! : i % 3 === 0 ? r() * 6 - 3 : lo + (hi - lo) * r();
  return a;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const cdf = (v: number) => 0.5 * (1 + erf(v * Math.SQRT1_2));
const pdf = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
const tanhU = (v: number) => Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
// float64 definitions, as the TypeScript ops compute them
const REF: Record<UnaryOp, (v: number) => number> = {
  exp: Math.exp, log: Math.log, sqrt: Math.sqrt, rsqrt: (v) => 1 / Math.sqrt(v), tanh: Math.tanh, erf,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)), neg: (v) => -v, abs: Math.abs,
  geluErf: (v) => v * cdf(v), geluErfGrad: (v) => cdf(v) + v * pdf(v),
  geluTanh: (v) => 0.5 * v * (1 + tanhU(v)),
  geluTanhGrad: (v) => 0.5 * (1 + tanhU(v)) + 0.5 * v * (1 - tanhU(v) ** 2) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v),
  relu: (v) => (v < 0 ? 0 : v), reluGrad: (v) => +(v >= 0),
};

/** Within 2e-6 relative or 1e-7 absolute (values near 0), NaN where the reference is NaN, infinities equal. */
function unaryClose(got: number, want: number): boolean {
  if (Number.isNaN(want) || !Number.isFinite(want)) return Object.is(got, want) || (Number.isNaN(want) && Number.isNaN(got));
  if (Math.abs(want) > 3.4028234663852886e38) return Math.abs(got) === Infinity && Math.sign(got) === Math.sign(want);
  const d = Math.abs(got - want);
  return d <= 2e-6 * Math.abs(want) || d <= 1e-7;
}

/** Asserts all of got[off..off+n) match and nothing else of `got` changed from `before`. */
function checkSpan(what: string, got: Float32Array, before: Float32Array, off: number, n: number,
                   ok: (i: number, v: number) => string | null): void {
  for (let i = 0; i < got.length; i++) {
    if (i >= off && i < off + n) {
      const msg = ok(i - off, got[i]!);
      if (msg !== null) assert.fail(`${what}: element ${i - off}: ${msg}`);
    } else if (!Object.is(got[i], before[i])) {
      assert.fail(`${what}: wrote element ${i} outside [${off}, ${off + n})`);
    }
  }
}

/** Every |got − want| within tol(want, index), for the row kernels; NaN must match NaN. */
function checkRows(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: (w: number, i: number) => number): void {
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) ? Number.isNaN(g) : Object.is(g, w) || Math.abs(g - w) <= tol(w, i)) continue;
    assert.fail(`${what}: element ${i} is ${g}, expected ${w} (±${tol(w, i).toExponential(2)})`);
  }
}

const SIZES = [1, 7, 8, 9, 1000, 100003];
const THREADS = [1, 2];

if (!native) {
  if (process.env.PIXELLLM_BACKEND === 'native') {
    test('native addon loads (PIXELLLM_BACKEND=native)', () => assert.fail(loadError ?? 'loadNative() returned null'));
  } else {
    test(`native element-wise kernels: skipped, ${loadError}`, { skip: 'native addon not built' }, () => {});
  }
} else {
  const nk = native;
  const forcedKernel = process.env.PIXELLLM_KERNEL;

  test('reports its instruction set', () => {
    assert.ok(['avx2', 'scalar'].includes(nk.elementwiseKernel()), nk.elementwiseKernel());
    if (forcedKernel === 'scalar') assert.equal(nk.elementwiseKernel(), 'scalar');
  });

  for (const threads of THREADS) {
    test(`unaryF32, every op, sizes ${SIZES.join('/')} with offsets (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      for (const [name, op] of Object.entries(UNARY) as [UnaryOp, number][]) {
        for (const n of SIZES) {
          const positive = name === 'log' || name === 'sqrt' || name === 'rsqrt';
          const x = inputs(n + 3, n * 31 + op, positive ? 0 : -20, 20);
          if (positive) for (let i = 0; i < x.length; i += 2) x[i] = Math.abs(x[i]!) * 10 ** (((i * 7) % 80) - 40);
          const before = new Float32Array(n + 5).fill(-7);
          const y = before.slice();
          nk.unaryF32(op, x, 3, y, 2, n);
          checkSpan(`${name} n=${n}`, y, before, 2, n, (i, v) => {
            const want = REF[name](x[3 + i]!);
            return unaryClose(v, want) ? null : `${name}(${x[3 + i]}) = ${v}, expected ${want}`;
          });
        }
      }
    });
  }

  test('unaryF32 works in place', () => {
    const x = inputs(1001, 5);
    const y = x.slice();
    nk.unaryF32(UNARY.geluErf, y, 0, y, 0, y.length);
    for (let i = 0; i < x.length; i++) assert.ok(unaryClose(y[i]!, REF.geluErf(x[i]!)), `in place, element ${i}`);
  });

  // narrow rows (cols < 8) take their own paths; 40001×3 splits over threads mid-row
  const SHAPES: [number, number][] = [
    [1, 1], [1, 9], [3, 7], [5, 8], [17, 9], [9, 1], [7, 5], [33, 6], [1000, 2], [300, 1001], [2, 100003], [100003, 1], [40001, 3],
  ];
  const b64 = (mode: number, bv: Float32Array, offB: number, r: number, c: number, cols: number) =>
    bv[offB + (mode === BMODE.same ? r * cols + c : mode === BMODE.row ? c : mode === BMODE.column ? r : 0)]!;
  const op64: Record<number, (p: number, q: number) => number> = {
    [BINARY.add]: (p, q) => p + q, [BINARY.sub]: (p, q) => p - q, [BINARY.mul]: (p, q) => p * q, [BINARY.div]: (p, q) => p / q,
  };
  for (const threads of THREADS) {
    test(`binaryF32, every op, b layout and swap (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      for (const [rows, cols] of SHAPES) {
        for (const [modeName, mode] of Object.entries(BMODE)) {
          const nb = mode === BMODE.same ? rows * cols : mode === BMODE.row ? cols : mode === BMODE.column ? rows : 1;
          const a = inputs(rows * cols + 1, rows + cols);
          const b = inputs(nb + 2, rows * cols + mode, -3, 3);
          for (const [opName, op] of Object.entries(BINARY)) {
            for (const swap of [false, true]) {
              const before = new Float32Array(rows * cols + 4).fill(-7);
              const y = before.slice();
              nk.binaryF32(op, a, 1, b, 2, y, 4, rows, cols, mode, swap);
              const what = `${opName} ${modeName}${swap ? ' swapped' : ''} ${rows}×${cols}`;
              checkSpan(what, y, before, 4, rows * cols, (i, v) => {
                const p = a[1 + i]!, q = b64(mode, b, 2, Math.floor(i / cols), i % cols, cols);
                const want = Math.fround(swap ? op64[op]!(q, p) : op64[op]!(p, q)); // float64 then rounded: exact
                return Object.is(v, want) ? null : `${swap ? `${q} ∘ ${p}` : `${p} ∘ ${q}`} = ${v}, expected ${want}`;
              });
            }
          }
        }
      }
    });
  }

  /** A rows×cols float32 input: normal-ish logits with some −inf (masked), one fully masked row, one NaN row. */
  function logits(rows: number, cols: number, seed: number, masks: boolean): Float32Array {
    const r = rng(seed);
    const x = new Float32Array(rows * cols);
    for (let i = 0; i < x.length; i++) x[i] = (r() - 0.5) * 30 + (i % cols === 0 ? 40 : 0);
    if (masks) {
      for (let i = 3; i < x.length; i += 5) x[i] = -Infinity;
      if (rows > 2) x.fill(-Infinity, cols, 2 * cols);
      if (rows > 3) x[3 * cols + (cols >> 1)] = NaN;
    }
    return x;
  }
  const ROW_SHAPES: [number, number][] = [[1, 1], [3, 3], [5, 17], [7, 768], [64, 768], [2000, 17], [3, 20001]];

  for (const threads of THREADS) {
    test(`softmax and log-softmax, forward and backward, against rows.ts (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      for (const [rows, cols] of ROW_SHAPES) {
        for (const log of [false, true]) {
          const x = logits(rows, cols, rows * 7 + cols, true);
          const y = new Float32Array(rows * cols);
          nk.softmaxForward(x, y, rows, cols, log);
          const y64 = new Float64Array(rows * cols);
          rows64.softmaxForward(Float64Array.from(x), y64, rows, cols, log);
          const what = `${log ? 'log_' : ''}softmax ${rows}×${cols}`;
          checkRows(`${what} forward`, y, y64, (w) => (log ? 2e-6 * Math.abs(w) + 2e-6 : 2e-6 * w + 1e-7));

          // backward from the float32 forward output, without the masked and NaN rows (their dx is NaN)
          const ys = logits(rows, cols, rows + cols, false);
          nk.softmaxForward(ys, ys, rows, cols, log);
          const g = logits(rows, cols, 3 * rows + cols, false).map((v) => v / 10);
          const dx = new Float32Array(rows * cols);
          nk.softmaxBackward(ys, g, dx, rows, cols, log);
          const dx64 = new Float64Array(rows * cols);
          rows64.softmaxBackward(Float64Array.from(ys), Float64Array.from(g), dx64, rows, cols, log);
          checkRows(`${what} backward`, dx, dx64, (w) => 2e-6 * Math.abs(w) + 1e-6);
        }
      }
    });

    test(`layer norm and RMS norm, forward and backward, against rows.ts (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      nk.setThreads(threads);
      for (const [rows, cols] of ROW_SHAPES) {
        const r = rng(rows * 13 + cols);
        const x = new Float32Array(rows * cols).map(() => (r() - 0.5) * 4 + 3); // a mean far from 0
        const w = new Float32Array(cols).map(() => r() + 0.5);
        const b = new Float32Array(cols).map(() => r() - 0.5);
        const g = new Float32Array(rows * cols).map(() => r() - 0.5);
        for (const rms of [false, true]) {
          for (const [wv, bv] of [[w, b], [null, null], [w, null]] as const) {
            const what = `${rms ? 'rms' : 'layer'} norm ${rows}×${cols}${wv ? '' : ' no w'}${bv ? '' : ' no b'}`;
            const y = new Float32Array(rows * cols), mean = new Float32Array(rows), rstd = new Float32Array(rows);
            nk.normForward(x, wv, bv, y, mean, rstd, rows, cols, 1e-5, rms);
            const y64 = new Float64Array(rows * cols), mean64 = new Float64Array(rows), rstd64 = new Float64Array(rows);
            const x64 = Float64Array.from(x);
            rows64.normForward(x64, wv && Float64Array.from(wv), bv && Float64Array.from(bv), y64, mean64, rstd64, rows, cols, 1e-5, rms);
            checkRows(`${what}: y`, y, y64, (v) => 1e-6 * Math.abs(v) + 1e-6);
            checkRows(`${what}: mean`, mean, mean64, (v) => 1e-7 * Math.abs(v));
            checkRows(`${what}: rstd`, rstd, rstd64, (v) => 2e-7 * Math.abs(v));

            // backward from the saved float32 mean and rstd (as the op does); dw/db accumulate onto what is there
            const dx = new Float32Array(rows * cols);
            const dw = new Float64Array(cols).fill(0.25), db = wv ? new Float64Array(cols).fill(-0.5) : null;
            nk.normBackward(x, wv, mean, rstd, g, dx, dw, db, rows, cols, rms);
            const dx64 = new Float64Array(rows * cols);
            const dw64 = new Float64Array(cols).fill(0.25), db64 = wv ? new Float64Array(cols).fill(-0.5) : null;
            rows64.normBackward(x64, wv && Float64Array.from(wv), Float64Array.from(mean), Float64Array.from(rstd),
              Float64Array.from(g), dx64, dw64, db64, rows, cols, rms);
            // dx = rstd·(d − mean(d) − x̂·mean(d ⊙ x̂)) may cancel to far below its terms: bound by their size
            let terms = 0;
            for (let i = 0; i < x.length; i++) {
              const row = Math.floor(i / cols), xh = (x[i]! - mean[row]!) * rstd[row]!;
              terms = Math.max(terms, rstd[row]! * Math.abs(g[i]! * (wv ? wv[i % cols]! : 1)) * (1 + xh * xh));
            }
            checkRows(`${what}: dx`, dx, dx64, (v) => 1e-6 * Math.abs(v) + 2e-7 * terms);
            // dw, db: float32 terms summed in float32 over blocks of rows: bound by the sum of |terms|
            const dwAbs = new Float64Array(cols), dbAbs = new Float64Array(cols);
            for (let i = 0; i < x.length; i++) {
              const row = Math.floor(i / cols), xh = (x[i]! - mean[row]!) * rstd[row]!;
              dwAbs[i % cols] += Math.abs(g[i]! * xh);
              dbAbs[i % cols] += Math.abs(g[i]!);
            }
            checkRows(`${what}: dw`, dw, dw64, (_, j) => 1e-6 * dwAbs[j]! + 1e-12);
            if (db) checkRows(`${what}: db`, db, db64!, (_, j) => 1e-6 * dbAbs[j]! + 1e-12);
          }
        }
      }
    });
  }

  test('bad arguments throw errors that name the argument, and write nothing', () => {
    nk.setThreads(2);
    const x = new Float32Array(12).fill(1), y = new Float32Array(12).fill(7);
    const unchanged = () => assert.ok(y.every((v) => v === 7), 'y was modified by a rejected call');
    const bad = (f: (...a: unknown[]) => void, ok: unknown[], patch: Record<number, unknown>, pattern: RegExp) => {
      const args = ok.slice();
      for (const [i, v] of Object.entries(patch)) args[Number(i)] = v;
      assert.throws(() => f(...args), pattern);
      unchanged();
    };
    const unary = nk.unaryF32 as (...a: unknown[]) => void;
    const okU = [UNARY.exp, x, 2, y, 0, 10];
    bad(unary, okU, { 0: Object.keys(UNARY).length }, /'op'/);
    bad(unary, okU, { 0: -1 }, /'op'/);
    bad(unary, okU, { 1: new Float64Array(12) }, /'x' must be a Float32Array/);
    bad(unary, okU, { 2: 3 }, /\bx\b.*too short.*offX/);
    bad(unary, okU, { 2: 13 }, /'offX'.*past the end/);
    bad(unary, okU, { 4: 3 }, /\by\b.*too short.*offY/);
    bad(unary, okU, { 5: 1.5 }, /'n'/);
    bad(unary, okU, { 3: null }, /'y' must be a Float32Array/);
    assert.throws(() => unary(0, x, 0), /expected 6 arguments/);

    const binary = nk.binaryF32 as (...a: unknown[]) => void;
    const b = new Float32Array(4);
    const okB = [BINARY.add, x, 0, b, 0, y, 0, 3, 4, BMODE.row, false];
    bad(binary, okB, { 0: 4 }, /'op'/);
    bad(binary, okB, { 9: 4 }, /'bMode'/);
    bad(binary, okB, { 4: 1 }, /\bb\b.*too short.*offB/);
    bad(binary, okB, { 9: BMODE.same }, /\bb\b.*too short/);
    bad(binary, okB, { 9: BMODE.column, 7: 5 }, /too short/);
    bad(binary, okB, { 7: 2 ** 40, 8: 2 ** 40 }, /rows × cols/);
    bad(binary, okB, { 10: 0 }, /'swap'/);
    bad(binary, okB, { 2: 1 }, /\ba\b.*too short.*offA/);

    const smf = nk.softmaxForward as (...a: unknown[]) => void;
    bad(smf, [x, y, 3, 4, false], { 2: 4 }, /\bx\b.*too short/);
    bad(smf, [x, y, 3, 4, false], { 3: -1 }, /'cols'/);
    bad(smf, [x, y, 3, 4, false], { 4: 'yes' }, /'log'/);
    const smb = nk.softmaxBackward as (...a: unknown[]) => void;
    bad(smb, [x, new Float32Array(11), y, 3, 4, false], {}, /\bg\b.*too short/);

    const mean = new Float32Array(3), rstd = new Float32Array(3), w = new Float32Array(4);
    const nf = nk.normForward as (...a: unknown[]) => void;
    const okN = [x, w, null, y, mean, rstd, 3, 4, 1e-5, false];
    bad(nf, okN, { 1: new Float32Array(3) }, /\bw\b.*too short/);
    bad(nf, okN, { 1: new Float32Array(0) }, /\bw\b.*too short/); // empty is not null
    bad(nf, okN, { 1: new Float64Array(4) }, /'w' must be a Float32Array or null/);
    bad(nf, okN, { 2: [0, 0, 0, 0] }, /'b' must be a Float32Array or null/);
    bad(nf, okN, { 5: new Float32Array(2) }, /\brstd\b.*too short/);
    bad(nf, okN, { 8: 'eps' }, /'eps'/);
    const nb = nk.normBackward as (...a: unknown[]) => void;
    const okNB = [x, w, mean, rstd, x, y, new Float64Array(4), null, 3, 4, false];
    bad(nb, okNB, { 6: new Float32Array(4) }, /'dw' must be a Float64Array or null/);
    bad(nb, okNB, { 7: new Float64Array(3) }, /\bdb\b.*too short/);
    bad(nb, okNB, { 2: null }, /'mean' must be a Float32Array/);
    bad(nb, okNB, { 8: 4 }, /too short/);
  });

  // The scalar kernels cannot be switched in-process (chosen once), so re-run this file in a child process with
  // PIXELLLM_KERNEL=scalar. Skipped inside that child.
  if (!forcedKernel && nk.elementwiseKernel() !== 'scalar') {
    test('the scalar kernels pass the same tests (child process)', () => {
      const file = fileURLToPath(import.meta.url);
      // NODE_TEST_CONTEXT would make the child report to us in the runner's private protocol.
      const { NODE_TEST_CONTEXT: _, ...env } = process.env;
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
        env: { ...env, PIXELLLM_KERNEL: 'scalar' },
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, `PIXELLLM_KERNEL=scalar run failed:\n${run.stdout}\n${run.stderr}`);
      const passed = Number(/^# pass (\d+)$/m.exec(run.stdout)?.[1] ?? 0);
      assert.ok(passed >= 9, `PIXELLLM_KERNEL=scalar: only ${passed} tests ran:\n${run.stdout}`);
    });
  }
}
