// Seeded random numbers: the same seed gives the same tensors on every backend and machine.
import { allocate, type DType } from './dtype.ts';
import { Tensor } from './tensor.ts';
import { numel } from './shape.ts';

/** xoshiro128** seeded through splitmix32; uniform floats in [0, 1) with 32 random bits. */
export class Generator {
  private s = new Uint32Array(4);

  constructor(seed: number) {
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b);
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35);
      this.s[i] = (t ^ (t >>> 16)) >>> 0;
    }
  }

  /** The four state words, to checkpoint a run and resume it exactly. */
  getState(): number[] {
    return Array.from(this.s);
  }

  setState(state: readonly number[]): this {
    if (state.length !== 4 || state.every((w) => w === 0)) throw new RangeError(`Generator state must be 4 words, not all zero; got [${state}]`);
    this.s.set(state.map((w) => w >>> 0));
    return this;
  }

  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2] ^= s[0]!;
    s[3] ^= s[1]!;
    s[1] ^= s[2]!;
    s[0] ^= s[3]!;
    s[2] ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Standard normal (Box–Muller; 1 − u keeps the logarithm finite). */
  nextNormal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  uniform(shape: readonly number[], low = 0, high = 1, dtype: DType = 'float32'): Tensor {
    const data = allocate(dtype, numel(shape));
    for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * this.next();
    return new Tensor(data, [...shape]);
  }

  normal(shape: readonly number[], mean = 0, std = 1, dtype: DType = 'float32'): Tensor {
    const data = allocate(dtype, numel(shape));
    for (let i = 0; i < data.length; i++) data[i] = mean + std * this.nextNormal();
    return new Tensor(data, [...shape]);
  }

  /** Integers uniform in [low, high). */
  randint(shape: readonly number[], low: number, high: number): Tensor {
    const data = allocate('int32', numel(shape));
    for (let i = 0; i < data.length; i++) data[i] = low + Math.floor((high - low) * this.next());
    return new Tensor(data, [...shape]);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export const randn = (shape: readonly number[], seed: number, dtype: DType = 'float32'): Tensor =>
  new Generator(seed).normal(shape, 0, 1, dtype);
export const rand = (shape: readonly number[], seed: number, dtype: DType = 'float32'): Tensor =>
  new Generator(seed).uniform(shape, 0, 1, dtype);
