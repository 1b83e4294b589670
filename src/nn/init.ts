// Initial values of new parameters, as torch's defaults draw them, from a seedable generator.
import { Generator, Tensor } from '../tensor/index.ts';

let generator = new Generator(0);

/** Reseeds the generator every new layer draws its initial weights from. */
export function manualSeed(seed: number): void {
  generator = new Generator(seed);
}

/** U(−bound, bound), the bound of torch's default Linear/Conv init: 1/√fan_in (kaiming_uniform with a = √5). */
export function uniformInit(shape: number[], fanIn: number, rng: Generator = generator): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return rng.uniform(shape, -bound, bound).requireGrad();
}

/** A seed for a layer's own random stream (dropout), drawn from the init generator so manualSeed fixes it too. */
export function nextSeed(rng: Generator = generator): number {
  return rng.nextUint32();
}

export function normalInit(shape: number[], std = 1, rng: Generator = generator): Tensor {
  return rng.normal(shape, 0, std).requireGrad();
}

export function constantInit(shape: number[], value: number): Tensor {
  const t = new Tensor(new Float32Array(shape.reduce((a, d) => a * d, 1)).fill(value), shape);
  return t.requireGrad();
}
