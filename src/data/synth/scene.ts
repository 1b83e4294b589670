// Scene sampling: image size, background, and 1–8 objects with their attributes and placement. Attributes are drawn so
// that objects often share a shape or a colour with another one, and some are exact look-alikes: those are the
// distractors that make a referring expression need size, texture, position or an ordinal to be unique.
import type { Rng } from './rng.ts';
import {
  BACKGROUND_COLOURS, BACKGROUND_COLOUR_NAMES, BACKGROUND_KINDS, COLOURS, COLOUR_NAMES, SHAPES, SIZES, SIZE_RANGE,
  TEXTURES, type BackgroundColour, type BackgroundKind, type Colour, type RGB, type Shape, type Size, type Texture,
} from './vocab.ts';
import { MAX_ROTATION } from './shapes.ts';

export interface SceneObject {
  shape: Shape;
  colour: Colour;
  size: Size;
  texture: Texture;
  /** the fill colour actually drawn: the named colour with a little jitter */
  rgb: RGB;
  /** centre in pixels */
  cx: number;
  cy: number;
  /** side of the d×d box the shape fits, in pixels */
  extent: number;
  rotation: number;
}

export interface Background {
  kind: BackgroundKind;
  /** `top` is the only colour of plain/grainy/tiled backgrounds; gradient and split go from top to bottom */
  top: BackgroundColour;
  bottom: BackgroundColour;
  /** split: the row of the boundary as a fraction of the height; tiled: the tile period in pixels; grainy: noise seed */
  param: number;
}

export interface Scene {
  width: number;
  height: number;
  background: Background;
  /** in drawing order: later objects are drawn over earlier ones */
  objects: SceneObject[];
}

export interface SceneOptions {
  /** fixed image size; by default each image draws its own (128–512 px, aspect 1:2 to 2:1) */
  width?: number;
  height?: number;
}

/** Relative weights of 1..8 objects per image. */
const COUNT_WEIGHTS = [1, 2, 3, 3, 3, 3, 2, 2];
/** Chance that an object copies every attribute of an earlier one (a look-alike), or shares its shape or colour. */
const P_LOOKALIKE = 0.3;
const P_SHARE = 0.35;
/** Chance that an object may partly cover one placed before it. */
const P_OCCLUDER = 0.3;
/** Object colours must stand out from the background by at least this RGB distance. */
const MIN_CONTRAST = 100;

export function sampleScene(rng: Rng, opts: SceneOptions = {}): Scene {
  const [width, height] = opts.width && opts.height ? [opts.width, opts.height] : sampleSize(rng);
  const background = sampleBackground(rng, width, height);
  const palette = COLOUR_NAMES.filter((c) => contrast(COLOURS[c], background) >= MIN_CONTRAST);
  const n = 1 + rng.weighted(COUNT_WEIGHTS);
  const objects: SceneObject[] = [];
  for (let i = 0; i < n; i++) {
    const { a, model } = sampleAttributes(rng, objects, palette);
    const o = placeObject(rng, a, model, objects, width, height);
    if (o) objects.push(o);
  }
  return { width, height, background, objects };
}

function sampleSize(rng: Rng): [number, number] {
  const aspect = rng.chance(0.25) ? 1 : Math.exp(rng.uniform(Math.log(0.5), Math.log(2))); // width / height
  const ratio = Math.max(aspect, 1 / aspect);
  const long = Math.round(rng.uniform(128 * ratio, 512));
  const short = Math.max(128, Math.round(long / ratio));
  return aspect >= 1 ? [long, short] : [short, long];
}

function sampleBackground(rng: Rng, width: number, height: number): Background {
  const kind = rng.pick(BACKGROUND_KINDS);
  const top = rng.pick(BACKGROUND_COLOUR_NAMES);
  const two = kind === 'gradient' || kind === 'split';
  const bottom = two ? rng.pick(BACKGROUND_COLOUR_NAMES.filter((c) => c !== top)) : top;
  const param = kind === 'split' ? rng.uniform(0.35, 0.65)
    : kind === 'tiled' ? Math.round(Math.min(width, height) * rng.uniform(0.12, 0.2))
    : kind === 'grainy' ? rng.int(0, 1 << 20) : 0;
  return { kind, top, bottom, param };
}

function contrast(rgb: RGB, bg: Background): number {
  const d = (c: RGB): number => Math.hypot(rgb[0] - c[0], rgb[1] - c[1], rgb[2] - c[2]);
  return Math.min(d(BACKGROUND_COLOURS[bg.top]), d(BACKGROUND_COLOURS[bg.bottom]));
}

type Attributes = Pick<SceneObject, 'shape' | 'colour' | 'size' | 'texture'>;

/** New attributes, and the earlier object they copy when the new object is its look-alike. */
function sampleAttributes(rng: Rng, earlier: SceneObject[], palette: Colour[]): { a: Attributes; model?: SceneObject } {
  const fresh: Attributes = { shape: rng.pick(SHAPES), colour: rng.pick(palette), size: rng.pick(SIZES), texture: sampleTexture(rng) };
  if (earlier.length === 0) return { a: fresh };
  const model = rng.pick(earlier);
  const u = rng.next();
  if (u < P_LOOKALIKE && earlier.filter((o) => lookalike(o, model)).length < 3) return { a: model, model };
  if (u < P_LOOKALIKE + P_SHARE) return { a: rng.chance(0.5) ? { ...fresh, shape: model.shape } : { ...fresh, colour: model.colour } };
  return { a: fresh };
}

function sampleTexture(rng: Rng): Texture {
  return TEXTURES[rng.weighted([4, 1, 1, 1])]!; // plain half the time, so a texture word is informative
}

const lookalike = (a: Attributes, b: Attributes): boolean =>
  a.shape === b.shape && a.colour === b.colour && a.size === b.size && a.texture === b.texture;

/**
 * Finds a free spot for the object, or null. An occluder is first tried partly over one earlier object (never over a
 * look-alike, so look-alikes stay apart and each keeps a place that words can pick out).
 */
function placeObject(rng: Rng, a: Attributes, model: SceneObject | undefined, placed: SceneObject[], width: number, height: number): SceneObject | null {
  const [lo, hi] = SIZE_RANGE[a.size];
  const extent = model ? model.extent * rng.uniform(0.97, 1.03) : Math.min(width, height) * rng.uniform(lo, hi);
  const rotation = MAX_ROTATION[a.shape] === Math.PI ? rng.uniform(-Math.PI, Math.PI) : rng.uniform(-1, 1) * MAX_ROTATION[a.shape];
  const half = 0.5 * extent * (Math.abs(Math.cos(rotation)) + Math.abs(Math.sin(rotation))) + 1;
  const base = COLOURS[a.colour];
  const rgb = base.map((v) => Math.max(0, Math.min(255, Math.round(v + rng.uniform(-10, 10))))) as RGB;
  const others = placed.filter((o) => !lookalike(o, a));
  const under = others.length > 0 && rng.chance(P_OCCLUDER) ? rng.pick(others) : undefined;
  for (let attempt = 0; attempt < 40; attempt++) {
    let cx = rng.uniform(half, width - half);
    let cy = rng.uniform(half, height - half);
    if (under && attempt < 20) {
      const angle = rng.uniform(-Math.PI, Math.PI);
      const reach = rng.uniform(0.6, 0.95) * 0.5 * (extent + under.extent);
      [cx, cy] = [under.cx + reach * Math.cos(angle), under.cy + reach * Math.sin(angle)];
      if (cx < half || cx > width - half || cy < half || cy > height - half) continue;
    }
    const fits = placed.every((o) => Math.hypot(cx - o.cx, cy - o.cy) / (0.5 * (extent + o.extent)) >= (o === under ? 0.6 : 1.05));
    if (fits) return { ...a, rgb, cx, cy, extent, rotation };
  }
  return null;
}
