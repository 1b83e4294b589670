// LoRA (Hu et al. 2021) as peft does it: y = x·Wᵀ + b + scale · (x·Aᵀ)·Bᵀ with A (r, in) drawn like a Linear weight,
// B (out, r) zero, so a freshly wrapped model computes exactly what the base model does; scale = alpha / r.
// The wrapped layer keeps the base keys (`q.weight`), so base checkpoints load unchanged; the adapter adds
// `q.lora_A.weight` and `q.lora_B.weight`. peft's names (`base_model.model.` prefix, `.default` adapter name) are
// translated at load time. https://github.com/huggingface/peft/blob/main/src/peft/tuners/lora/layer.py
import { Tensor, Generator, dropout, gelu, linear, matmul, transpose, zeros, noGrad, type LinearActivation } from '../tensor/index.ts';
import { Module, matchesKey, StateDictError, type KeyPattern } from './module.ts';
import { Linear } from './layers.ts';
import { nextSeed, uniformInit } from './init.ts';

/** The keys of adapter factors, as this project names them. */
export const LORA_KEY = /\.lora_[AB]\.weight$/;

export interface LoraConfig {
  /** module keys to wrap: globs or RegExps over the Linear's key (`encoder.block.0.layer.0.SelfAttention.q`), or bare names (`q`) matching the last segment */
  targets: KeyPattern[];
  r: number;
  alpha: number;
  dropout?: number;
}

/** One LoRA factor, a bare weight under `lora_A.weight` / `lora_B.weight`. */
class LoraFactor extends Module {
  constructor(public weight: Tensor) {
    super();
  }
}

export class LoraLinear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  lora_A: LoraFactor;
  lora_B: LoraFactor;
  readonly scale: number;
  // each adapter its own dropout stream (the same seed everywhere would drop the same features in every layer)
  readonly #rng = new Generator(nextSeed());

  constructor(base: Linear, readonly r: number, readonly alpha: number, readonly dropoutP = 0) {
    super();
    if (!(Number.isInteger(r) && r > 0)) throw new StateDictError(`LoRA rank r = ${r} must be a positive integer`);
    this.weight = base.weight;
    this.bias = base.bias;
    this.lora_A = new LoraFactor(uniformInit([r, base.inFeatures], base.inFeatures)); // (r, in), peft's kaiming_uniform(a=√5)
    this.lora_B = new LoraFactor(zeros([base.outFeatures, r]).requireGrad()); // (out, r): zero, so step 0 equals the base
    this.scale = alpha / r;
  }

  get inFeatures(): number {
    return this.weight.shape[1];
  }

  get outFeatures(): number {
    return this.weight.shape[0];
  }

  /** Takes the same arguments as Linear.forward: an activation applies after the adapter's term is added. */
  forward(x: Tensor, activation: LinearActivation | null = null): Tensor {
    const y = linear(x, this.weight, this.bias); // (…, out), exactly the wrapped Linear's output
    const xd = this.dropoutP > 0 && this.training ? dropout(x, this.dropoutP, this.#rng, true) : x;
    const low = matmul(xd, transpose(this.lora_A.weight)); // (…, r)
    const out = y.add(matmul(low, transpose(this.lora_B.weight)).mul(this.scale)); // (…, out)
    return activation === null ? out : gelu(out, activation === 'gelu' ? 'none' : 'tanh');
  }

  /** A plain Linear whose weight is W + scale·B·A: the same outputs with no adapter cost. */
  merged(): Linear {
    const out = new Linear(this.inFeatures, this.outFeatures, { bias: this.bias !== null });
    noGrad(() => {
      const delta = matmul(this.lora_B.weight, this.lora_A.weight).mul(this.scale); // (out, in)
      out.weight.data.set(this.weight.add(delta).values());
      if (this.bias) out.bias!.data.set(this.bias.values());
    });
    out.weight.requireGrad(this.weight.requiresGrad);
    out.bias?.requireGrad(this.bias!.requiresGrad);
    return out;
  }
}

// Replaces the module at `key` (a field or an array element of its parent) with `make(old)`.
function replaceModule(root: Module, key: string, make: (old: Module) => Module): void {
  const path = key.split('.');
  let parent: unknown = root;
  for (const p of path.slice(0, -1)) parent = (parent as Record<string, unknown>)[p];
  const last = path.at(-1)!;
  const holder = parent as Record<string, Module>;
  holder[last] = make(holder[last]);
}

const targetMatches = (key: string, t: KeyPattern): boolean =>
  typeof t === 'string' && !t.includes('*') && !t.includes('.') ? key.split('.').at(-1) === t : matchesKey(key, t);

/**
 * Wraps every Linear whose key matches a target and, as peft does, freezes every other parameter.
 * Returns the wrapped keys; throws if no target matched (a typo would otherwise train nothing).
 */
export function applyLora(model: Module, config: LoraConfig, { freezeBase = true } = {}): string[] {
  const keys = model.namedModules().filter(([k, m]) => m instanceof Linear && config.targets.some((t) => targetMatches(k, t))).map(([k]) => k);
  if (keys.length === 0) throw new StateDictError(`LoRA targets ${config.targets.join(', ')} match no Linear layer of ${model.constructor.name}`);
  // peft freezes everything but adapters; adapters from an earlier applyLora keep training
  if (freezeBase) model.freeze([new RegExp(`^(?!.*${LORA_KEY.source})`)]);
  for (const key of keys) replaceModule(model, key, (old) => new LoraLinear(old as Linear, config.r, config.alpha, config.dropout ?? 0));
  return keys;
}

/** Folds every adapter into its base weight, as peft's merge_and_unload; returns the merged keys. */
export function mergeLora(model: Module): string[] {
  const keys = model.namedModules().filter(([, m]) => m instanceof LoraLinear).map(([k]) => k);
  for (const key of keys) replaceModule(model, key, (old) => (old as LoraLinear).merged());
  return keys;
}

/** The adapter tensors only (what a LoRA checkpoint holds), under this project's keys. */
export function loraStateDict(model: Module): Map<string, Tensor> {
  return new Map([...model.stateDict()].filter(([k]) => LORA_KEY.test(k)));
}

/** peft's adapter key → this project's: drops the `base_model.model.` prefix and the adapter name (`.default`). */
export function fromPeftKey(key: string): string {
  return key.replace(/^base_model\.model\./, '').replace(/\.(lora_[AB])\.[^.]+\.weight$/, '.$1.weight');
}

/**
 * Loads adapter weights, in this project's key names or peft's (adapter_model.safetensors or a peft state dict).
 * Every adapter of the model must be present, and every key must name one.
 */
export function loadLora(model: Module, state: Map<string, Tensor>, source = 'LoRA adapter'): void {
  const renamed = new Map([...state].map(([k, t]) => [fromPeftKey(k), t]));
  model.loadStateDict(renamed, { source, only: (k) => LORA_KEY.test(k) });
}
