// Phrases shared by the narratives and the captions: noun phrases for objects, where an object is in the image, and
// what the background looks like.
import type { Rng } from './rng.ts';
import type { Background } from './scene.ts';
import type { Thing } from './layout.ts';
import { SIZE_WORDS, TEXTURE_PHRASE, article } from './vocab.ts';

/** The canonical region caption of an object: "large red striped star". One wording, so a model can learn it exactly. */
export function regionCaption(t: Thing): string {
  return [SIZE_WORDS[t.size][0], t.colour, t.texture === 'plain' ? '' : t.texture, t.shape].filter(Boolean).join(' ');
}

/**
 * The words a narrator uses for an object, without the article: "big red star with stripes" or "big red striped star".
 * Medium sizes are often left unsaid, as people do.
 */
export function spokenNoun(rng: Rng, t: Thing): string[] {
  const words: string[] = [];
  if (t.size !== 'medium' || rng.chance(0.5)) words.push(rng.pick(SIZE_WORDS[t.size]));
  words.push(t.colour);
  const adjective = t.texture !== 'plain' && rng.chance(0.4);
  if (adjective) words.push(t.texture);
  words.push(t.shape);
  if (t.texture !== 'plain' && !adjective) words.push(...TEXTURE_PHRASE[t.texture].split(' '));
  return words;
}

/** Where an object is, by the third of the image its visible centre falls in: "on the left", "in the top right corner". */
export function locationPhrase(rng: Rng, t: Thing, width: number, height: number): string {
  const col = t.x < width / 3 ? 'left' : t.x > (2 * width) / 3 ? 'right' : '';
  const row = t.y < height / 3 ? 'top' : t.y > (2 * height) / 3 ? 'bottom' : '';
  const image = rng.chance(0.3) ? ' of the image' : '';
  if (row && col) return rng.pick([`in the ${row} ${col} corner${image}`, `at the ${row} ${col}`]);
  if (col) return rng.pick([`on the ${col}`, `on the ${col} side${image}`]);
  if (row) return `at the ${row}${image}`;
  return rng.pick([`in the middle${image}`, `in the center${image}`]);
}

/** Ways to name the background: a noun phrase ("a light blue wall") and an adjective ("light blue"). */
export function backgroundPhrases(rng: Rng, bg: Background): { noun: string; adjective: string } {
  const { top, bottom } = bg;
  switch (bg.kind) {
    case 'plain': {
      const noun = `${top} ${rng.pick(['wall', 'surface'])}`;
      return { noun: `${article(noun)} ${noun}`, adjective: top };
    }
    case 'gradient':
      return { noun: `${article(top)} ${top} and ${bottom} gradient`, adjective: `${top} and ${bottom}` };
    case 'split':
      return { noun: `${article(top)} ${top} and ${bottom} wall`, adjective: `${top} and ${bottom}` };
    case 'grainy':
      return { noun: `a grainy ${top} surface`, adjective: `grainy ${top}` };
    case 'tiled':
      return { noun: `${article(top)} ${top} tiled wall`, adjective: `tiled ${top}` };
  }
}
