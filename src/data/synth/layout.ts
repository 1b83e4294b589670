// A drawn scene: the sampled objects that stay clearly visible, the pixels, the label map and each object's visible
// region. Everything the language and the annotations say about an object is read from here.
import type { Rng } from './rng.ts';
import { sampleScene, type Background, type SceneObject, type SceneOptions } from './scene.ts';
import { footprint, fullAreas, labelMap, paint } from './raster.ts';
import { backgroundRegion, objectRegions, type Region } from './regions.ts';

/** An object as drawn, with what is seen of it. */
export interface Thing extends SceneObject, Region {
  /** index in drawing order, also its label in the label map and its position in the annotations */
  index: number;
  /** centre of the visible box: the position spatial words talk about */
  x: number;
  y: number;
}

export interface Layout {
  width: number;
  height: number;
  background: Background;
  backgroundRegion: Region;
  things: Thing[];
  labels: Int8Array; // (height, width), −1 for background
  rgb: Uint8ClampedArray; // (height, width, 3)
}

/** An object must keep this share of its own shape in view, or it is left out of the scene. */
const MIN_VISIBLE = 0.6;

export function drawScene(rng: Rng, opts: SceneOptions = {}): Layout {
  const scene = sampleScene(rng, opts);
  const { width, height } = scene;
  let objects = scene.objects;
  let prints = objects.map((o) => footprint(o, width, height));
  let labels = labelMap(prints, width, height);
  let regions = objectRegions(labels, width, height, objects.length);
  // a later object may hide too much of an earlier one; drop the most hidden until every object is clearly visible
  for (;;) {
    const full = fullAreas(prints);
    const shown = regions.map((r, i) => r.area / Math.max(1, full[i]!));
    const worst = shown.indexOf(Math.min(...shown));
    if (objects.length === 0 || shown[worst]! >= MIN_VISIBLE) break;
    const keep = (_: unknown, i: number): boolean => i !== worst;
    objects = objects.filter(keep);
    prints = prints.filter(keep);
    labels = labelMap(prints, width, height);
    regions = objectRegions(labels, width, height, objects.length);
  }
  const things = objects.map((o, index): Thing => {
    const r = regions[index]!;
    return { ...o, ...r, index, x: (r.box[0] + r.box[2]) / 2, y: (r.box[1] + r.box[3]) / 2 };
  });
  return {
    width, height, background: scene.background, backgroundRegion: backgroundRegion(labels, width, height), things, labels,
    rgb: paint({ ...scene, objects }, prints),
  };
}
