// SamPositionalEmbedding: random Fourier features of 2-D coordinates, shared by the prompt encoder (points, box
// corners) and the mask decoder (a dense encoding of every image-embedding cell).
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/modeling_sam.py
import { Tensor, arange, concat, isGradEnabled, stack, untracked } from '../../tensor/index.ts';
import { Module } from '../../nn/index.ts';
import { normalInit } from '../../nn/init.ts';

export class SamPositionalEmbedding extends Module {
  positional_embedding: Tensor;
  /** dense()'s last result outside a graph, with the grid and the frequencies it was made from */
  #denseCache: { h: number; w: number; frequencies: Float32Array; pe: Tensor } | null = null;
  constructor(numPosFeats: number, scale: number) {
    super();
    this.positional_embedding = normalInit([2, numPosFeats], scale); // (2, F) Gaussian frequencies
  }

  /**
   * coords (…, 2) as (x, y) → (…, 2F) = [sin, cos](2π · (2c − 1) · G), with c = coords / (W, H) of `inputSize`
   * [H, W], or coords already in [0, 1] when it is omitted.
   */
  forward(coords: Tensor, inputSize?: [number, number]): Tensor {
    // float64 inside: the arguments reach hundreds of radians with large frequencies, where float32 loses digits
    let c = coords.to('float64');
    if (inputSize !== undefined) c = c.div(new Tensor(Float64Array.of(inputSize[1], inputSize[0]), [2]));
    const angles = c.mul(2).sub(1).matmul(this.positional_embedding.to('float64')).mul(2 * Math.PI); // (…, F)
    return concat([angles.sin(), angles.cos()], -1).to('float32'); // (…, 2F)
  }

  /**
   * The encoding of every cell centre of an h × w grid: (1, 2F, h, w). Outside a graph the result is kept and
   * handed out again while the grid and the frequencies are the same (inference asks for it on every call, and
   * float64 sines of 16k values are not free).
   */
  dense(h: number, w: number): Tensor {
    if (isGradEnabled()) return this.computeDense(h, w);
    const frequencies = this.positional_embedding.values() as Float32Array;
    const c = this.#denseCache;
    if (c !== null && c.h === h && c.w === w && c.frequencies.every((v, i) => v === frequencies[i])) return c.pe;
    const pe = untracked(() => this.computeDense(h, w)); // kept: outside any training step's recycling scope
    this.#denseCache = { h, w, frequencies: Float32Array.from(frequencies), pe };
    return pe;
  }

  private computeDense(h: number, w: number): Tensor {
    const ys = arange(h).add(0.5).div(h).reshape(h, 1).expand(h, w); // (h, w) row centres
    const xs = arange(w).add(0.5).div(w).reshape(1, w).expand(h, w); // (h, w) column centres
    return this.forward(stack([xs, ys], -1)).permute(2, 0, 1).unsqueeze(0); // (1, 2F, h, w)
  }
}
