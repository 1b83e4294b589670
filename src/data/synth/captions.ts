// Short whole-image captions in the COCO register, five per image as COCO has: the same few facts (what, how many,
// on what background) in five fixed framings, so the references of one image agree the way COCO's do.
import type { Rng } from './rng.ts';
import type { Layout } from './layout.ts';
import { backgroundPhrases } from './phrases.ts';
import { NUMBER_WORDS, PLURAL, article, type Colour, type Shape } from './vocab.ts';

interface Group {
  colour: Colour;
  shape: Shape;
  count: number;
  area: number;
}

export function shortCaptions(rng: Rng, layout: Layout): string[] {
  const groups = new Map<string, Group>();
  for (const t of layout.things) {
    const g = groups.get(`${t.colour} ${t.shape}`) ?? { colour: t.colour, shape: t.shape, count: 0, area: 0 };
    g.count++;
    g.area = Math.max(g.area, t.area);
    groups.set(`${t.colour} ${t.shape}`, g);
  }
  // most numerous first, then the biggest: what a glance at the image takes in first
  const ordered = [...groups.values()].sort((a, b) => b.count - a.count || b.area - a.area);
  const total = layout.things.length;
  const shown = ordered.length <= 3 ? ordered : ordered.slice(0, 2);
  const rest = total - shown.reduce((n, g) => n + g.count, 0);
  const parts = shown.map((g) => (g.count === 1 ? `${article(g.colour)} ${g.colour} ${g.shape}` : `${NUMBER_WORDS[g.count]} ${g.colour} ${PLURAL[g.shape]}`));
  if (rest > 0) parts.push(`${NUMBER_WORDS[rest]} other ${rest === 1 ? 'shape' : 'shapes'}`);
  const listing = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  const bg = backgroundPhrases(rng, layout.background).adjective;
  const on = `on ${article(bg)} ${bg} background`;
  const count = total === 1 ? `a single ${layout.things[0]!.shape}` : `${NUMBER_WORDS[total]} shapes`;
  return [
    listing,
    `${listing} ${on}`,
    `${count} ${on}`,
    `${article(bg)} ${bg} background with ${listing}`,
    `an image of ${listing}`,
  ].map((c) => c[0]!.toUpperCase() + c.slice(1));
}
