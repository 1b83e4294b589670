// What is visible of each object once others cover it (its box, area and a good point to point at), and the same for
// the background. Boxes and areas come from the label map, so they are exactly the extents of the written masks.
import type { Box, Point } from '../types.ts';

export interface Region {
  /** [x0, y0, x1, y1] in pixel edges: the visible pixels span columns x0..x1−1 and rows y0..y1−1 */
  box: Box;
  area: number;
  /** a point deep inside the visible part, near its centre of mass: where a person points at it */
  anchor: Point;
  /** distance in pixels from the anchor to the nearest pixel that is not part of the region */
  clearance: number;
}

/** Chamfer distance of a pixel not yet reached (larger than any image's distances). */
const FAR = 1 << 29;

/** The visible region of each object 0..count−1 (area 0 and an empty box when nothing of it is seen). */
export function objectRegions(labels: Int8Array, width: number, height: number, count: number): Region[] {
  const bounds = new Int32Array(4 * count); // x0, y0, x1, y1 per object
  for (let l = 0; l < count; l++) bounds.set([width, height, 0, 0], 4 * l);
  const area = new Int32Array(count);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = labels[y * width + x]!;
      if (l < 0) continue;
      const b = 4 * l;
      if (x < bounds[b]!) bounds[b] = x;
      if (y < bounds[b + 1]!) bounds[b + 1] = y;
      if (x >= bounds[b + 2]!) bounds[b + 2] = x + 1;
      if (y >= bounds[b + 3]!) bounds[b + 3] = y + 1;
      area[l]!++;
    }
  }
  return Array.from({ length: count }, (_, l): Region => {
    const box: Box = [bounds[4 * l]!, bounds[4 * l + 1]!, bounds[4 * l + 2]!, bounds[4 * l + 3]!];
    return area[l] === 0 ? { box: [0, 0, 0, 0], area: 0, anchor: [0, 0], clearance: 0 } : deepest(labels, width, l, box, area[l]!);
  });
}

/** The background's deepest point: the middle of its largest empty stretch. */
export function backgroundRegion(labels: Int8Array, width: number, height: number): Region {
  let area = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! < 0) area++;
  return deepest(labels, width, -1, [0, 0, width, height], area);
}

/**
 * Chamfer (3-4) distance from each pixel of `label` in `box` to the nearest pixel that is not (the image border counts
 * as not), then the anchor: of the pixels at least 0.8 × the largest distance deep, the one nearest the centroid.
 */
function deepest(labels: Int8Array, width: number, label: number, box: Box, area: number): Region {
  const [x0, y0, x1, y1] = box;
  const w = x1 - x0 + 2; // one pixel of margin on each side, which is outside by construction
  const h = y1 - y0 + 2;
  const d = new Int32Array(w * h);
  let sx = 0;
  let sy = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      if (labels[(y0 + y - 1) * width + x0 + x - 1] === label) {
        d[y * w + x] = FAR;
        sx += x0 + x - 0.5;
        sy += y0 + y - 0.5;
      }
    }
  }
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (d[i] === 0) continue;
      let v = d[i]!;
      v = Math.min(v, d[i - 1]! + 3, d[i - w]! + 3);
      v = Math.min(v, d[i - w - 1]! + 4, d[i - w + 1]! + 4);
      d[i] = v;
    }
  }
  let best = 0;
  for (let y = h - 2; y >= 1; y--) {
    for (let x = w - 2; x >= 1; x--) {
      const i = y * w + x;
      if (d[i] === 0) continue;
      let v = d[i]!;
      v = Math.min(v, d[i + 1]! + 3, d[i + w]! + 3);
      v = Math.min(v, d[i + w + 1]! + 4, d[i + w - 1]! + 4);
      d[i] = v;
      if (v > best) best = v;
    }
  }
  const [cx, cy] = [sx / area, sy / area];
  let anchor: Point = [0, 0];
  let nearest = Infinity;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      if (d[y * w + x]! < 0.8 * best) continue;
      const [px, py] = [x0 + x - 0.5, y0 + y - 0.5]; // the pixel's centre in image coordinates
      const r = (px - cx) ** 2 + (py - cy) ** 2;
      if (r < nearest) [nearest, anchor] = [r, [px, py]];
    }
  }
  const clearance = Math.max(0.5, (d[Math.round(anchor[1] - y0 + 0.5) * w + Math.round(anchor[0] - x0 + 0.5)]! / 3) - 0.5);
  return { box, area, anchor, clearance };
}
