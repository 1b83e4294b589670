// Sampling helpers over the project's seeded Generator. Every image draws from its own stream, seeded from the run seed
// and the image index, so an image's content depends on neither the image count nor the order images are made in.
import { Generator } from '../../tensor/random.ts';

export class Rng {
  private readonly g: Generator;

  constructor(seed: number) {
    this.g = new Generator(seed);
  }

  /** The stream of image `index` of a run with seed `seed`. */
  static forImage(seed: number, index: number): Rng {
    return new Rng(mix32(mix32(seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b1)));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.g.next();
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.g.next();
  }

  /** Integer uniform in [low, high] (both ends included). */
  int(low: number, high: number): number {
    return low + Math.floor((high - low + 1) * this.g.next());
  }

  normal(mean = 0, std = 1): number {
    return mean + std * this.g.nextNormal();
  }

  chance(p: number): boolean {
    return this.g.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: no items to pick from');
    return items[Math.floor(items.length * this.g.next())]!;
  }

  /** An index drawn with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let u = this.g.next() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i]!;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor((i + 1) * this.g.next());
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** A 32-bit integer hash (the murmur3 finaliser). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
