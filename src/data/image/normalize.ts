// The two input normalisations of PixelLLM (scenic/projects/pixel_llm/modeling/pixel_llm.py GIT_/SAM_PIXEL_MEAN/STD,
// utils.preprocess): (x − mean) / std on 0–255 pixels, then padded pixels set to 0 ("padded pixels remain 0").

export type Normalization = 'clip' | 'sam';

/** Per-channel mean and std in 0–255 units. */
export interface ChannelStats {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

// CLIP's statistics are published on the 0–1 scale; the reference multiplies them by 255.
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

export const NORMALIZATIONS: Record<Normalization, ChannelStats> = {
  clip: { mean: [CLIP_MEAN[0] * 255, CLIP_MEAN[1] * 255, CLIP_MEAN[2] * 255], std: [CLIP_STD[0] * 255, CLIP_STD[1] * 255, CLIP_STD[2] * 255] },
  // SAM and ImageNet share these.
  sam: { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] },
};

/**
 * Writes (x − mean) / std of the valid region of a planar (3, S, S) 0–255 canvas into `out` (same layout), zeros in
 * the padding. `out` may be a view into a batch tensor's storage.
 */
export function normalizeCanvas(canvas: Float32Array, S: number, validWidth: number, validHeight: number, stats: ChannelStats, out: Float32Array): void {
  const plane = S * S;
  for (let ch = 0; ch < 3; ch++) {
    const mean = stats.mean[ch]!;
    const inv = 1 / stats.std[ch]!;
    const base = ch * plane;
    for (let r = 0; r < S; r++) {
      const row = base + r * S;
      if (r >= validHeight) {
        out.fill(0, row, row + S);
        continue;
      }
      for (let c = 0; c < validWidth; c++) out[row + c] = (canvas[row + c]! - mean) * inv;
      out.fill(0, row + validWidth, row + S);
    }
  }
}

/** The padding mask (S, S): 1 inside the valid top-left validWidth × validHeight region, 0 in the padding. */
export function paddingMask(S: number, validWidth: number, validHeight: number, out = new Uint8Array(S * S)): Uint8Array {
  for (let r = 0; r < validHeight; r++) out.fill(1, r * S, r * S + validWidth);
  return out;
}
