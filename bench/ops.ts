// Element-wise, softmax and layer-norm costs at a transformer's activation size (4096 tokens × 768), forward and
// backward, against PyTorch's CPU ops measured in the same run. Writes bench/results/ops.json.
// Usage: npm run bench:ops [-- --reps N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { medianMs, runPeer } from './common.ts';
import { backendName, exp, gelu, layerNorm, mul, noGrad, randn, setThreads, softmax, type Tensor } from '../src/tensor/index.ts';

const repsAt = process.argv.indexOf('--reps');
const reps = repsAt >= 0 ? Number(process.argv[repsAt + 1]) : 7;
const root = new URL('..', import.meta.url).pathname;
const x0 = randn([4096, 768], 0);
const w = randn([768], 1);
const b = randn([768], 2);

const fwdBwd = (f: (x: Tensor) => Tensor) => () => {
  const x = x0.detach().requireGrad();
  f(x).sum().backward();
};
const cases: Record<string, () => void> = {
  'add (bias)': () => noGrad(() => x0.add(b)),
  exp: () => noGrad(() => exp(x0)),
  'gelu erf fwd+bwd': fwdBwd((x) => gelu(x)),
  'softmax fwd+bwd': fwdBwd((x) => mul(softmax(x, -1), w)),
  'layer_norm fwd+bwd': fwdBwd((x) => layerNorm(x, w, b, 1e-6)),
};

function peer(threads: number): Record<string, number> | null {
  const out = runPeer(join(root, 'bench/peer_ops.py'), [threads, reps]);
  return out === null ? null : JSON.parse(out);
}

const rows: { op: string; threads: number; ms: number; torch_ms: number | null; ratio: number | null }[] = [];
console.log(`backend ${backendName}, (4096, 768) float32, median of ${reps}; ratio = torch time / our time (≥ 1: we are faster)`);
// Warm up every case first: until the allocator has seen 12 MB buffers come and go it maps each one fresh, and a
// first phase would pay page faults that a running training loop does not.
for (let i = 0; i < 3; i++) for (const f of Object.values(cases)) f();
for (const threads of [1, 2]) {
  setThreads(threads);
  const ours = Object.fromEntries(Object.entries(cases).map(([k, f]) => [k, medianMs(f, reps)]));
  const theirs = peer(threads);
  for (const [op, ms] of Object.entries(ours)) {
    const t = theirs?.[op] ?? null;
    rows.push({ op, threads, ms, torch_ms: t, ratio: t === null ? null : t / ms });
    console.log(`${op.padEnd(22)} threads ${threads}  ours ${ms.toFixed(2).padStart(8)} ms  torch ${t === null ? '-' : t.toFixed(2).padStart(8)} ms  ratio ${t === null ? '-' : (t / ms).toFixed(2)}`);
  }
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/ops.json'), JSON.stringify({ backend: backendName, rows }, null, 2) + '\n');
