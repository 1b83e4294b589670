// 2-D rotary position embedding as timm's RotaryEmbeddingCat builds it for EVA02 (in_pixels=False), and
// apply_rot_embed_cat (interleaved pairs):
// https://github.com/huggingface/pytorch-image-models/blob/main/timm/layers/pos_embed_sincos.py
import { Tensor, full, matmul } from '../tensor/index.ts';
import { checkConfig } from './config.ts';

/** The sin and cos tables of one grid, (H·W, hs) each, and the signed swap that rotates interleaved pairs. */
export interface RotaryTables {
  sin: Tensor;
  cos: Tensor;
  rot: Tensor;
}

/**
 * Tables for an H×W grid and head size hs. Each quarter of hs is a frequency band 1/temperature^(k/(hs/4)); the grid
 * coordinates are the row (first half of the pairs) and the column (second half), scaled by ref/grid when a
 * reference grid is given (EVA's scheme for running at another resolution than pretraining). Row-major tokens.
 */
export function rotaryTables(grid: [number, number], hs: number, ref: [number, number] | null = null, temperature = 10000): RotaryTables {
  checkConfig(hs % 4 === 0, () => `rotary position embedding needs a head size divisible by 4, got ${hs}`);
  const [H, W] = grid;
  const nb = hs / 4;
  const bands = Array.from({ length: nb }, (_, k) => 1 / temperature ** (k / nb));
  const sin = full([H * W, hs], 0);
  const cos = full([H * W, hs], 0);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const coords = [ref ? (r / H) * ref[0] : r, ref ? (c / W) * ref[1] : c];
      const row = (r * W + c) * hs;
      // layout [row bands…, column bands…], each value twice (repeat_interleave(2))
      coords.forEach((t, axis) => bands.forEach((f, k) => {
        const j = row + 2 * (axis * nb + k);
        sin.data[j] = sin.data[j + 1] = Math.sin(t * f);
        cos.data[j] = cos.data[j + 1] = Math.cos(t * f);
      }));
    }
  }
  // rot(x) = x·R: [x0, x1, x2, x3, …] → [−x1, x0, −x3, x2, …]
  const rot = full([hs, hs], 0);
  for (let i = 0; i < hs; i += 2) {
    rot.data[(i + 1) * hs + i] = -1;
    rot.data[i * hs + i + 1] = 1;
  }
  return { sin, cos, rot };
}

/** x·cos + rot(x)·sin for x (…, H·W, hs). */
export function applyRotary(x: Tensor, t: RotaryTables): Tensor {
  return x.mul(t.cos).add(matmul(x, t.rot).mul(t.sin));
}
