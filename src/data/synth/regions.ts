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

/** The visible region of each object 0..count−1 (area 0 and an empty box when nothing of it is seen). */
export function objectRegions(labels: Int8Array, width: number, height: number, count: number): Region[] {
  const box = Array.from({ length: count }, (): Box => [width, height, 0, 0]);
  const area = new Array<number>(count).fill(0);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = labels[y * width + x]!;
      if (l < 0) continue;
      const b = box[l]!;
      if (x < b[0]) b[0] = x;
      if (y < b[1]) b[1] = y;
      if (x + 1 > b[2]) b[2] = x + 1;
      if (y + 1 > b[3]) b[3] = y + 1;
      area[l]!++;
    }
  }
  return box.map((b, l) => (area[l] === 0 ? { box: [0, 0, 0, 0], area: 0, anchor: [0, 0], clearance: 0 } : deepest(labels, width, height, l, b, area[l]!)));
}

/** The background's deepest point: the middle of its largest empty stretch. */
export function backgroundRegion(labels: Int8Array, width: number, height: number): Region {
  let area = 0;
  for (const l of labels) if (l < 0) area++;
  return deepest(labels, width, height, -1, [0, 0, width, height], area);
}

/**
 * Chamfer (3-4) distance from each pixel of `label` in `box` to the nearest pixel that is not (the image border counts
 * as not), then the anchor: of the pixels at least 0.8 × the largest distance deep, the one nearest the centroid.
 */
function deepest(labels: Int8Array, width: number, height: number, label: number, box: Box, area: number): Region {
  const [x0, y0, x1, y1] = box;
  const w = x1 - x0 + 2; // one pixel of margin on each side, which is outside by construction
  const h = y1 - y0 + 2;
  const d = new Float32Array(w * h);
  let sx = 0;
  let sy = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      if (labels[(y0 + y - 1) * width + x0 + x - 1] === label) {
        d[y * w + x] = Infinity;
        sx += x0 + x - 0.5;
        sy += y0 + y - 0.5;
      }
    }
  }
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      if (d[i] !== 0) d[i] = Math.min(d[i]!, d[i - 1]! + 3, d[i - w]! + 3, d[i - w - 1]! + 4, d[i - w + 1]! + 4);
    }
  }
  let best = 0;
  for (let y = h - 2; y >= 1; y--) {
    for (let x = w - 2; x >= 1; x--) {
      const i = y * w + x;
      if (d[i] !== 0) d[i] = Math.min(d[i]!, d[i + 1]! + 3, d[i + w]! + 3, d[i + w + 1]! + 4, d[i + w - 1]! + 4);
      if (d[i]! > best) best = d[i]!;
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
