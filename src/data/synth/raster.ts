// The rasteriser: each object's signed distance over its own pixel window, the label map of which object is seen at
// each pixel, and painting into an RGB buffer with anti-aliased edges, an outline and a texture.
import type { Background, Scene, SceneObject } from './scene.ts';
import { SDF } from './shapes.ts';
import { BACKGROUND_COLOURS, type RGB } from './vocab.ts';

/** An object's signed distance in pixels at the centres of the pixels of its window [x0, x0 + w) × [y0, y0 + h). */
export interface Footprint {
  x0: number;
  y0: number;
  w: number;
  h: number;
  sdf: Float32Array; // (h, w)
}

/** Width in pixels of the darker edge drawn inside an object's outline. */
export const outlineWidth = (o: SceneObject): number => Math.max(1, 0.025 * o.extent);

/** Side of the pixel blocks the distance is first taken at (see footprint). */
const BLOCK = 4;

export function footprint(o: SceneObject, width: number, height: number): Footprint {
  const reach = 0.75 * o.extent + 2;
  const x0 = Math.max(0, Math.floor(o.cx - reach));
  const y0 = Math.max(0, Math.floor(o.cy - reach));
  const w = Math.min(width, Math.ceil(o.cx + reach)) - x0;
  const h = Math.min(height, Math.ceil(o.cy + reach)) - y0;
  const sdf = new Float32Array(w * h);
  const f = SDF[o.shape];
  const cos = Math.cos(o.rotation) / o.extent;
  const sin = Math.sin(o.rotation) / o.extent;
  const at = (x: number, y: number): number => {
    const dx = x0 + x + 0.5 - o.cx;
    const dy = y0 + y + 0.5 - o.cy;
    return f(dx * cos + dy * sin, -dx * sin + dy * cos) * o.extent; // rotate into the shape's frame
  };
  // A distance changes by at most 1 per pixel, so where a block's centre is further from the edge than the block's
  // half-diagonal plus the anti-aliasing and outline band, every pixel of it is wholly inside or outside: it takes the
  // centre's value (same sign, same painted colour) and only blocks near the edge are computed pixel by pixel.
  const band = ((BLOCK - 1) * Math.SQRT2) / 2 + outlineWidth(o) + 1;
  for (let by = 0; by < h; by += BLOCK) {
    for (let bx = 0; bx < w; bx += BLOCK) {
      const centre = at(bx + (BLOCK - 1) / 2, by + (BLOCK - 1) / 2);
      const far = Math.abs(centre) > band;
      for (let y = by; y < Math.min(h, by + BLOCK); y++) {
        for (let x = bx; x < Math.min(w, bx + BLOCK); x++) sdf[y * w + x] = far ? centre : at(x, y);
      }
    }
  }
  return { x0, y0, w, h, sdf };
}

/**
 * Which object is seen at each pixel (−1: background). A pixel belongs to an object when at least half of it is
 * covered (distance ≤ 0 at its centre) and no later object covers half of it: the same rule as the painted image.
 */
export function labelMap(prints: Footprint[], width: number, height: number): Int8Array {
  const labels = new Int8Array(width * height).fill(-1);
  prints.forEach((p, i) => {
    for (let y = 0; y < p.h; y++) {
      for (let x = 0; x < p.w; x++) if (p.sdf[y * p.w + x]! <= 0) labels[(p.y0 + y) * width + p.x0 + x] = i;
    }
  });
  return labels;
}

/** Pixels of each object's full shape (covered or not): the denominator of how much of it is visible. */
export function fullAreas(prints: Footprint[]): number[] {
  return prints.map(({ sdf }) => {
    let n = 0;
    for (let i = 0; i < sdf.length; i++) if (sdf[i]! <= 0) n++;
    return n;
  });
}

/** The scene as packed RGB, (height, width, 3). */
export function paint(scene: Scene, prints: Footprint[]): Uint8ClampedArray {
  const rgb = new Uint8ClampedArray(scene.width * scene.height * 3);
  paintBackground(rgb, scene.width, scene.height, scene.background);
  scene.objects.forEach((o, i) => paintObject(rgb, scene.width, o, prints[i]!));
  return rgb;
}

function paintBackground(rgb: Uint8ClampedArray, width: number, height: number, bg: Background): void {
  const top = BACKGROUND_COLOURS[bg.top];
  const bottom = BACKGROUND_COLOURS[bg.bottom];
  const row: RGB = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    let t = 0;
    if (bg.kind === 'gradient') t = y / Math.max(1, height - 1);
    else if (bg.kind === 'split') t = Math.min(1, Math.max(0, (y + 0.5 - bg.param * height) / 2 + 0.5)); // a 2-pixel soft edge
    for (let c = 0; c < 3; c++) row[c] = top[c]! + t * (bottom[c]! - top[c]!);
    for (let x = 0; x < width; x++) {
      let shade = 0;
      if (bg.kind === 'grainy') shade = ((hash(x + bg.param, y) & 31) - 15.5) * 0.9;
      else if (bg.kind === 'tiled' && (x % bg.param < 2 || y % bg.param < 2)) shade = -28;
      const k = 3 * (y * width + x);
      for (let c = 0; c < 3; c++) rgb[k + c] = row[c]! + shade;
    }
  }
}

function hash(x: number, y: number): number {
  let h = Math.imul(x, 0x27d4eb2d) ^ Math.imul(y, 0x165667b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

const mix = (a: RGB, b: RGB, t: number): RGB => [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2])];
const WHITE: RGB = [255, 255, 255];
const BLACK: RGB = [0, 0, 0];

/** A square wave of period `period` pixels with values ±0.5 and a one-pixel linear ramp at each edge (anti-aliased). */
function square(s: number, period: number): number {
  return Math.min(0.5, Math.max(-0.5, (Math.sin((Math.PI * s) / period) * period) / Math.PI));
}

function paintObject(rgb: Uint8ClampedArray, width: number, o: SceneObject, p: Footprint): void {
  const luma = 0.299 * o.rgb[0] + 0.587 * o.rgb[1] + 0.114 * o.rgb[2];
  const second = luma < 150 ? mix(o.rgb, WHITE, 0.55) : mix(o.rgb, BLACK, 0.35); // the texture's other tone
  const edge = luma < 60 ? mix(o.rgb, WHITE, 0.35) : mix(o.rgb, BLACK, 0.5);
  const outline = outlineWidth(o);
  const period = Math.max(7, 0.2 * o.extent);
  const cos = Math.cos(o.rotation);
  const sin = Math.sin(o.rotation);
  for (let y = 0; y < p.h; y++) {
    const dy = p.y0 + y + 0.5 - o.cy;
    for (let x = 0; x < p.w; x++) {
      const d = p.sdf[y * p.w + x]!;
      const alpha = Math.min(1, Math.max(0, 0.5 - d));
      if (alpha === 0) continue;
      const inner = Math.min(1, Math.max(0, 0.5 - d - outline));
      const dx = p.x0 + x + 0.5 - o.cx;
      const u = dx * cos + dy * sin; // pixels along the shape's own axes, so the texture turns with it
      const v = -dx * sin + dy * cos;
      let t = 0;
      if (o.texture === 'striped') t = 0.5 + square((u + v) * Math.SQRT1_2, period);
      else if (o.texture === 'checkered') t = 0.5 + 2 * square(u, period) * square(v, period);
      else if (o.texture === 'dotted') {
        const fx = u / period - Math.round(u / period);
        const fy = v / period - Math.round(v / period);
        t = Math.min(1, Math.max(0, 0.5 + (0.28 - Math.hypot(fx, fy)) * period));
      }
      const k = 3 * ((p.y0 + y) * width + p.x0 + x);
      for (let c = 0; c < 3; c++) {
        const fill = o.rgb[c]! + t * (second[c]! - o.rgb[c]!);
        const colour = fill * inner + edge[c]! * (alpha - inner);
        rgb[k + c] = rgb[k + c]! * (1 - alpha) + colour;
      }
    }
  }
}
