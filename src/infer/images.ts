// Images for inference: decoded, resized so the longer side is S and padded (no augmentation), normalised for the
// model's encoders; and the maps between canvas pixels and the original image's pixels.
import { Tensor } from '../tensor/index.ts';
import { readImageSize } from '../data/image/decode.ts';
import { fitGeometry, mapBox, scaleOf, type Geometry } from '../data/image/geometry.ts';
import type { Normalization } from '../data/image/normalize.ts';
import { runImageJob } from '../data/batch/image_job.ts';
import type { Box, Point } from '../data/types.ts';

export interface PreparedImages {
  /** (B, 3, S, S) per normalisation */
  pixels: Partial<Record<Normalization, Tensor>>;
  geometries: Geometry[];
  /** (B, 2) float32 valid [w, h] on the canvas */
  validSize: Tensor;
}

export async function prepareImages(files: string[], S: number, normalizations: readonly Normalization[]): Promise<PreparedImages> {
  const decode = { exifOrientation: false };
  const geometries = await Promise.all(files.map(async (f) => {
    const { width, height } = await readImageSize(f, decode);
    return fitGeometry(width, height, S);
  }));
  const r = await runImageJob({ canvas: S, normalizations, decode, items: files.map((file, i) => ({ file, geometry: geometries[i]! })) });
  const B = files.length;
  const pixels: Partial<Record<Normalization, Tensor>> = {};
  for (const n of normalizations) pixels[n] = new Tensor(r.pixels[n]!, [B, 3, S, S]);
  const validSize = new Tensor(Float32Array.from(geometries.flatMap((g) => [g.validWidth, g.validHeight])), [B, 2]);
  return { pixels, geometries, validSize };
}

/** A canvas box → the original image's pixels, corners ordered and clipped to the image. */
export function boxToOriginal(g: Geometry, box: ArrayLike<number>): Box {
  const [sx, sy] = scaleOf(g);
  const xs = [box[0]! / sx, box[2]! / sx].map((v) => Math.min(Math.max(v, 0), g.width));
  const ys = [box[1]! / sy, box[3]! / sy].map((v) => Math.min(Math.max(v, 0), g.height));
  return [Math.min(xs[0]!, xs[1]!), Math.min(ys[0]!, ys[1]!), Math.max(xs[0]!, xs[1]!), Math.max(ys[0]!, ys[1]!)].map(round2) as Box;
}

/** An original-pixel box → the canvas. */
export const boxToCanvas = (g: Geometry, box: Box): Box => mapBox(g, box);

export const boxCentre = (b: Box): Point => [round2((b[0] + b[2]) / 2), round2((b[1] + b[3]) / 2)];

const round2 = (v: number) => Math.round(v * 100) / 100;
