// COCO annotation files (captions_*.json, instances_*.json, and the refer toolkit's instances.json), streamed:
// {images: [{id, file_name, width, height}], annotations: [...], categories: [{id, name}]}.
// https://cocodataset.org/#format-data
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { streamJson } from '../json_stream.ts';
import { MaskError, segmentationToRle } from '../mask.ts';
import { array, At, BadRecords, id, int, num, numbers, object, str } from '../records.ts';
import type { Box, Example, Segmentation } from '../types.ts';

export interface CocoImage {
  id: string;
  file_name: string;
  width: number;
  height: number;
}

export interface CocoAnnotation {
  id: string;
  image_id: string;
  category_id: number;
  /** COCO's [x, y, w, h] converted to [x0, y0, x1, y1] */
  box: Box;
  segmentation?: Segmentation;
  iscrowd: boolean;
}

export interface CocoOptions {
  /** folder of the images (default: `../<split>` beside an `annotations/<kind>_<split>.json` file, if it exists) */
  imageDir?: string;
  /** the Example source (default: `coco/<split>` from the file name) */
  source?: string;
  bad?: BadRecords;
}

/** `captions_val2017.json` → `val2017`; undefined for other names. */
export function cocoSplit(path: string): string | undefined {
  return /^[a-z_]+?_([A-Za-z0-9]+)\.json$/.exec(basename(path))?.[1];
}

function defaults(path: string, options: CocoOptions): { imageDir: string; source: string } {
  const split = cocoSplit(path);
  // COCO keeps images in ../<split> beside annotations/; the synthetic set (and many copies) in ../images
  const candidates = [split ? join(dirname(path), '..', split) : undefined, join(dirname(path), '..', 'images')];
  return {
    imageDir: options.imageDir ?? candidates.find((d) => d !== undefined && existsSync(d)) ?? dirname(path),
    source: options.source ?? (split ? `coco/${split}` : 'coco'),
  };
}

export function parseCocoImage(value: unknown, at: At): CocoImage {
  const o = object(at, value);
  const width = int(at.key('width'), o.width);
  const height = int(at.key('height'), o.height);
  if (width <= 0 || height <= 0) at.fail(`image size ${width}×${height} is not positive`);
  return { id: id(at.key('id'), o.id), file_name: str(at.key('file_name'), o.file_name), width, height };
}

/** COCO's [x, y, w, h] → [x0, y0, x1, y1]; a negative width or height is malformed. */
export function cocoBox(at: At, value: unknown): Box {
  const [x, y, w, h] = numbers(at, value, 4);
  if (w < 0 || h < 0) at.fail(`box [x, y, w, h] = ${JSON.stringify(value)} has a negative size`);
  return [x, y, x + w, y + h];
}

/** Checks a segmentation against its image: polygons of x, y pairs, or RLE whose size is the image's and whose counts cover it. */
export function checkSegmentation(at: At, value: unknown, image: CocoImage | undefined): Segmentation {
  if (Array.isArray(value)) {
    value.forEach((poly, i) => {
      const xy = array(at.index(i), poly);
      if (xy.length < 2 || xy.length % 2 !== 0) at.index(i).fail(`a polygon needs x, y pairs, got ${xy.length} numbers`);
      xy.forEach((v, j) => num(at.index(i).index(j), v));
    });
    return value as number[][];
  }
  const rle = object(at, value);
  const [h, w] = numbers(at.key('size'), rle.size, 2);
  if (typeof rle.counts !== 'string') array(at.key('counts'), rle.counts).forEach((c, i) => int(at.key('counts').index(i), c));
  try {
    segmentationToRle(value as Segmentation, image?.height ?? h, image?.width ?? w);
  } catch (e) {
    if (e instanceof MaskError) at.fail(e.message);
    throw e;
  }
  return value as Segmentation;
}

/** One object annotation; with `images`, its image must be one of them and an RLE must match the image's size. */
export function parseCocoAnnotation(value: unknown, at: At, images?: ReadonlyMap<string, CocoImage>): CocoAnnotation {
  const o = object(at, value);
  const imageId = id(at.key('image_id'), o.image_id);
  const image = images?.get(imageId);
  if (images && !image) at.key('image_id').fail(`image ${imageId} is not in the file's images`);
  return {
    id: id(at.key('id'), o.id),
    image_id: imageId,
    category_id: int(at.key('category_id'), o.category_id),
    box: cocoBox(at.key('bbox'), o.bbox),
    // an empty polygon list is no mask
    segmentation: o.segmentation === undefined || (Array.isArray(o.segmentation) && o.segmentation.length === 0)
      ? undefined : checkSegmentation(at.key('segmentation'), o.segmentation, image),
    iscrowd: o.iscrowd === undefined ? false : int(at.key('iscrowd'), o.iscrowd) === 1,
  };
}

/** The images (by id) and category names (by id) of a COCO file; the annotations are scanned past, not parsed. */
export async function readCocoImages(path: string, bad = new BadRecords()): Promise<{ images: Map<string, CocoImage>; categories: Map<number, string> }> {
  const images = new Map<string, CocoImage>();
  const categories = new Map<number, string>();
  let sawImages = false;
  const onKey = (key: string): void => {
    sawImages ||= key === 'images';
  };
  for await (const item of streamJson(path, { keys: ['images', 'categories'], onKey }, bad)) {
    if (item.key === '') item.at.fail('expected an object with "images" and "annotations", found a list: not a COCO annotation file');
    if (item.key === 'images') {
      if (item.index < 0) item.at.fail('expected a list of images');
      const image = bad.guard(() => parseCocoImage(item.value, item.at));
      if (image) images.set(image.id, image);
    } else if (item.key === 'categories' && item.index >= 0) {
      bad.guard(() => {
        const o = object(item.at, item.value);
        categories.set(int(item.at.key('id'), o.id), str(item.at.key('name'), o.name));
      });
    }
  }
  if (!sawImages) new At(path).fail('no "images" list: not a COCO annotation file');
  return { images, categories };
}

/** The annotations of a COCO file, each through `parse` (a DataError goes to `bad`), streamed in file order. */
export async function* readCocoAnnotations<T>(path: string, parse: (value: unknown, at: At) => T, bad = new BadRecords()): AsyncGenerator<T> {
  for await (const item of streamJson(path, { keys: ['annotations'] }, bad)) {
    if (item.index < 0) item.at.fail('expected a list of annotations');
    const a = bad.guard(() => parse(item.value, item.at));
    if (a !== undefined) yield a;
  }
}

/**
 * `caption` examples from captions_*.json: one per caption, its references every caption of the same image.
 * The captions are grouped per image before the first is yielded (about 40 MB of text for COCO train).
 */
export async function* readCocoCaptions(path: string, options: CocoOptions = {}): AsyncGenerator<Example> {
  const bad = options.bad ?? new BadRecords();
  const { imageDir, source } = defaults(path, options);
  const { images } = await readCocoImages(path, bad);
  const captions: { id: string; imageId: string; text: string }[] = [];
  const byImage = new Map<string, string[]>();
  const parse = (value: unknown, at: At) => {
    const o = object(at, value);
    const imageId = id(at.key('image_id'), o.image_id);
    if (!images.has(imageId)) at.key('image_id').fail(`image ${imageId} is not in the file's images`);
    return { id: id(at.key('id'), o.id), imageId, text: str(at.key('caption'), o.caption) };
  };
  for await (const c of readCocoAnnotations(path, parse, bad)) {
    captions.push(c);
    const refs = byImage.get(c.imageId) ?? [];
    refs.push(c.text);
    byImage.set(c.imageId, refs);
  }
  for (const c of captions) {
    const image = images.get(c.imageId)!;
    yield {
      task: 'caption', source, id: c.id, imageId: c.imageId, imagePath: join(imageDir, image.file_name),
      width: image.width, height: image.height, text: c.text, references: byImage.get(c.imageId),
    };
  }
}

/**
 * `regioncap` examples from instances_*.json: each object's box and segmentation with its category name as the
 * caption (as GRiT trains object captioning on detection data). Crowd regions are left out unless asked.
 */
export async function* readCocoInstances(path: string, options: CocoOptions & { includeCrowd?: boolean } = {}): AsyncGenerator<Example> {
  const bad = options.bad ?? new BadRecords();
  const { imageDir, source } = defaults(path, options);
  const { images, categories } = await readCocoImages(path, bad);
  const parse = (value: unknown, at: At) => {
    const a = parseCocoAnnotation(value, at, images);
    const name = categories.get(a.category_id);
    if (name === undefined) return at.key('category_id').fail(`category ${a.category_id} is not in the file's categories`);
    return { ...a, name };
  };
  for await (const a of readCocoAnnotations(path, parse, bad)) {
    if (a.iscrowd && !options.includeCrowd) {
      bad.drop('crowd region');
      continue;
    }
    const image = images.get(a.image_id)!;
    yield {
      task: 'regioncap', source, id: a.id, imageId: a.image_id, imagePath: join(imageDir, image.file_name),
      width: image.width, height: image.height, text: a.name, box: a.box, segmentation: a.segmentation, references: [a.name],
    };
  }
}
