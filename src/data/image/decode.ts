// Image files to 8-bit RGB pixels with sharp (libvips): JPEG, PNG and WebP; EXIF orientation applied; grayscale, CMYK,
// 16-bit and palette images converted to sRGB; alpha composited over a background; a pixel limit against decompression
// bombs checked from the header, before any pixel is decoded.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { UserError } from '../../errors.ts';
import { ImageError, ImageTooLargeError } from './errors.ts';

/** The pixel limit at which Pillow refuses an image as a decompression bomb (2 × its 89,478,485 warning level). */
export const DEFAULT_MAX_PIXELS = 178_956_970;
export const MAX_PIXELS_ENV = 'PIXELLLM_MAX_IMAGE_PIXELS';

export interface DecodeOptions {
  /** refuse images with more pixels than this (width × height from the header); default $PIXELLLM_MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS */
  maxPixels?: number;
  /**
   * rotate/mirror as the EXIF orientation tag says (default true: a photo comes out upright). Dataset annotations
   * (COCO, LN, RefCOCO, VG) were made on the stored pixel grid, which the TF reference decodes, so the batch loader
   * turns this off.
   */
  exifOrientation?: boolean;
  /** RGB 0–255 that transparent pixels are composited over (default white, as a viewer shows a transparent PNG on a page) */
  background?: readonly [number, number, number];
}

/** Interleaved RGB bytes, row-major: (height, width, 3). */
export interface DecodedImage {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** The pixel limit from $PIXELLLM_MAX_IMAGE_PIXELS, or DEFAULT_MAX_PIXELS when it is unset. */
export function maxPixelsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MAX_PIXELS_ENV];
  if (raw === undefined || raw === '') return DEFAULT_MAX_PIXELS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new UserError(`${MAX_PIXELS_ENV}=${JSON.stringify(raw)} is not a positive integer number of pixels (e.g. ${DEFAULT_MAX_PIXELS})`);
  }
  return n;
}

type Format = 'jpeg' | 'png' | 'webp';

const SUPPORTED: [Format, (b: Uint8Array) => boolean][] = [
  ['jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['png', (b) => ascii(b, 1, 3) === 'PNG' && b[0] === 0x89],
  ['webp', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP'],
];

// Formats sharp could read but a dataset of ours should not hold; named so the error can say what the file is.
const REFUSED: [string, (b: Uint8Array) => boolean][] = [
  ['GIF', (b) => ascii(b, 0, 4) === 'GIF8'],
  ['TIFF', (b) => ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*'],
  ['BMP', (b) => ascii(b, 0, 2) === 'BM'],
  ['HEIF/AVIF', (b) => ascii(b, 4, 4) === 'ftyp'],
  ['SVG/XML', (b) => /^\s*</.test(ascii(b, 0, 16))],
];

function ascii(b: Uint8Array, start: number, n: number): string {
  return String.fromCharCode(...b.subarray(start, start + n));
}

export function sniffFormat(bytes: Uint8Array): Format | null {
  return SUPPORTED.find(([, test]) => test(bytes))?.[0] ?? null;
}

/** Reads and decodes an image file to RGB. Errors are ImageError subclasses naming the file. */
export async function decodeImage(file: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    throw new ImageError(file, `cannot read image ${file}: ${why}`);
  }
  return decodeImageBytes(bytes, file, opts);
}

/** Decodes image bytes to RGB; `file` names the source in errors. */
export async function decodeImageBytes(bytes: Uint8Array, file: string, opts: DecodeOptions = {}): Promise<DecodedImage> {
  const maxPixels = opts.maxPixels ?? maxPixelsFromEnv();
  if (bytes.length === 0) throw new ImageError(file, `cannot decode image ${file}: the file is empty`);
  if (sniffFormat(bytes) === null) {
    const other = REFUSED.find(([, test]) => test(bytes))?.[0];
    throw new ImageError(file, `cannot decode image ${file}: ${other ? `${other} is not supported` : 'not a JPEG, PNG or WebP file'}` +
      ' (supported: JPEG, PNG, WebP; convert the file to one of them)');
  }
  const [r, g, b] = opts.background ?? [255, 255, 255];
  let pipeline = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' });
  if (opts.exifOrientation ?? true) pipeline = pipeline.autoOrient();
  try {
    const { data, info } = await pipeline
      .flatten({ background: { r, g, b } })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new ImageError(file, `cannot decode image ${file}: got ${info.channels} channels after conversion to RGB`);
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (e) {
    if (e instanceof ImageError) throw e;
    const message = (e as Error).message;
    if (/exceeds pixel limit/i.test(message)) throw await tooLarge(bytes, file, maxPixels);
    throw new ImageError(file, `cannot decode image ${file}: ${message} (the file is damaged or truncated; re-download or re-encode it)`);
  }
}

/**
 * The size an image decodes to (EXIF orientation applied unless disabled), from its header alone: for examples whose
 * reader does not know it (Localized Narratives without a COCO json beside them).
 */
export async function readImageSize(file: string, opts: DecodeOptions = {}): Promise<{ width: number; height: number }> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError(file, `cannot read the size of image ${file}: ${(e as Error).message}`);
  }
  const oriented = (opts.exifOrientation ?? true) ? meta.autoOrient : meta;
  if (!(oriented.width > 0 && oriented.height > 0)) throw new ImageError(file, `cannot read the size of image ${file}: the header gives none`);
  return { width: oriented.width, height: oriented.height };
}

async function tooLarge(bytes: Uint8Array, file: string, maxPixels: number): Promise<ImageTooLargeError> {
  const { width, height } = await sharp(bytes, { limitInputPixels: false }).metadata();
  const size = width && height ? `${width}×${height} = ${width * height} pixels` : 'larger than the limit';
  return new ImageTooLargeError(file, `image ${file} is ${size}, over the limit of ${maxPixels} pixels that guards against ` +
    `decompression bombs; if the file is trusted, raise the limit with ${MAX_PIXELS_ENV}=<pixels> (or the maxPixels option)`);
}
