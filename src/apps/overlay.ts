// Draws a task result over its image and writes a PNG (or JPEG/WebP, by the file's extension): the image decoded as the
// model saw it (the stored pixel grid, no EXIF rotation, as the batch loader decodes), a segmentation mask as a
// translucent fill with an opaque rim, and overlay_svg.ts's boxes, trace, labels and legend on top.
import { extname } from 'node:path';
import { rename, rm, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeImage, decodeImageBytes, type DecodedImage } from '../data/image/decode.ts';
import { countsFromString, decodeRle, type Bitmap } from '../data/mask.ts';
import type { SegmentResult, TaskResult } from '../infer/results.ts';
import { OverlayError, colorOf, overlaySvg, styleFor } from './overlay_svg.ts';

export { OverlayError } from './overlay_svg.ts';

export type OverlayFormat = 'png' | 'jpeg' | 'webp';

const FORMATS: Record<string, OverlayFormat> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp' };

/** Draws `result` over the image file and writes it to `outPath` atomically; the format follows the extension. */
export async function drawOverlay(imagePath: string, result: TaskResult, outPath: string): Promise<void> {
  const format = formatOf(outPath);
  const image = await decodeImage(imagePath, { exifOrientation: false });
  await writeAtomic(outPath, await renderOverlay(image, result, format));
}

/** drawOverlay for image bytes already in memory; `name` stands for the image in errors. */
export async function drawOverlayFromBytes(bytes: Uint8Array, result: TaskResult, outPath: string, name = 'image'): Promise<void> {
  const format = formatOf(outPath);
  const image = await decodeImageBytes(bytes, name, { exifOrientation: false });
  await writeAtomic(outPath, await renderOverlay(image, result, format));
}

/** The encoded overlay of `result` on a decoded image. */
export async function renderOverlay(image: DecodedImage, result: TaskResult, format: OverlayFormat = 'png'): Promise<Buffer> {
  const { width, height } = image;
  const { svg, height: canvasHeight } = overlaySvg(result, width, height);
  const raw = (w: number, h: number, channels: 3 | 4) => ({ raw: { width: w, height: h, channels } });
  const layers: sharp.OverlayOptions[] = [{ input: Buffer.from(image.rgb.buffer, image.rgb.byteOffset, image.rgb.length), ...raw(width, height, 3), left: 0, top: 0 }];
  if (result.task === 'segment') layers.push({ input: maskLayer(result, width, height), ...raw(width, height, 4), left: 0, top: 0 });
  layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  const canvas = sharp({ create: { width, height: canvasHeight, channels: 3, background: '#ffffff' } }).composite(layers);
  const encoded = format === 'png' ? canvas.png() : format === 'jpeg' ? canvas.jpeg({ quality: 92 }) : canvas.webp({ lossless: true });
  return encoded.toBuffer();
}

/** RGBA (height, width, 4): the mask in the first palette colour, translucent inside and opaque on a rim `line` wide. */
function maskLayer(result: SegmentResult, width: number, height: number): Buffer {
  const [mh, mw] = result.mask?.size ?? [];
  if (mh !== height || mw !== width) {
    throw new OverlayError(`cannot draw the mask: it is ${mh}×${mw} (height×width) but the image is ${height}×${width}; ` +
      'the mask must cover the whole image it was predicted on');
  }
  const mask = decodeRle({ size: [mh, mw], counts: countsFromString(result.mask.counts) });
  const inner = erode(mask, Math.max(1, Math.round(styleFor(width, height).line / 2)));
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(colorOf(0).slice(i, i + 2), 16));
  const out = Buffer.alloc(width * height * 4); // (h, w, 4), transparent where the mask is 0
  for (let i = 0; i < mask.data.length; i++) {
    if (!mask.data[i]) continue;
    out.set([r!, g!, b!, inner[i] ? 115 : 255], i * 4);
  }
  return out;
}

/**
 * The mask eroded by a (2r+1)² square: 1 where every pixel within r (Chebyshev) is in the mask. Outside the image counts
 * as in the mask, so an object cut by the image edge gets no rim along it. Two separable passes of window counts.
 */
function erode(mask: Bitmap, r: number): Uint8Array {
  const { width: w, height: h } = mask;
  const pass = (src: Uint8Array, n: number, lines: number, at: (line: number, k: number) => number): Uint8Array => {
    const dst = new Uint8Array(src.length);
    const zeros = new Int32Array(n + 1); // prefix counts of pixels outside the mask along one line
    for (let line = 0; line < lines; line++) {
      for (let k = 0; k < n; k++) zeros[k + 1] = zeros[k]! + (src[at(line, k)] ? 0 : 1);
      for (let k = 0; k < n; k++) dst[at(line, k)] = zeros[Math.min(n, k + r + 1)]! - zeros[Math.max(0, k - r)]! === 0 ? 1 : 0;
    }
    return dst;
  };
  const rows = pass(mask.data, w, h, (y, x) => y * w + x);
  return pass(rows, h, w, (x, y) => y * w + x);
}

function formatOf(outPath: string): OverlayFormat {
  const format = FORMATS[extname(outPath).toLowerCase()];
  if (!format) throw new OverlayError(`cannot write overlay ${outPath}: name a .png, .jpg or .webp file`);
  return format;
}

async function writeAtomic(path: string, bytes: Buffer): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message;
    throw new OverlayError(`cannot write overlay ${path}: ${why}`);
  }
}
