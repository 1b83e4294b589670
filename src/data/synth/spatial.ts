// What a description means in a scene: which objects match its attributes and which of those its spatial part picks.
// A spatial word must be clear for the object it names (a margin apart from the rest) and must rule out every other
// object even under a loose reading; `resolve` returns the one object a description picks, or null.
import type { Thing } from './layout.ts';
import type { Colour, Shape, Size, Texture } from './vocab.ts';

export interface Attrs {
  shape?: Shape;
  colour?: Colour;
  size?: Size;
  texture?: Texture;
}

export type Dir = 'left' | 'right' | 'top' | 'bottom';
export type Relation = 'left of' | 'right of' | 'above' | 'below' | 'next to';

export type Spatial =
  | { kind: 'extreme'; dir: Dir }
  | { kind: 'ordinal'; dir: Dir; rank: number } // rank 1 is the first from `dir`
  | { kind: 'relation'; relation: Relation; landmark: Attrs };

export interface Description {
  attrs: Attrs;
  spatial?: Spatial;
}

export interface Frame {
  width: number;
  height: number;
  things: Thing[];
}

export const ATTRIBUTE_KEYS = ['size', 'colour', 'texture', 'shape'] as const;

export function matches(t: Thing, a: Attrs): boolean {
  return ATTRIBUTE_KEYS.every((k) => a[k] === undefined || a[k] === t[k]);
}

/** Positions along `dir` must differ by this much (pixels) to be told apart. */
export function margin(f: Frame): number {
  return 0.08 * Math.min(f.width, f.height);
}

/** Position along a direction, growing away from where it starts: `left` → x, `bottom` → −y. */
function key(t: Thing, dir: Dir): number {
  return dir === 'left' ? t.x : dir === 'right' ? -t.x : dir === 'top' ? t.y : -t.y;
}

/** The object the description picks out, or null when it fits none, several, or one only unclearly. */
export function resolve(f: Frame, d: Description): Thing | null {
  const candidates = f.things.filter((t) => matches(t, d.attrs));
  const s = d.spatial;
  if (s === undefined) return candidates.length === 1 ? candidates[0]! : null;
  if (s.kind === 'relation') return relate(f, candidates, s.relation, s.landmark);
  const sorted = [...candidates].sort((a, b) => key(a, s.dir) - key(b, s.dir));
  const rank = s.kind === 'extreme' ? 1 : s.rank;
  const pick = sorted[rank - 1];
  if (pick === undefined) return null;
  const m = margin(f);
  const before = sorted[rank - 2];
  const after = sorted[rank];
  if (before && key(pick, s.dir) - key(before, s.dir) < m) return null;
  if (after && key(after, s.dir) - key(pick, s.dir) < m) return null;
  return pick;
}

function relate(f: Frame, candidates: Thing[], relation: Relation, landmarkAttrs: Attrs): Thing | null {
  const landmarks = f.things.filter((t) => matches(t, landmarkAttrs));
  if (landmarks.length !== 1) return null;
  const l = landmarks[0]!;
  const others = candidates.filter((t) => t !== l);
  let loose: Thing[];
  if (relation === 'next to') {
    const nearest = Math.min(...others.map((t) => distance(t, l)));
    loose = others.filter((t) => distance(t, l) <= 1.5 * nearest); // a rival within half again the distance is "next to" it too
  } else {
    loose = others.filter((t) => along(t, l, relation) > 0);
  }
  return loose.length === 1 && holds(f, loose[0]!, l, relation) ? loose[0]! : null;
}

const distance = (t: Thing, l: Thing): number => Math.hypot(t.x - l.x, t.y - l.y);

/** How far `t` lies from `l` in the direction the relation names. */
function along(t: Thing, l: Thing, relation: Exclude<Relation, 'next to'>): number {
  const [dx, dy] = [t.x - l.x, t.y - l.y];
  return relation === 'left of' ? -dx : relation === 'right of' ? dx : relation === 'above' ? -dy : dy;
}

/** Whether `t` clearly stands in the relation to `l`: far enough that way and more that way than across, or close by. */
export function holds(f: Frame, t: Thing, l: Thing, relation: Relation): boolean {
  if (relation === 'next to') return distance(t, l) <= 0.5 * (t.extent + l.extent) + 0.15 * Math.min(f.width, f.height);
  const across = relation === 'left of' || relation === 'right of' ? Math.abs(t.y - l.y) : Math.abs(t.x - l.x);
  return along(t, l, relation) >= Math.max(margin(f), across);
}
