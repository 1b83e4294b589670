// One image file → model input: decode, place on the S×S canvas (resize the longer side, optional augmentation),
// normalise, with the padding mask, the valid size and the scale. The batch workers call renderImage on slices of a
// batch's storage; prepareImage is the same for a single image (evaluation, the API, tools).
import { Tensor } from '../../tensor/tensor.ts';
import type { Generator } from '../../tensor/random.ts';
import { decodeImage, type DecodeOptions, type DecodedImage } from './decode.ts';
import { ImageError } from './errors.ts';
import { fitGeometry, scaleOf, type Geometry } from './geometry.ts';
import { drawGeometry, type AugmentOptions } from './augment.ts';
import { resampleRgb } from './resample.ts';
import { NORMALIZATIONS, normalizeCanvas, paddingMask, type Normalization } from './normalize.ts';

export interface PrepareOptions extends DecodeOptions {
  /** the canvas side S */
  size: number;
  /** which normalised copies to make (default both) */
  normalizations?: readonly Normalization[];
  /** train-time augmentation drawn from `rng` after decoding; without it the longer side is fitted to S */
  augment?: { options: AugmentOptions; rng: Generator };
}

export interface PreparedImage {
  /** (3, S, S) float32 per requested normalisation, zeros in the padding */
  pixels: Partial<Record<Normalization, Tensor>>;
  /** (S, S) bool, 1 on valid pixels */
  paddingMask: Tensor;
  validWidth: number;
  validHeight: number;
  /** canvas pixels per original pixel, [x, y] */
  scale: [number, number];
  /** the full map from original pixels to the canvas (use mapBox / mapPoint / resampleMask with it) */
  geometry: Geometry;
}

export async function prepareImage(file: string, opts: PrepareOptions): Promise<PreparedImage> {
  const decoded = await decodeImage(file, opts);
  const S = opts.size;
  const g = opts.augment
    ? drawGeometry(opts.augment.rng, opts.augment.options, decoded.width, decoded.height, S)
    : fitGeometry(decoded.width, decoded.height, S);
  const norms = opts.normalizations ?? ['clip', 'sam'];
  const outs = norms.map(() => new Float32Array(3 * S * S));
  renderImage(decoded, g, norms, outs);
  const pixels: Partial<Record<Normalization, Tensor>> = {};
  norms.forEach((n, i) => (pixels[n] = new Tensor(outs[i]!, [3, S, S])));
  return {
    pixels,
    paddingMask: new Tensor(paddingMask(S, g.validWidth, g.validHeight), [S, S]),
    validWidth: g.validWidth,
    validHeight: g.validHeight,
    scale: scaleOf(g),
    geometry: g,
  };
}

/** Resamples `decoded` by `g` and writes one normalised (3, S, S) canvas per entry of `norms` into `outs`. */
export function renderImage(decoded: DecodedImage, g: Geometry, norms: readonly Normalization[], outs: readonly Float32Array[],
  scratch = new Float32Array(3 * g.canvas * g.canvas)): void {
  resampleRgb(decoded.rgb, g, scratch);
  norms.forEach((n, i) => normalizeCanvas(scratch, g.canvas, g.validWidth, g.validHeight, NORMALIZATIONS[n], outs[i]!));
}

/**
 * Refuses an image whose decoded size differs from the size its annotations were made on (boxes would land in the
 * wrong place). Swapped sides are what an EXIF orientation tag does.
 */
export function checkDecodedSize(file: string, decoded: DecodedImage, width: number, height: number): void {
  if (decoded.width === width && decoded.height === height) return;
  const hint = decoded.width === height && decoded.height === width
    ? '; the sides are swapped, as an EXIF orientation tag does: set the decode option exifOrientation to how the ' +
      'annotations were made (false: the stored pixel grid, as COCO, LN, RefCOCO and VG were annotated)'
    : '; the annotations belong to another version of this image';
  throw new ImageError(file, `image ${file} decodes to ${decoded.width}×${decoded.height} but its annotations say ${width}×${height}${hint}`);
}
