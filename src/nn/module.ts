// Module: parameters are found by walking fields, and a parameter's key is its property path
// (`blocks.0.attn.qkv.weight`), so the reference checkpoints' key names load with no mapping table.
import { Tensor } from '../tensor/index.ts';
import { UserError } from '../errors.ts';

/** A state dict that does not fit a module: every missing, unexpected and wrong-shape key is named. */
export class StateDictError extends UserError {
  override name = 'StateDictError';
}

export type KeyPattern = string | RegExp;

/** A glob (`*` any run of characters within the key, `**` the same across dots is not needed: `*` matches dots too) or a RegExp. */
export function matchesKey(key: string, pattern: KeyPattern): boolean {
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0; // a /g or /y pattern would otherwise resume where its last match ended
    return pattern.test(key);
  }
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(key);
}

export interface LoadReport {
  missing: string[];
  unexpected: string[];
}

export class Module {
  training = true;
  // field names of this module that hold buffers (state that is not trained); the transient ones are not saved
  readonly #buffers = new Set<string>();
  readonly #transient = new Set<string>();

  /** Declares a tensor field as a buffer: saved and loaded but never trained; `persistent: false` keeps it out of state dicts. */
  protected registerBuffer(name: string, t: Tensor, { persistent = true } = {}): Tensor {
    (this as Record<string, unknown>)[name] = t;
    this.#buffers.add(name);
    if (!persistent) this.#transient.add(name);
    return t;
  }

  /** [key, child] for every direct sub-module, arrays of modules included (`layers.0`). */
  children(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [name, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([name, v]);
      else if (Array.isArray(v)) v.forEach((m, i) => m instanceof Module && out.push([`${name}.${i}`, m]));
    }
    return out;
  }

  /** Every module below and including this one, with its key prefix ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, m] of this.children()) out.push(...m.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  #ownTensors(kind: 'param' | 'buffer' | 'state'): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, v] of Object.entries(this)) {
      if (!(v instanceof Tensor)) continue;
      const isBuffer = this.#buffers.has(name);
      if (kind === 'param' ? !isBuffer : kind === 'buffer' ? isBuffer : !this.#transient.has(name)) out.push([name, v]);
    }
    return out;
  }

  #collect(kind: 'param' | 'buffer' | 'state'): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of m.#ownTensors(kind)) out.push([prefix ? `${prefix}.${name}` : name, t]);
    }
    return out;
  }

  namedParameters(): [string, Tensor][] {
    return this.#collect('param');
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Parameters that backward will give a gradient to. */
  trainableParameters(): [string, Tensor][] {
    return this.namedParameters().filter(([, t]) => t.requiresGrad);
  }

  namedBuffers(): [string, Tensor][] {
    return this.#collect('buffer');
  }

  /** Parameters and persistent buffers, under their keys. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.#collect('state'));
  }

  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /**
   * Copies tensors into this module's parameters and buffers in place (so optimisers keep their references).
   * strict: every key must match both ways; otherwise missing and unexpected keys are returned. A wrong shape always throws.
   * `only` restricts the module's side to the keys it accepts (e.g. the adapters of a LoRA checkpoint).
   */
  loadStateDict(state: Map<string, Tensor>, { strict = true, source = 'state dict', only = (_key: string): boolean => true } = {}): LoadReport {
    const own = new Map([...this.stateDict()].filter(([k]) => only(k)));
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = [...state.keys()].filter((k) => !own.has(k));
    const wrongShape: string[] = [];
    const wrongType: string[] = [];
    // every check before the first copy, so a refused checkpoint leaves the module as it was
    for (const [key, t] of own) {
      const src = state.get(key);
      if (!src) continue;
      if (src.shape.join() !== t.shape.join()) wrongShape.push(`${key}: expected [${t.shape}], got [${src.shape}]`);
      if ((src.dtype === 'bool') !== (t.dtype === 'bool') || (t.dtype === 'int32') !== (src.dtype === 'int32')) wrongType.push(`${key}: ${src.dtype} into ${t.dtype}`);
      if (!(t.isContiguous && t.offset === 0 && t.data.length === t.size)) wrongType.push(`${key}: the module's tensor is a view; load into its base tensor instead`);
    }
    if (wrongShape.length > 0 || wrongType.length > 0 || (strict && (missing.length > 0 || unexpected.length > 0))) {
      const list = (title: string, keys: string[]) => (keys.length ? [`${title} (${keys.length}): ${keys.slice(0, 20).join(', ')}${keys.length > 20 ? ', ...' : ''}`] : []);
      throw new StateDictError([`${source} does not fit ${this.constructor.name}:`, ...list('wrong shape', wrongShape), ...list('wrong type', wrongType),
        ...list('missing keys', missing), ...list('unexpected keys', unexpected)].join('\n  '));
    }
    for (const [key, t] of own) {
      const src = state.get(key);
      if (!src) continue;
      t.data.set(src.values());
    }
    return { missing, unexpected };
  }

  /** Sets train (dropout on) or eval mode on every sub-module. */
  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Marks parameters whose key matches any pattern as frozen (no gradient); returns the keys frozen. */
  freeze(patterns: KeyPattern[] = ['*']): string[] {
    return this.#setTrainable(patterns, false);
  }

  unfreeze(patterns: KeyPattern[] = ['*']): string[] {
    return this.#setTrainable(patterns, true);
  }

  #setTrainable(patterns: KeyPattern[], on: boolean): string[] {
    const hit: string[] = [];
    for (const [key, t] of this.namedParameters()) {
      if (patterns.some((p) => matchesKey(key, p))) {
        t.requireGrad(on);
        hit.push(key);
      }
    }
    return hit;
  }

  zeroGrad(): void {
    for (const t of this.parameters()) t.grad = null;
  }
}
