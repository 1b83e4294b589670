// 1-D interpolation matrices for separable resizing: out = W_h · X · W_wᵀ per channel.
// References (behaviour matched, code not copied):
//   torch: https://github.com/pytorch/pytorch/blob/main/aten/src/ATen/native/UpSample.h
//          (area_pixel_compute_source_index, cubic_convolution1/2, upsample_bilinear2d / upsample_bicubic2d;
//          antialias=True: cpu/UpSampleKernel.cpp, _compute_index_ranges_weights with the aa filters)
//   jax:   https://github.com/jax-ml/jax/blob/main/jax/_src/image/scale.py
//          (compute_weight_mat, _fill_triangle_kernel, _fill_keys_cubic_kernel)

import { TensorError } from './errors.ts';

export type ResizeMethod = 'bilinear' | 'bicubic';
export type ResizeConvention = 'torch' | 'jax';

/** Row-major (outSize × inSize) Float64Array: row o holds the weights that output sample o takes from each input sample. */
export function resizeWeights(
  inSize: number,
  outSize: number,
  method: ResizeMethod,
  convention: ResizeConvention,
  antialias?: boolean,
): Float64Array {
  checkSize('inSize', inSize);
  checkSize('outSize', outSize);
  if (method !== 'bilinear' && method !== 'bicubic') {
    throw new TensorError(`resizeWeights: method must be 'bilinear' or 'bicubic', got ${JSON.stringify(method)}`);
  }
  if (convention !== 'torch' && convention !== 'jax') {
    throw new TensorError(`resizeWeights: convention must be 'torch' or 'jax', got ${JSON.stringify(convention)}`);
  }
  const w = new Float64Array(outSize * inSize);
  // jax skips equal-size axes outright; torch's formulas reduce to the identity there too.
  if (inSize === outSize) {
    for (let i = 0; i < inSize; i++) w[i * inSize + i] = 1;
    return w;
  }
  // torch's antialias=True path (_upsample_bicubic2d_aa) is jax's scheme: Keys' cubic with A = −0.5 (PIL's) or the
  // triangle, widened by the downsampling factor and renormalised over the taps inside the input
  if (convention === 'torch' && !antialias) fillTorch(w, inSize, outSize, method);
  else fillJax(w, inSize, outSize, method, antialias ?? true);
  return w;
}

function checkSize(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) {
    throw new TensorError(`resizeWeights: ${name} must be a positive integer, got ${v}`);
  }
}

function fillTorch(w: Float64Array, inSize: number, outSize: number, method: ResizeMethod): void {
  const scale = inSize / outSize;
  const last = inSize - 1;
  for (let o = 0; o < outSize; o++) {
    const row = o * inSize;
    const src = scale * (o + 0.5) - 0.5;
    if (method === 'bilinear') {
      // Linear modes clamp a negative source coordinate to 0 (OpenCV compatibility), so the first rows copy x[0].
      const s = Math.max(src, 0);
      const i0 = Math.min(Math.floor(s), last);
      const i1 = Math.min(i0 + 1, last);
      const l1 = s - i0;
      w[row + i0] += 1 - l1;
      w[row + i1] += l1;
    } else {
      // Cubic does not clamp the coordinate; instead out-of-range taps read the edge sample,
      // so the edge input accumulates the weight of every tap that falls off the border.
      const i = Math.floor(src);
      const t = src - i;
      const k = torchCubicCoeffs(t);
      for (let j = 0; j < 4; j++) {
        const idx = Math.min(Math.max(i - 1 + j, 0), last);
        w[row + idx] += k[j]!;
      }
    }
  }
}

// torch without antialias uses Keys' cubic with A = -0.75 (matching OpenCV), not the A = -0.5 that jax/PIL use.
const TORCH_CUBIC_A = -0.75;

function torchCubicCoeffs(t: number): [number, number, number, number] {
  const A = TORCH_CUBIC_A;
  const inner = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1; // |x| <= 1
  const outer = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2
  return [outer(t + 1), inner(t), inner(1 - t), outer(2 - t)];
}

function jaxKernel(method: ResizeMethod, x: number): number {
  if (method === 'bilinear') return Math.max(0, 1 - x);
  // Keys cubic with A = -0.5.
  if (x >= 2) return 0;
  if (x >= 1) return ((-0.5 * x + 2.5) * x - 4) * x + 2;
  return (1.5 * x - 2.5) * x * x + 1;
}

// jax normalises only when |row sum| exceeds 1000·float32 eps; lighter rows become all zeros.
const JAX_SUM_EPS = 1000 * 2 ** -23;

function fillJax(w: Float64Array, inSize: number, outSize: number, method: ResizeMethod, antialias: boolean): void {
  const invScale = inSize / outSize; // jax scale = out/in
  // Antialiasing widens the kernel by the downsampling factor (a low-pass filter); upsampling never widens it.
  const kernelScale = antialias ? Math.max(invScale, 1) : 1;
  for (let o = 0; o < outSize; o++) {
    const row = o * inSize;
    const sample = (o + 0.5) * invScale - 0.5;
    // Kernel is evaluated on every in-range input and then renormalised: taps beyond the border
    // are dropped (their weight redistributed), unlike torch's edge clamping.
    let sum = 0;
    for (let i = 0; i < inSize; i++) {
      const v = jaxKernel(method, Math.abs(sample - i) / kernelScale);
      w[row + i] = v;
      sum += v;
    }
    // A sample outside [-0.5, in-0.5] yields zeros in jax; cannot happen for a pure resize but kept for fidelity.
    const inside = sample >= -0.5 && sample <= inSize - 0.5;
    const keep = inside && Math.abs(sum) > JAX_SUM_EPS;
    for (let i = 0; i < inSize; i++) w[row + i] = keep ? w[row + i]! / sum : 0;
  }
}
