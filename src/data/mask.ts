// Binary masks in COCO's formats, computed exactly as pycocotools computes them (its maskApi.c):
// run-length encoding over the column-major (Fortran) order of an (h, w) mask, starting with a run of zeros; the
// compressed string form (5 bits a character, offset 48, each count after the second stored as the difference to
// the count two places before it); polygons rasterised by pycocotools' 5× upsampled boundary walk.
// https://github.com/cocodataset/cocoapi/blob/master/common/maskApi.c
import { UserError } from '../errors.ts';
import type { Segmentation } from './types.ts';

/** An uncompressed RLE: `size` is [h, w]; `counts` alternate runs of 0s and 1s in column-major order. */
export interface Rle {
  size: [number, number];
  counts: number[];
}

/** A binary mask as the project holds it: row-major (h, w), one byte a pixel, 0 or 1. */
export interface Bitmap {
  height: number;
  width: number;
  data: Uint8Array;
}

/** A segmentation that cannot be read; the message names the problem. */
export class MaskError extends UserError {
  override name = 'MaskError';
}

export function encodeBitmap(mask: Bitmap): Rle {
  const { height: h, width: w, data } = mask;
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = data[y * w + x] ? 1 : 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return { size: [h, w], counts };
}

export function decodeRle(rle: Rle): Bitmap {
  const [h, w] = rle.size;
  const data = new Uint8Array(h * w);
  let t = 0; // position in column-major order
  for (let j = 0; j < rle.counts.length; j++) {
    const end = t + rle.counts[j];
    if (end > h * w) throw new MaskError(`RLE counts sum past ${h}×${w} = ${h * w} pixels at count ${j}`);
    if (j % 2 === 1) for (; t < end; t++) data[(t % h) * w + Math.floor(t / h)] = 1;
    t = end;
  }
  return { height: h, width: w, data };
}

/** The compressed counts string of the COCO json (`rleToString`). */
export function countsToString(counts: number[]): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i] - (i > 2 ? counts[i - 2] : 0); // may be negative: sign-extended below
    let more = true;
    while (more) {
      let c = x & 0x1f;
      x >>= 5; // arithmetic shift keeps the sign, so a negative delta ends at x = -1
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** Inverse of countsToString (`rleFrString`). */
export function countsFromString(s: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new MaskError(`compressed RLE string ends inside a count at character ${p}`);
      const c = s.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new MaskError(`compressed RLE string has an invalid character '${s[p]}' at ${p}`);
      x |= (c & 0x1f) << (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && c & 0x10) x |= -1 << (5 * k);
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** One polygon [x0, y0, x1, y1, ...] in pixel coordinates → RLE, as pycocotools' rleFrPoly. */
export function polygonToRle(xy: number[], h: number, w: number): Rle {
  const k = xy.length >> 1;
  if (k < 1 || xy.length % 2 !== 0) throw new MaskError(`a polygon needs x, y pairs; got ${xy.length} numbers`);
  const scale = 5;
  // upsample by 5 and walk every edge one step at a time along its longer axis
  const x = Array.from({ length: k + 1 }, (_, j) => Math.trunc(scale * xy[2 * (j % k)] + 0.5));
  const y = Array.from({ length: k + 1 }, (_, j) => Math.trunc(scale * xy[2 * (j % k) + 1] + 0.5));
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let [xs, xe, ys, ye] = [x[j], x[j + 1], y[j], y[j + 1]];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) [xs, xe, ys, ye] = [xe, xs, ye, ys];
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(Math.trunc(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(Math.trunc(xs + s * t + 0.5));
      }
    }
  }
  // keep the points where the boundary crosses a pixel column, downsampled back to pixel centres
  const starts: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    const xd = ((u[j] < u[j - 1] ? u[j] : u[j] - 1) + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = ((v[j] < v[j - 1] ? v[j] : v[j - 1]) + 0.5) / scale - 0.5;
    yd = Math.ceil(Math.min(Math.max(yd, 0), h));
    starts.push(xd * h + yd);
  }
  // each crossing toggles the mask: sorted positions become run lengths, empty runs merged into their neighbours
  starts.push(h * w);
  starts.sort((a, b) => a - b);
  const a = starts.map((t, j) => t - (j > 0 ? starts[j - 1] : 0));
  const counts = [a[0]];
  for (let j = 1; j < a.length; ) {
    if (a[j] > 0) counts.push(a[j++]);
    else if (++j < a.length) counts[counts.length - 1] += a[j++];
  }
  return { size: [h, w], counts };
}

/** Union (or intersection) of masks of one size, as pycocotools' merge. */
export function mergeRles(rles: Rle[], intersect = false): Rle {
  if (rles.length === 0) throw new MaskError('cannot merge an empty list of masks');
  const [h, w] = rles[0].size;
  const out = decodeRle(rles[0]);
  for (const r of rles.slice(1)) {
    if (r.size[0] !== h || r.size[1] !== w) throw new MaskError(`cannot merge a ${r.size.join('×')} mask into a ${h}×${w} one`);
    const d = decodeRle(r).data;
    for (let i = 0; i < d.length; i++) out.data[i] = intersect ? out.data[i] & d[i] : out.data[i] | d[i];
  }
  return encodeBitmap(out);
}

/** Any COCO segmentation (polygons, uncompressed or compressed RLE) of an h×w image → one RLE (polygons merged). */
export function segmentationToRle(seg: Segmentation, h: number, w: number): Rle {
  if (Array.isArray(seg)) {
    if (seg.length === 0) throw new MaskError('segmentation has no polygons');
    return mergeRles(seg.map((poly) => polygonToRle(poly, h, w)));
  }
  if (seg === null || typeof seg !== 'object' || !Array.isArray(seg.size)) {
    throw new MaskError(`segmentation ${JSON.stringify(seg)?.slice(0, 80)} is neither polygons nor {size, counts}`);
  }
  const [sh, sw] = seg.size;
  if (sh !== h || sw !== w) throw new MaskError(`segmentation size ${sh}×${sw} differs from the image's ${h}×${w}`);
  const counts = typeof seg.counts === 'string' ? countsFromString(seg.counts) : seg.counts;
  const total = counts.reduce((s, c) => s + c, 0);
  if (total !== h * w) throw new MaskError(`RLE counts sum to ${total}, not ${h}×${w} = ${h * w}`);
  return { size: [h, w], counts };
}

/** The compressed form stored in COCO json files. */
export function compress(rle: Rle): { size: [number, number]; counts: string } {
  return { size: rle.size, counts: countsToString(rle.counts) };
}

export function rleArea(rle: Rle): number {
  let a = 0;
  for (let j = 1; j < rle.counts.length; j += 2) a += rle.counts[j];
  return a;
}

/** COCO box [x, y, w, h] of the mask ([0, 0, 0, 0] when empty), as pycocotools' toBbox computes it. */
export function rleToBbox(rle: Rle): [number, number, number, number] {
  const [h] = rle.size;
  let [xs, ys, xe, ye] = [Infinity, Infinity, -1, -1];
  let t = 0;
  for (let j = 0; j + 1 < rle.counts.length; j += 2) {
    const first = t + rle.counts[j]; // first pixel of the run of ones
    const last = first + rle.counts[j + 1] - 1;
    t = last + 1;
    if (last < first) continue;
    const [x0, x1] = [Math.floor(first / h), Math.floor(last / h)];
    xs = Math.min(xs, x0);
    xe = Math.max(xe, x1);
    // pycocotools counts a run that continues into the next column as covering every row
    ys = Math.min(ys, x1 > x0 ? 0 : first % h);
    ye = Math.max(ye, x1 > x0 ? h - 1 : last % h);
  }
  return xe < 0 ? [0, 0, 0, 0] : [xs, ys, xe - xs + 1, ye - ys + 1];
}

/** Intersection and union pixel counts of two masks of one size (for IoU and cIoU). */
export function intersectionUnion(a: Rle, b: Rle): { intersection: number; union: number } {
  if (a.size[0] !== b.size[0] || a.size[1] !== b.size[1]) {
    throw new MaskError(`cannot compare a ${a.size.join('×')} mask with a ${b.size.join('×')} one`);
  }
  // walk both run lists together: O(runs), no bitmap
  let [i, j, ra, rb, va, vb] = [0, 0, a.counts[0] ?? 0, b.counts[0] ?? 0, 0, 0];
  let inter = 0;
  let union = 0;
  while (i < a.counts.length && j < b.counts.length) {
    const step = Math.min(ra, rb);
    if (va && vb) inter += step;
    if (va || vb) union += step;
    ra -= step;
    rb -= step;
    while (ra === 0 && ++i < a.counts.length) [ra, va] = [a.counts[i], i % 2];
    while (rb === 0 && ++j < b.counts.length) [rb, vb] = [b.counts[j], j % 2];
  }
  return { intersection: inter, union };
}

export function rleIou(a: Rle, b: Rle): number {
  const { intersection, union } = intersectionUnion(a, b);
  return union === 0 ? 0 : intersection / union;
}
