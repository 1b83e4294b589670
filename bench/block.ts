// A transformer MLP block at the small shapes a CPU-trained model uses (N tokens × C, hidden H):
// y = LayerNorm(GELU(x·W1 + b1)·W2 + b2 + x), loss mean(y²), forward and backward — the whole per-op path
// (allocation, autograd, kernels), against PyTorch's CPU autograd in the same run. Writes bench/results/block.json.
// Usage: npm run bench:block [-- --reps N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { medianMs, runPeer } from './common.ts';
import { Generator, add, backendName, gelu, layerNorm, matmul, mean, mul, ones, setThreads, zeros } from '../src/tensor/index.ts';

const repsAt = process.argv.indexOf('--reps');
const reps = repsAt >= 0 ? Number(process.argv[repsAt + 1]) : 31;
const root = new URL('..', import.meta.url).pathname;
const shapes: [number, number, number][] = [[512, 192, 768], [2048, 384, 1536]];

function ourMedian(N: number, C: number, H: number): number {
  const g = new Generator(0);
  const x0 = g.normal([N, C]);
  const w1 = g.normal([C, H], 0, 1 / Math.sqrt(C)).requireGrad();
  const b1 = zeros([H]).requireGrad();
  const w2 = g.normal([H, C], 0, 1 / Math.sqrt(H)).requireGrad();
  const b2 = zeros([C]).requireGrad();
  const lw = ones([C]).requireGrad();
  const lb = zeros([C]).requireGrad();
  const step = (): void => {
    const x = x0.detach().requireGrad();
    const h = gelu(add(matmul(x, w1), b1)); // (N, H)
    const y = layerNorm(add(add(matmul(h, w2), b2), x), lw, lb); // (N, C)
    mean(mul(y, y)).backward();
    for (const p of [w1, b1, w2, b2, lw, lb]) p.grad = null;
  };
  return medianMs(step, reps, 5);
}

function peerMedian(threads: number, N: number, C: number, H: number): number | null {
  const out = runPeer(join(root, 'bench/peer_block.py'), [threads, reps, N, C, H]);
  return out === null ? null : Number(out.trim());
}

console.log(`backend ${backendName}; MLP block fwd+bwd, median of ${reps}; ratio = torch time / ours (≥ 1: we are faster)`);
const rows = [];
for (const [N, C, H] of shapes) {
  for (const threads of [1, 2]) {
    setThreads(threads);
    const ms = ourMedian(N, C, H);
    const torchMs = peerMedian(threads, N, C, H);
    rows.push({ shape: [N, C, H], threads, ms, torch_ms: torchMs, ratio: torchMs === null ? null : torchMs / ms });
    console.log(`N ${N} C ${C} H ${H}  threads ${threads}  ours ${ms.toFixed(2).padStart(7)} ms  torch ${torchMs === null ? '-' : torchMs.toFixed(2).padStart(7)} ms  ratio ${torchMs === null ? '-' : (torchMs / ms).toFixed(2)}`);
  }
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/block.json'), JSON.stringify({ backend: backendName, rows }, null, 2) + '\n');
