// Referring expressions, unique by construction: every candidate description of an object is resolved against the
// scene (spatial.ts) and kept only if it picks that object and no other. Look-alikes (same shape, colour, size and
// texture) can only be told apart by position, so their expressions need a spatial word or an ordinal.
import type { Rng } from './rng.ts';
import type { Thing } from './layout.ts';
import { ATTRIBUTE_KEYS, resolve, type Attrs, type Description, type Dir, type Frame, type Relation, type Spatial } from './spatial.ts';
import { ORDINALS, SIZE_WORDS } from './vocab.ts';

export interface Expression extends Description {
  text: string;
  /** no description by attributes alone picks the object out */
  needsSpatial: boolean;
}

type Key = (typeof ATTRIBUTE_KEYS)[number];

/** Attribute combinations a speaker uses, most natural first. */
const SUBSETS: Key[][] = [
  ['shape'], ['colour', 'shape'], ['colour'], ['size', 'shape'], ['texture', 'shape'], ['size', 'colour', 'shape'],
  ['colour', 'texture', 'shape'], ['size', 'texture', 'shape'], ['size', 'colour', 'texture', 'shape'],
];
/** Attribute combinations that a spatial word is added to. */
const SPATIAL_BASES: Key[][] = [['shape'], ['colour', 'shape'], ['size', 'colour', 'shape'], ['size', 'colour', 'texture', 'shape']];
const DIRS: Dir[] = ['left', 'right', 'top', 'bottom'];
const RELATIONS: Relation[] = ['left of', 'right of', 'above', 'below', 'next to'];

const pickAttrs = (t: Thing, keys: Key[]): Attrs => Object.fromEntries(keys.map((k) => [k, t[k]]));

/** The shortest attribute-only descriptions that pick `t` out (none for a look-alike). */
function minimalAttrs(f: Frame, t: Thing): Attrs[] {
  const unique = SUBSETS.filter((keys) => resolve(f, { attrs: pickAttrs(t, keys) }) === t);
  const shortest = Math.min(...unique.map((k) => k.length));
  return unique.filter((k) => k.length === shortest).map((k) => pickAttrs(t, k));
}

/** The shortest attributes, with the noun, that name `l` alone: how a landmark is said ("the blue star"). */
export function landmarkAttrs(f: Frame, l: Thing): Attrs | undefined {
  return minimalAttrs(f, l).find((a) => a.shape !== undefined);
}

/** Every description of `t` the generator may say, with whether it needs its spatial part. */
function describeOptions(f: Frame, t: Thing): { plain: Description[]; spatial: Description[] } {
  const minimal = minimalAttrs(f, t);
  const plain: Description[] = [];
  for (const attrs of minimal) {
    plain.push({ attrs });
    // over-specified: one attribute more than needed, as people often say
    for (const k of ATTRIBUTE_KEYS) if (attrs[k] === undefined) plain.push({ attrs: { ...attrs, [k]: t[k] } });
  }
  const spatial: Description[] = [];
  const seen = new Set<string>();
  for (const keys of SPATIAL_BASES) {
    const attrs = pickAttrs(t, keys);
    const peers = f.things.filter((o) => o !== t && ATTRIBUTE_KEYS.every((k) => attrs[k] === undefined || attrs[k] === o[k]));
    if (peers.length === 0) continue; // a spatial word only where there is something to tell apart
    const tries: Spatial[] = [];
    for (const dir of DIRS) {
      tries.push({ kind: 'extreme', dir });
      if (peers.length >= 2) for (let rank = 2; rank <= peers.length + 1; rank++) tries.push({ kind: 'ordinal', dir, rank });
    }
    for (const l of f.things) {
      if (l === t || peers.includes(l)) continue;
      const landmark = landmarkAttrs(f, l);
      if (landmark) for (const relation of RELATIONS) tries.push({ kind: 'relation', relation, landmark });
    }
    for (const s of tries) {
      const d = { attrs, spatial: s };
      const id = JSON.stringify(d);
      if (!seen.has(id) && resolve(f, d) === t) {
        seen.add(id);
        spatial.push(d);
      }
    }
  }
  return { plain, spatial };
}

/**
 * Two or three expressions for `t` (as RefCOCO has per object): the shortest attribute description first when there is
 * one, then others drawn from every kind that works. Empty when nothing picks `t` out clearly.
 */
export function referringExpressions(rng: Rng, f: Frame, t: Thing): Expression[] {
  const { plain, spatial } = describeOptions(f, t);
  const needsSpatial = plain.length === 0;
  const count = rng.chance(0.5) ? 2 : 3;
  const chosen: Description[] = [];
  if (!needsSpatial) chosen.push(plain[0]!);
  // by kind first so one object's sentences differ in how they refer, then any option
  const pools = [plain.slice(1), ...(['extreme', 'ordinal', 'relation'] as const).map((k) => spatial.filter((d) => d.spatial!.kind === k))];
  for (const pool of rng.shuffle(pools.filter((p) => p.length > 0))) if (chosen.length < count) chosen.push(rng.pick(pool));
  const rest = rng.shuffle([...plain, ...spatial].filter((d) => !chosen.includes(d)));
  while (chosen.length < count && rest.length > 0) chosen.push(rest.pop()!);
  const texts = new Set<string>();
  return chosen.map((d) => ({ ...d, text: say(rng, d), needsSpatial })).filter((e) => !texts.has(e.text) && texts.add(e.text));
}

/** The words for attributes in speaking order: size, colour, texture, then the noun ("shape"/"one" when unnamed). */
export function attrPhrase(rng: Rng, a: Attrs): string {
  const words: string[] = [];
  if (a.size) words.push(rng.pick(SIZE_WORDS[a.size]));
  if (a.colour) words.push(a.colour);
  if (a.texture) words.push(a.texture); // "plain" too: without it "the plain circle" would not tell it from a striped one
  words.push(a.shape ?? (words.length > 0 && rng.chance(0.5) ? 'one' : 'shape'));
  return words.join(' ');
}

const EXTREME: Record<Dir, string[]> = {
  left: ['the {a} on the left', 'the leftmost {a}', '{a} on the far left'],
  right: ['the {a} on the right', 'the rightmost {a}', '{a} on the far right'],
  top: ['the {a} at the top', 'the topmost {a}', '{a} at the very top'],
  bottom: ['the {a} at the bottom', 'the lowest {a}', '{a} at the very bottom'],
};
const ORDINAL = ['the {n} {a} from the {d}', 'the {a} {n} from the {d}', '{n} {a} from the {d}'];
const RELATION_WORDS: Record<Relation, string[]> = {
  'left of': ['left of', 'to the left of'],
  'right of': ['right of', 'to the right of'],
  above: ['above'],
  below: ['below', 'under'],
  'next to': ['next to', 'beside', 'near'],
};

function say(rng: Rng, d: Description): string {
  const a = attrPhrase(rng, d.attrs);
  const the = (): string => (rng.chance(0.75) ? 'the ' : '');
  const s = d.spatial;
  if (s === undefined) return `${the()}${a}`;
  if (s.kind === 'extreme') return rng.pick(EXTREME[s.dir]).replace('{a}', a);
  if (s.kind === 'ordinal') return rng.pick(ORDINAL).replace('{n}', ORDINALS[s.rank - 1]!).replace('{a}', a).replace('{d}', s.dir);
  return `${the()}${a} ${rng.pick(RELATION_WORDS[s.relation])} the ${attrPhrase(rng, s.landmark)}`;
}
