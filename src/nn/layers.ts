// The basic layers, holding their parameters under torch's names (weight, bias) so checkpoint keys load as they are.
import {
  Tensor, Generator, conv2d, convTranspose2d, dropout, embedding, gelu, layerNorm, linear, rmsNorm,
  type ConvOptions, type ConvTransposeOptions, type LinearActivation,
} from '../tensor/index.ts';
import { Module } from './module.ts';
import { constantInit, nextSeed, normalInit, uniformInit } from './init.ts';

/** y = x·Wᵀ + b with W (out, in) as torch stores it. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, { bias = true } = {}) {
    super();
    this.weight = uniformInit([outFeatures, inFeatures], inFeatures);
    this.bias = bias ? uniformInit([outFeatures], inFeatures) : null;
  }
  /** x (…, in) → (…, out); an activation given here is fused into the product (see tensor's linear). */
  forward(x: Tensor, activation: LinearActivation | null = null): Tensor {
    return linear(x, this.weight, this.bias, activation);
  }
}

export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  constructor(readonly dim: number, readonly eps = 1e-5, { affine = true, bias = true } = {}) {
    super();
    this.weight = affine ? constantInit([dim], 1) : null;
    this.bias = affine && bias ? constantInit([dim], 0) : null;
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** x / rms(x) · w (T5's and Llama's norm: no mean subtraction, no bias). */
export class RMSNorm extends Module {
  weight: Tensor;
  constructor(readonly dim: number, readonly eps = 1e-6) {
    super();
    this.weight = constantInit([dim], 1);
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly dim: number) {
    super();
    this.weight = normalInit([numEmbeddings, dim]);
  }
  /** ids (…) int32 → (…, dim) */
  forward(ids: Tensor): Tensor {
    return embedding(this.weight, ids);
  }
}

export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(inChannels: number, outChannels: number, kernel: number | [number, number], readonly opts: ConvOptions & { bias?: boolean } = {}) {
    super();
    const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    const groups = opts.groups ?? 1;
    const fanIn = (inChannels / groups) * kh * kw;
    this.weight = uniformInit([outChannels, inChannels / groups, kh, kw], fanIn);
    this.bias = opts.bias === false ? null : uniformInit([outChannels], fanIn);
  }
  /** (B, Cin, H, W) → (B, Cout, H', W') */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }
}

export class ConvTranspose2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(inChannels: number, outChannels: number, kernel: number | [number, number], readonly opts: ConvTransposeOptions & { bias?: boolean } = {}) {
    super();
    const [kh, kw] = typeof kernel === 'number' ? [kernel, kernel] : kernel;
    const fanIn = outChannels * kh * kw; // torch computes fan_in of the transposed weight (in, out, kh, kw) from dim 1
    this.weight = uniformInit([inChannels, outChannels, kh, kw], fanIn);
    this.bias = opts.bias === false ? null : uniformInit([outChannels], fanIn);
  }
  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, this.opts);
  }
}

export class Dropout extends Module {
  // each instance its own stream by default, so two dropout layers never drop the same units
  constructor(readonly p: number, readonly rng: Generator = new Generator(nextSeed())) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.p > 0 && this.training ? dropout(x, this.p, this.rng, true) : x;
  }
}

export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'none';

export function activate(x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'gelu': return gelu(x);
    case 'gelu_tanh': return gelu(x, 'tanh');
    case 'relu': return x.clamp(0);
    case 'none': return x;
  }
}

/** Linear layers with an activation between them (none after the last), keys `layers.{i}` as SAM's MLP names them. */
export class MLP extends Module {
  layers: Linear[];
  constructor(dims: number[], readonly act: Activation = 'relu', readonly sigmoidOutput = false) {
    super();
    this.layers = dims.slice(1).map((d, i) => new Linear(dims[i], d));
  }
  forward(x: Tensor): Tensor {
    this.layers.forEach((l, i) => {
      x = l.forward(x);
      if (i < this.layers.length - 1) x = activate(x, this.act);
    });
    return this.sigmoidOutput ? x.sigmoid() : x;
  }
}
