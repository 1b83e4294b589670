// Shared by the batch tests: a tiny word tokenizer (the real ones land with the tokenizers branch) and Examples built
// straight from the coco-mini annotation files (the dataset readers land with the readers branch).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Box, Example, UtteranceTarget } from '../src/data/types.ts';
import type { TextTokenizer } from '../src/data/batch/index.ts';

const repo = resolve(fileURLToPath(import.meta.url), '../..');
export const COCO = join(repo, '../shared/data/coco-mini');

/** Lower-cased words and punctuation marks, each hashed to an id in 3..1002; 0 pad, 1 BOS, 2 EOS. */
export const wordTokenizer: TextTokenizer = {
  pad: 0,
  bos: 1,
  eos: 2,
  encode(text: string): number[] {
    return (text.toLowerCase().match(/[a-z]+|[0-9]+|[^\sa-z0-9]/g) ?? []).map((w) => {
      let h = 0x811c9dc5;
      for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193);
      return 3 + ((h >>> 0) % 1000);
    });
  },
};

interface CocoImage { id: number; file_name: string; width: number; height: number }
interface CocoInstances {
  images: CocoImage[];
  annotations: { id: number; image_id: number; bbox: [number, number, number, number]; category_id: number; iscrowd: number; segmentation: Example['segmentation'] }[];
  categories: { id: number; name: string }[];
}

function load<T>(name: string): T {
  return JSON.parse(readFileSync(join(COCO, 'annotations', name), 'utf8')) as T;
}

function imageFields(im: CocoImage): Pick<Example, 'imageId' | 'imagePath' | 'width' | 'height'> {
  return { imageId: String(im.id), imagePath: join(COCO, 'val2017', im.file_name), width: im.width, height: im.height };
}

/** COCO val captions as `caption` examples. */
export function cocoCaptions(): Example[] {
  const json = load<{ images: CocoImage[]; annotations: { id: number; image_id: number; caption: string }[] }>('captions_val2017.json');
  const images = new Map(json.images.map((im) => [im.id, im]));
  return json.annotations.map((a) => ({
    task: 'caption', source: 'coco/val', id: String(a.id), ...imageFields(images.get(a.image_id)!), text: a.caption,
  }));
}

/** COCO val instances as `refer` examples ("the <category>", the instance's box and polygons). */
export function cocoRefs(): Example[] {
  const json = load<CocoInstances>('instances_val2017.json');
  const images = new Map(json.images.map((im) => [im.id, im]));
  const names = new Map(json.categories.map((c) => [c.id, c.name]));
  return json.annotations.filter((a) => !a.iscrowd).map((a) => {
    const [x, y, w, h] = a.bbox;
    const box: Box = [x, y, x + w, y + h];
    return {
      task: 'refer', source: 'coco-refs/val', id: String(a.id), ...imageFields(images.get(a.image_id)!),
      text: `the ${names.get(a.category_id)} on the left`, box, segmentation: a.segmentation,
    };
  });
}

/**
 * Narrative-style `trace` examples: per image, one utterance per instance ("a <category>") whose trace box is the
 * instance box in fractions, and a caption joining them.
 */
export function cocoNarratives(): Example[] {
  const json = load<CocoInstances>('instances_val2017.json');
  const names = new Map(json.categories.map((c) => [c.id, c.name]));
  return json.images.map((im) => {
    const anns = json.annotations.filter((a) => a.image_id === im.id).slice(0, 6);
    const utterances: UtteranceTarget[] = anns.map((a) => {
      const [x, y, w, h] = a.bbox;
      return {
        utterance: `a ${names.get(a.category_id)}`,
        box: [x / im.width, y / im.height, (x + w) / im.width, (y + h) / im.height],
        center: [(x + w / 2) / im.width, (y + h / 2) / im.height],
      };
    });
    return {
      task: 'trace', source: 'ln-style/val', id: `${im.id}:0`, ...imageFields(im),
      text: `In this image I can see ${utterances.map((u) => u.utterance).join(', ')}.`, utterances,
    };
  });
}
