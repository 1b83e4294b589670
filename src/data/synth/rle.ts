// COCO run-length encodings of every object of a label map in one column-major pass (pycocotools' run convention:
// column-major order, the first run counts zeros), instead of one full-image bitmap per object.
import type { Rle } from '../mask.ts';

/** The RLE of the pixels labelled l, for l = 0..count−1, of a row-major (height, width) label map. */
export function labelRles(labels: Int8Array, width: number, height: number, count: number): Rle[] {
  const counts: number[][] = Array.from({ length: count }, () => []);
  const runStart = new Float64Array(count); // where each object's current run (of zeros or ones) began
  let previous = -1;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const l = labels[y * width + x]!;
      if (l === previous) continue;
      const p = x * height + y; // column-major position
      if (previous >= 0) {
        counts[previous]!.push(p - runStart[previous]!); // its run of ones ends here
        runStart[previous] = p;
      }
      if (l >= 0) {
        counts[l]!.push(p - runStart[l]!); // its run of zeros ends here
        runStart[l] = p;
      }
      previous = l;
    }
  }
  const total = width * height;
  return counts.map((c, l) => {
    c.push(total - runStart[l]!); // the last run, of ones or zeros, reaches the end
    return { size: [height, width], counts: c };
  });
}
