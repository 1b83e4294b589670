// Where every original pixel lands on the S×S canvas: scale (the longer side to L), crop a window of at most S×S,
// mirror it if flipped, pad bottom/right. Boxes, points, traces and masks go through the same map as the pixels.
// Reference: scenic/projects/pixel_llm/io/transforms.py (resize, crop, hflip) and io/ops.py (RandomRatioResize,
// FixedSizeCrop, PadImages); deviations are noted where they are made.
import type { Box, Point, UtteranceTarget } from '../types.ts';

export interface Geometry {
  /** original (decoded) size */
  width: number;
  height: number;
  /** size after scaling, before the crop */
  resizedWidth: number;
  resizedHeight: number;
  /** top-left of the crop window in resized pixels */
  cropX: number;
  cropY: number;
  /** the crop window = the valid (unpadded) region at the canvas' top-left */
  validWidth: number;
  validHeight: number;
  /** mirrored left-right inside the valid region */
  flip: boolean;
  /** the canvas side S */
  canvas: number;
}

/**
 * The size with the longer side `longer` and the aspect ratio kept (the shorter side rounded, at least 1). The
 * reference computes the shorter side first (floor) and then the longer one (truncated), which can leave the longer
 * side at S − 1 (640×427 → 383×256); DESIGN §2 asks for the longer side at S, so we fix it and round the other.
 */
export function fitLonger(width: number, height: number, longer: number): [number, number] {
  if (width >= height) return [longer, Math.max(1, Math.round((height * longer) / width))];
  return [Math.max(1, Math.round((width * longer) / height)), longer];
}

/** The evaluation geometry: longer side to S, no crop, no flip. */
export function fitGeometry(width: number, height: number, canvas: number): Geometry {
  return cropGeometry(width, height, canvas, canvas, [0, 0], false);
}

/**
 * Scale the longer side to `longer`, then take the window of min(size, S) at the fractions `cropAt` ∈ [0, 1) of the
 * free range (FixedSizeCrop draws the offset uniformly from 0..free), mirrored if `flip`.
 */
export function cropGeometry(width: number, height: number, canvas: number, longer: number, cropAt: readonly [number, number], flip: boolean): Geometry {
  const [resizedWidth, resizedHeight] = fitLonger(width, height, longer);
  const validWidth = Math.min(resizedWidth, canvas);
  const validHeight = Math.min(resizedHeight, canvas);
  const cropX = Math.floor(cropAt[0] * (resizedWidth - validWidth + 1));
  const cropY = Math.floor(cropAt[1] * (resizedHeight - validHeight + 1));
  return { width, height, resizedWidth, resizedHeight, cropX, cropY, validWidth, validHeight, flip, canvas };
}

/** Canvas pixels per original pixel along x and y (the two differ slightly by the rounding of the shorter side). */
export function scaleOf(g: Geometry): [number, number] {
  return [g.resizedWidth / g.width, g.resizedHeight / g.height];
}

function mapX(g: Geometry, x: number): number {
  return Math.min(Math.max(x * (g.resizedWidth / g.width) - g.cropX, 0), g.validWidth);
}

function mapY(g: Geometry, y: number): number {
  return Math.min(Math.max(y * (g.resizedHeight / g.height) - g.cropY, 0), g.validHeight);
}

/**
 * An original-pixel box [x0, y0, x1, y1] on the canvas, clipped to the valid region (as transforms.crop clips).
 * Flipping maps x to validWidth − x: coordinates are continuous, not pixel indices (so not validWidth − 1 − x).
 */
export function mapBox(g: Geometry, box: Box): Box {
  const x0 = mapX(g, box[0]);
  const x1 = mapX(g, box[2]);
  const y0 = mapY(g, box[1]);
  const y1 = mapY(g, box[3]);
  return g.flip ? [g.validWidth - x1, y0, g.validWidth - x0, y1] : [x0, y0, x1, y1];
}

/** An original-pixel point on the canvas, clipped to the valid region. */
export function mapPoint(g: Geometry, p: Point): Point {
  const x = mapX(g, p[0]);
  return [g.flip ? g.validWidth - x : x, mapY(g, p[1])];
}

/** An utterance's trace box and centre, given in fractions of the original image (LN's convention), in canvas pixels. */
export function mapUtterance(g: Geometry, u: UtteranceTarget): UtteranceTarget {
  const [w, h] = [g.width, g.height];
  return {
    utterance: u.utterance,
    box: mapBox(g, [u.box[0] * w, u.box[1] * h, u.box[2] * w, u.box[3] * h]),
    center: mapPoint(g, [u.center[0] * w, u.center[1] * h]),
  };
}

/** Whether any of the box survives the crop (a positive-area overlap with the window), the reference's keep rule. */
export function boxVisible(g: Geometry, box: Box): boolean {
  const b = mapBox(g, box);
  return b[2] > b[0] && b[3] > b[1];
}

/** Whether the box (possibly degenerate: a trace that stood still) touches the crop window at all. */
export function boxTouchesWindow(g: Geometry, box: Box): boolean {
  const [sx, sy] = scaleOf(g);
  return box[2] * sx >= g.cropX && box[0] * sx <= g.cropX + g.validWidth &&
    box[3] * sy >= g.cropY && box[1] * sy <= g.cropY + g.validHeight;
}
