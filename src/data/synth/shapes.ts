// Signed distance functions of the shapes in their own unit frame: the shape fits the box [-0.5, 0.5]², y points down,
// negative inside. A distance (rather than an inside test) gives anti-aliased edges and outlines for free.
import type { Shape } from './vocab.ts';

export type Sdf = (x: number, y: number) => number;

type Poly = Float64Array; // x0, y0, x1, y1, ...

function regular(n: number, radius: number, phase: number, dy = 0): Poly {
  const p = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = phase + (2 * Math.PI * i) / n;
    p[2 * i] = radius * Math.cos(a);
    p[2 * i + 1] = radius * Math.sin(a) + dy;
  }
  return p;
}

function starPoly(): Poly {
  const p = new Float64Array(20);
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (Math.PI * i) / 5;
    const r = i % 2 === 0 ? 0.52 : 0.21;
    p[2 * i] = r * Math.cos(a);
    p[2 * i + 1] = r * Math.sin(a) + 0.05; // the points reach 0.52 up but only 0.42 down: centre the star in its box
  }
  return p;
}

function heartPoly(): Poly {
  const n = 48;
  const p = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    // the classic heart curve spans x ∈ [-16, 16], y ∈ [-17, 12] (y up); scale into the unit box, y down
    p[2 * i] = (16 * Math.sin(t) ** 3) / 32;
    p[2 * i + 1] = -(13 * Math.cos(t) - 5 * Math.cos(2 * t) - 2 * Math.cos(3 * t) - Math.cos(4 * t) + 2.5) / 30;
  }
  return p;
}

const CROSS: Poly = Float64Array.from([
  -0.16, -0.5, 0.16, -0.5, 0.16, -0.16, 0.5, -0.16, 0.5, 0.16, 0.16, 0.16,
  0.16, 0.5, -0.16, 0.5, -0.16, 0.16, -0.5, 0.16, -0.5, -0.16, -0.16, -0.16,
]);
const ARROW: Poly = Float64Array.from([-0.5, -0.13, 0.04, -0.13, 0.04, -0.36, 0.5, 0, 0.04, 0.36, 0.04, 0.13, -0.5, 0.13]);
const SQUARE: Poly = Float64Array.from([-0.45, -0.45, 0.45, -0.45, 0.45, 0.45, -0.45, 0.45]);
const TRIANGLE: Poly = Float64Array.from([0, -0.48, 0.5, 0.42, -0.5, 0.42]);
const DIAMOND: Poly = Float64Array.from([0, -0.5, 0.34, 0, 0, 0.5, -0.34, 0]);

/** Exact signed distance to a simple polygon (minimum edge distance, sign from the crossing count). */
function polygonSdf(v: Poly): Sdf {
  const n = v.length / 2;
  return (px, py) => {
    let d = Infinity;
    let inside = false;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const xi = v[2 * i]!, yi = v[2 * i + 1]!, xj = v[2 * j]!, yj = v[2 * j + 1]!;
      const ex = xj - xi, ey = yj - yi;
      const wx = px - xi, wy = py - yi;
      const h = Math.min(1, Math.max(0, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
      const bx = wx - ex * h, by = wy - ey * h;
      d = Math.min(d, bx * bx + by * by);
      if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside ? -Math.sqrt(d) : Math.sqrt(d);
  };
}

const circle: Sdf = (x, y) => Math.hypot(x, y) - 0.5;

export const SDF: Record<Shape, Sdf> = {
  circle,
  square: polygonSdf(SQUARE),
  triangle: polygonSdf(TRIANGLE),
  star: polygonSdf(starPoly()),
  heart: polygonSdf(heartPoly()),
  hexagon: polygonSdf(regular(6, 0.5, 0)),
  pentagon: polygonSdf(regular(5, 0.52, -Math.PI / 2, 0.04)),
  diamond: polygonSdf(DIAMOND),
  cross: polygonSdf(CROSS),
  // a disc minus a disc shifted up-right; the max of the two is exact near the edges, where anti-aliasing reads it
  crescent: (x, y) => Math.max(Math.hypot(x, y) - 0.5, 0.4 - Math.hypot(x - 0.2, y + 0.12)),
  ring: (x, y) => Math.abs(Math.hypot(x, y) - 0.37) - 0.13,
  arrow: polygonSdf(ARROW),
};

/** The largest rotation (radians) a shape may take and still be seen as itself (a square turned 45° is a diamond). */
export const MAX_ROTATION: Record<Shape, number> = {
  circle: 0, ring: 0, square: 0.26, triangle: 0.26, star: 0.2, heart: 0.26, hexagon: 0.26, pentagon: 0.26,
  diamond: 0.2, cross: 0.26, crescent: Math.PI, arrow: Math.PI,
};
