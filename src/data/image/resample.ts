// Pixels onto the S×S canvas through a Geometry. Colour: separable bilinear with antialiasing, the weights of
// jax.image.resize(method='linear', antialias=True) (= tf.image.resize(..., antialias=True), the triangle kernel
// widened by the downscale factor) from src/tensor/resize_weights.ts, evaluated only for the crop window and read in
// mirrored order when flipped. The reference TF pipeline calls tf.image.resize without antialias; we antialias
// because its plain bilinear aliases badly at the 640 → 384 downscale. Masks: nearest neighbour, as the reference.
import { resizeWeights } from '../../tensor/resize_weights.ts';
import type { Geometry } from './geometry.ts';

/** The non-zero taps of each output sample: output o reads inputs first[o] .. first[o] + count[o] − 1. */
interface Taps {
  first: Int32Array;
  count: Int32Array;
  /** weights, `width` per output */
  weights: Float32Array;
  width: number;
}

const tapCache = new Map<string, Taps>();
const TAP_CACHE_SIZE = 64;

function taps(inSize: number, outSize: number): Taps {
  const key = `${inSize}:${outSize}`;
  const hit = tapCache.get(key);
  if (hit) return hit;
  const dense = resizeWeights(inSize, outSize, 'bilinear', 'jax', true); // (outSize, inSize)
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  let width = 1;
  for (let o = 0; o < outSize; o++) {
    const row = o * inSize;
    let lo = 0;
    let hi = inSize - 1;
    while (lo < hi && dense[row + lo] === 0) lo++;
    while (hi > lo && dense[row + hi] === 0) hi--;
    first[o] = lo;
    count[o] = hi - lo + 1;
    width = Math.max(width, hi - lo + 1);
  }
  const weights = new Float32Array(outSize * width);
  for (let o = 0; o < outSize; o++) {
    for (let k = 0; k < count[o]!; k++) weights[o * width + k] = dense[o * inSize + first[o]! + k]!;
  }
  const t = { first, count, weights, width };
  if (tapCache.size >= TAP_CACHE_SIZE) tapCache.delete(tapCache.keys().next().value!);
  tapCache.set(key, t);
  return t;
}

/**
 * Resamples interleaved RGB bytes (height, width, 3) into `out`, a planar (3, S, S) float canvas of 0–255 values.
 * Only the valid region is written; the caller owns the padding (zero it once).
 */
export function resampleRgb(rgb: Uint8Array, g: Geometry, out: Float32Array): void {
  const S = g.canvas;
  const tx = taps(g.width, g.resizedWidth);
  const ty = taps(g.height, g.resizedHeight);
  const vw = g.validWidth;
  const vh = g.validHeight;
  // Column c of the canvas is resized column cropX + c, or its mirror inside the window when flipped: its taps.
  const colFirst = new Int32Array(vw);
  const colCount = new Int32Array(vw);
  const colWeights = new Int32Array(vw);
  for (let c = 0; c < vw; c++) {
    const o = g.cropX + (g.flip ? vw - 1 - c : c);
    colFirst[c] = tx.first[o]! * 3;
    colCount[c] = tx.count[o]!;
    colWeights[c] = o * tx.width;
  }
  const wx = tx.weights;
  // Rows of the input that the window's output rows read.
  const rowLo = ty.first[g.cropY]!;
  const rowHi = ty.first[g.cropY + vh - 1]! + ty.count[g.cropY + vh - 1]!;
  // Horizontal pass over just those rows: (rowHi − rowLo, vw, 3).
  const tmp = new Float32Array((rowHi - rowLo) * vw * 3);
  for (let y = rowLo; y < rowHi; y++) {
    const src = y * g.width * 3;
    let q = (y - rowLo) * vw * 3;
    for (let c = 0; c < vw; c++) {
      const n = colCount[c]!;
      const w = colWeights[c]!;
      let p = src + colFirst[c]!;
      let r = 0;
      let gr = 0;
      let b = 0;
      for (let k = 0; k < n; k++, p += 3) {
        const wk = wx[w + k]!;
        r += wk * rgb[p]!;
        gr += wk * rgb[p + 1]!;
        b += wk * rgb[p + 2]!;
      }
      tmp[q++] = r;
      tmp[q++] = gr;
      tmp[q++] = b;
    }
  }
  // Vertical pass, a weighted sum of whole tmp rows (contiguous reads), then into the planar canvas: (3, S, S).
  const plane = S * S;
  const wy = ty.weights;
  const acc = new Float64Array(vw * 3);
  for (let r = 0; r < vh; r++) {
    const o = g.cropY + r;
    const n = ty.count[o]!;
    const w = o * ty.width;
    acc.fill(0);
    for (let k = 0, base = (ty.first[o]! - rowLo) * vw * 3; k < n; k++, base += vw * 3) {
      const wk = wy[w + k]!;
      for (let i = 0; i < vw * 3; i++) acc[i] += wk * tmp[base + i]!;
    }
    const dst = r * S;
    for (let c = 0; c < vw; c++) {
      out[dst + c] = acc[c * 3]!;
      out[plane + dst + c] = acc[c * 3 + 1]!;
      out[2 * plane + dst + c] = acc[c * 3 + 2]!;
    }
  }
}

/**
 * A binary mask (height, width) of the original image onto the canvas (S, S) by nearest neighbour: each canvas pixel
 * takes the source pixel under its centre (half-pixel centres, as tf.image.resize's NEAREST_NEIGHBOR); padding is 0.
 */
export function resampleMask(mask: Uint8Array, g: Geometry, out: Uint8Array): void {
  const S = g.canvas;
  const fx = g.width / g.resizedWidth;
  const fy = g.height / g.resizedHeight;
  const srcCol = new Int32Array(g.validWidth);
  for (let c = 0; c < g.validWidth; c++) {
    const xr = g.cropX + (g.flip ? g.validWidth - 1 - c : c);
    srcCol[c] = Math.min(Math.floor((xr + 0.5) * fx), g.width - 1);
  }
  for (let r = 0; r < g.validHeight; r++) {
    const sy = Math.min(Math.floor((g.cropY + r + 0.5) * fy), g.height - 1);
    const src = sy * g.width;
    for (let c = 0; c < g.validWidth; c++) out[r * S + c] = mask[src + srcCol[c]!]! ? 1 : 0;
  }
}
