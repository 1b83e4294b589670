// The image half of a batch, as a worker computes it: decode every file, check its size against the annotations,
// resample it by its planned geometry and normalise it straight into the batch's storage. The result's buffers are
// transferred back to the main thread, not copied. Errors cross the thread boundary as plain objects and are rebuilt
// as the same classes, so the caller sees an ImageError naming the file.
import { UserError } from '../../errors.ts';
import { decodeImage, type DecodeOptions, type DecodedImage } from '../image/decode.ts';
import { ImageError, ImageTooLargeError } from '../image/errors.ts';
import type { Geometry } from '../image/geometry.ts';
import type { Normalization } from '../image/normalize.ts';
import { paddingMask } from '../image/normalize.ts';
import { checkDecodedSize, renderImage } from '../image/prepare.ts';
import { resampleMask } from '../image/resample.ts';
import { decodeRle, segmentationToRle } from '../mask.ts';
import type { Segmentation } from '../types.ts';
import { BatchError } from './source.ts';

export interface ImageJobItem {
  file: string;
  geometry: Geometry;
  /** the object's segmentation in original pixels: rasterised as pycocotools does, then moved like the image */
  segmentation?: Segmentation;
}

export interface ImageJob {
  canvas: number;
  normalizations: readonly Normalization[];
  decode: DecodeOptions;
  items: ImageJobItem[];
}

export interface ImageJobResult {
  /** (B, 3, S, S) per normalisation */
  pixels: Partial<Record<Normalization, Float32Array>>;
  /** (B, S, S) */
  paddingMask: Uint8Array;
  /** (B, S, S), present when any item had a segmentation; zeros for the items without one */
  masks?: Uint8Array;
}

/** Files being decoded ahead of the one being resampled (each holds a decoded image, ~1 MB at 640×480). */
const DECODE_AHEAD = 2;

export async function runImageJob(job: ImageJob): Promise<ImageJobResult> {
  const S = job.canvas;
  const B = job.items.length;
  const plane = 3 * S * S;
  const pixels: Partial<Record<Normalization, Float32Array>> = {};
  for (const n of job.normalizations) pixels[n] = new Float32Array(B * plane);
  const padding = new Uint8Array(B * S * S);
  const masks = job.items.some((it) => it.segmentation) ? new Uint8Array(B * S * S) : undefined;
  const scratch = new Float32Array(plane);
  // Decodes run on libuv's threads: keep DECODE_AHEAD of them going while this thread resamples.
  const decodes: Promise<DecodedImage>[] = [];
  const startDecode = (b: number): void => {
    if (b >= B) return;
    const p = decodeImage(job.items[b]!.file, job.decode);
    p.catch(() => {}); // awaited in turn below; this only keeps an early failure from going unhandled
    decodes.push(p);
  };
  for (let b = 0; b < DECODE_AHEAD; b++) startDecode(b);
  for (let b = 0; b < B; b++) {
    const item = job.items[b]!;
    const decoded = await decodes[b]!;
    startDecode(b + DECODE_AHEAD);
    const g = item.geometry;
    checkDecodedSize(item.file, decoded, g.width, g.height);
    renderImage(decoded, g, job.normalizations, job.normalizations.map((n) => pixels[n]!.subarray(b * plane, (b + 1) * plane)), scratch);
    paddingMask(S, g.validWidth, g.validHeight, padding.subarray(b * S * S, (b + 1) * S * S));
    if (item.segmentation && masks) {
      let mask: Uint8Array;
      try {
        mask = decodeRle(segmentationToRle(item.segmentation, g.height, g.width)).data; // (h, w)
      } catch (e) {
        throw e instanceof UserError ? new BatchError(`segmentation of the object in ${item.file}: ${e.message}`) : e;
      }
      resampleMask(mask, g, masks.subarray(b * S * S, (b + 1) * S * S));
    }
  }
  return { pixels, paddingMask: padding, masks };
}

/** The buffers of a result, to move back across threads without a copy. */
export function resultTransfer(r: ImageJobResult): ArrayBuffer[] {
  const bufs = [...Object.values(r.pixels).map((p) => p.buffer as ArrayBuffer), r.paddingMask.buffer as ArrayBuffer];
  if (r.masks) bufs.push(r.masks.buffer as ArrayBuffer);
  return bufs;
}

/** An error as structured-clone data. */
export interface ErrorData {
  name: string;
  message: string;
  /** a UserError (bad input), as opposed to a bug */
  user: boolean;
  file?: string;
  stack?: string;
}

export function errorToData(e: unknown): ErrorData {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), user: false };
  return { name: e.name, message: e.message, user: e instanceof UserError, file: (e as Partial<ImageError>).file, stack: e.stack };
}

/** Rebuilds the image errors by class and other UserErrors by name; anything else is a bug and keeps the worker's stack. */
export function errorFromData(d: ErrorData): Error {
  if (d.name === 'ImageTooLargeError') return new ImageTooLargeError(d.file ?? '', d.message);
  if (d.name === 'ImageError') return new ImageError(d.file ?? '', d.message);
  if (d.name === 'BatchError') return new BatchError(d.message);
  if (d.user) {
    const e = new UserError(d.message);
    e.name = d.name;
    return e;
  }
  const e = new Error(`image worker: ${d.message}`);
  e.stack = `${e.stack}\n--- in the worker ---\n${d.stack ?? ''}`;
  return e;
}
