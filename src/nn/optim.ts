// AdamW with decoupled weight decay, exactly torch.optim.AdamW's update (bias-corrected, eps outside the sqrt),
// per-parameter weight-decay exemptions and learning-rate multipliers (for layer-wise decay), and global-norm
// gradient clipping as torch.nn.utils.clip_grad_norm_.
import { Tensor } from '../tensor/index.ts';
import { adamwF32, binaryF32, sumSquaresF32 } from '../tensor/backend/index.ts';
import { UserError } from '../errors.ts';
import { matchesKey, type KeyPattern } from './module.ts';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** parameters whose key matches get no weight decay (biases, norms, embeddings as is usual) */
  noDecay?: KeyPattern[];
  /** a learning-rate multiplier per parameter key, e.g. layer-wise decay 0.8^(depth − layer) */
  lrScale?: (key: string) => number;
}

interface Slot {
  key: string;
  param: Tensor;
  /** updates this parameter has had: torch counts per parameter, skipping steps where it had no gradient */
  step: number;
  m: Float32Array;
  v: Float32Array;
  decay: number;
  lrScale: number;
}

export class AdamW {
  lr: number;
  step = 0;
  readonly #slots: Slot[];
  readonly #b1: number;
  readonly #b2: number;
  readonly #eps: number;

  constructor(params: [string, Tensor][], opts: AdamWOptions) {
    this.lr = opts.lr;
    [this.#b1, this.#b2] = opts.betas ?? [0.9, 0.999];
    this.#eps = opts.eps ?? 1e-8;
    const wd = opts.weightDecay ?? 0.01;
    this.#slots = params.map(([key, param]) => {
      if (param.dtype !== 'float32' || !param.isContiguous || param.offset !== 0) {
        throw new UserError(`AdamW: parameter ${key} must be a contiguous float32 tensor (got ${param.dtype})`);
      }
      return {
        key, param, step: 0, m: new Float32Array(param.size), v: new Float32Array(param.size),
        decay: (opts.noDecay ?? []).some((p) => matchesKey(key, p)) ? 0 : wd, lrScale: opts.lrScale?.(key) ?? 1,
      };
    });
  }

  /** One update from the parameters' .grad (a parameter without a gradient is left alone, as torch does). */
  update(): void {
    this.step++;
    const [b1, b2, eps] = [this.#b1, this.#b2, this.#eps];
    for (const s of this.#slots) {
      const g = s.param.grad?.values();
      if (!g) continue;
      s.step++;
      const bc1 = 1 - b1 ** s.step;
      const bc2Sqrt = Math.sqrt(1 - b2 ** s.step);
      const lr = this.lr * s.lrScale;
      const p = s.param.data as Float32Array;
      const keep = 1 - lr * s.decay; // decoupled decay: p ← p − lr·wd·p before the Adam step
      const stepSize = lr / bc1;
      const { m, v } = s; // locals: the loop runs over millions of values
      if (adamwF32 !== null && g instanceof Float32Array) {
        adamwF32(p, g, m, v, b1, b2, eps, keep, stepSize, bc2Sqrt); // the same arithmetic in C++
        continue;
      }
      for (let i = 0; i < p.length; i++) {
        const gi = g[i]!;
        m[i] = b1 * m[i]! + (1 - b1) * gi;
        v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
        p[i] = p[i]! * keep - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
      }
    }
  }

  zeroGrad(): void {
    for (const s of this.#slots) s.param.grad = null;
  }

  /** Moments under `exp_avg.<key>` / `exp_avg_sq.<key>`, each parameter's step under `step.<key>`, and the global step. */
  stateDict(): { step: number; tensors: Map<string, Tensor> } {
    const tensors = new Map<string, Tensor>();
    for (const s of this.#slots) {
      tensors.set(`exp_avg.${s.key}`, new Tensor(s.m, s.param.shape));
      tensors.set(`exp_avg_sq.${s.key}`, new Tensor(s.v, s.param.shape));
      tensors.set(`step.${s.key}`, new Tensor(Int32Array.of(s.step), [1]));
    }
    return { step: this.step, tensors };
  }

  loadStateDict(state: { step: number; tensors: Map<string, Tensor> }, source = 'optimizer state'): void {
    for (const s of this.#slots) {
      for (const [name, buf] of [['exp_avg', s.m], ['exp_avg_sq', s.v]] as const) {
        const t = state.tensors.get(`${name}.${s.key}`);
        if (!t || t.size !== buf.length) throw new UserError(`${source}: ${name}.${s.key} is ${t ? `of size ${t.size}, expected ${buf.length}` : 'missing'}`);
        buf.set(t.values());
      }
      // a state without per-parameter steps (every parameter updated every step) takes the global one
      s.step = state.tensors.get(`step.${s.key}`)?.item() ?? state.step;
    }
    this.step = state.step;
  }
}

/**
 * Scales all gradients so their global L2 norm is at most maxNorm; returns the norm before clipping (torch's
 * clip_grad_norm_). Gradients are scaled in place (they are the optimiser's own, see runBackward), by the factor
 * rounded to their type as a product with a tensor of it would.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  let sq = 0;
  for (const p of params) {
    const g = p.grad?.values();
    if (g) sq += sumOfSquares(g);
  }
  const norm = Math.sqrt(sq);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const p of params) {
      const g = p.grad;
      if (!g) continue;
      if (!g.isContiguous) {
        p.grad = g.mul(coef);
        continue;
      }
      const d = g.data;
      const c = d instanceof Float32Array ? Math.fround(coef) : coef;
      if (d instanceof Float32Array && binaryF32('mul', d, g.offset, Float32Array.of(c), 0, d, 1, g.size, 'scalar', false, g.offset)) continue;
      for (let i = g.offset; i < g.offset + g.size; i++) d[i] = d[i]! * c;
    }
  }
  return norm;
}

/**
 * Σ x² in double, as eight interleaved partial sums (lane i mod 8) added in lane order, then the trailing values:
 * the order of the addon's sumSquaresF32, so both backends clip by the same norm.
 */
function sumOfSquares(x: Float32Array | Float64Array | Int32Array | Uint8Array): number {
  if (sumSquaresF32 !== null && x instanceof Float32Array) return sumSquaresF32(x, 0, x.length);
  const lanes = new Float64Array(8);
  const body = x.length - (x.length % 8);
  for (let i = 0; i < body; i += 8) for (let j = 0; j < 8; j++) lanes[j] += x[i + j]! * x[i + j]!;
  let sum = 0;
  for (let j = 0; j < 8; j++) sum += lanes[j]!;
  for (let i = body; i < x.length; i++) sum += x[i]! * x[i]!;
  return sum;
}
