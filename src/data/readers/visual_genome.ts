// Visual Genome region descriptions, streamed one image at a time: [{id, regions: [region]}] where a region is
// v1.0 {id, image, x, y, width, height, phrase} or v1.2 {region_id, image_id, x, y, width, height, phrase};
// image_data.json gives each image's size and url (VG_100K/ or VG_100K_2/). https://visualgenome.org/api/v0/api_readme
// Dense-captioning splits (densecap's densecap_splits.json: {"train": [image ids], "val": [...], "test": [...]})
// name the split of each image.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { streamJson } from '../json_stream.ts';
import { array, At, BadRecords, id, int, num, object, readFailure, str } from '../records.ts';
import type { Example } from '../types.ts';

export interface VgImageInfo {
  width: number;
  height: number;
  /** path below the image root, from the url: `VG_100K_2/1.jpg` */
  file: string;
}

/** One image with its regions, for dense captioning. */
export interface VgImage {
  imageId: string;
  imagePath: string;
  width: number;
  height: number;
  split?: string;
  regions: Example[];
}

export interface VgOptions {
  /** image_data.json: sizes and folders (without it width and height are 0 and files are `<id>.jpg`) */
  imageData?: ReadonlyMap<string, VgImageInfo>;
  /** image id → split (readDensecapSplits); images in no split are left out */
  splits?: ReadonlyMap<string, string>;
  /** keep only these splits */
  only?: readonly string[];
  /** folder holding VG_100K/ and VG_100K_2/ */
  imageDir?: string;
  bad?: BadRecords;
}

/** image_data.json → image id → size and file. */
export async function readVgImageData(path: string, bad = new BadRecords()): Promise<Map<string, VgImageInfo>> {
  const out = new Map<string, VgImageInfo>();
  for await (const item of streamJson(path, {}, bad)) {
    bad.guard(() => {
      const o = object(item.at, item.value);
      const imageId = id(item.at.key('image_id'), o.image_id ?? o.id);
      const width = int(item.at.key('width'), o.width);
      const height = int(item.at.key('height'), o.height);
      const url = typeof o.url === 'string' ? o.url : '';
      const folder = /\/(VG_100K(?:_2)?)\/[^/]+$/.exec(url)?.[1];
      out.set(imageId, { width, height, file: folder ? `${folder}/${imageId}.jpg` : `${imageId}.jpg` });
    });
  }
  return out;
}

/** densecap_splits.json → image id → split name. */
export async function readDensecapSplits(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw readFailure(path, e);
  }
  const at = new At(path);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return at.fail(`not valid JSON (${(e as Error).message})`);
  }
  const out = new Map<string, string>();
  for (const [split, ids] of Object.entries(object(at, value))) {
    array(at.key(split), ids).forEach((v, i) => out.set(id(at.key(split).index(i), v), split));
  }
  return out;
}

function parseRegion(value: unknown, at: At, imageId: string, base: Omit<Example, 'id' | 'text' | 'box'>): Example {
  const o = object(at, value);
  const v12 = o.region_id !== undefined;
  const regionId = id(at.key(v12 ? 'region_id' : 'id'), v12 ? o.region_id : o.id);
  const owner = o.image_id ?? o.image;
  if (owner !== undefined && id(at.key(v12 ? 'image_id' : 'image'), owner) !== imageId) {
    at.key(v12 ? 'image_id' : 'image').fail(`region of image ${String(owner)} listed under image ${imageId}`);
  }
  const [x, y, w, h] = (['x', 'y', 'width', 'height'] as const).map((k) => num(at.key(k), o[k]));
  if (w <= 0 || h <= 0) at.fail(`region size ${w}×${h} is not positive`);
  const text = str(at.key('phrase'), o.phrase);
  return { ...base, id: regionId, text, box: [x, y, x + w, y + h], references: [text] };
}

/** The images of a region_descriptions.json (v1.0 or v1.2), each with its `regioncap` examples, streamed. */
export async function* readVgImages(path: string, options: VgOptions = {}): AsyncGenerator<VgImage> {
  const bad = options.bad ?? new BadRecords();
  for await (const item of streamJson(path, {}, bad)) {
    const image = bad.guard(() => {
      const o = object(item.at, item.value);
      const imageId = id(item.at.key('id'), o.id ?? o.image_id);
      const split = options.splits?.get(imageId);
      if (options.splits && split === undefined) return null;
      if (options.only && !options.only.includes(split ?? '')) return null;
      const info = options.imageData?.get(imageId);
      if (options.imageData && !info) item.at.key('id').fail(`image ${imageId} is not in image_data`);
      const file = info?.file ?? `${imageId}.jpg`;
      const base = {
        task: 'regioncap' as const,
        source: split ? `vg/${split}` : 'vg',
        imageId,
        imagePath: options.imageDir ? join(options.imageDir, file) : file,
        width: info?.width ?? 0,
        height: info?.height ?? 0,
      };
      const regions: Example[] = [];
      array(item.at.key('regions'), o.regions).forEach((r, i) => {
        const region = bad.guard(() => parseRegion(r, item.at.key('regions').index(i), imageId, base));
        if (region) regions.push(region);
      });
      return { imageId, imagePath: base.imagePath, width: base.width, height: base.height, split, regions };
    });
    if (image) yield image;
  }
}

/** The `regioncap` examples of a region_descriptions.json, one per region, streamed. */
export async function* readVgRegions(path: string, options: VgOptions = {}): AsyncGenerator<Example> {
  for await (const image of readVgImages(path, options)) yield* image.regions;
}
