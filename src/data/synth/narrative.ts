// The words of a narrative in the Localized Narratives register ("In this image I can see a big red circle on the
// left. ... In the background there is a light blue wall."), 2–8 sentences, each word tagged with what it names.
import type { Rng } from './rng.ts';
import type { Layout, Thing } from './layout.ts';
import { attrPhrase, landmarkAttrs } from './refer.ts';
import { holds, type Relation } from './spatial.ts';
import { backgroundPhrases, locationPhrase, spokenNoun } from './phrases.ts';
import { article } from './vocab.ts';

/** What a word names: an object's index, the background, or nothing. */
export const BACKGROUND = -1;

export interface Word {
  text: string;
  /** punctuation written after the word in the caption (not part of the utterance) */
  punct: string;
  names?: number;
}

export type Sentence = Word[];

const OPEN_ONE = ['In this image I can see {NP} {LOC}.', 'In this picture I can see {NP} {LOC}.', 'In this image there is {NP} {LOC}.', 'In this picture we can see {NP} {LOC}.'];
const OPEN_TWO = ['In this image I can see {NP} and {NP2}.', 'In this picture there are {NP} and {NP2}.', 'In this image we can see {NP} and {NP2}.'];
const MORE_ONE = ['{LOC} there is {NP}.', '{LOC}, there is {NP}.', '{LOC} I can see {NP}.', 'I can also see {NP} {LOC}.', 'There is also {NP} {LOC}.', 'We can also see {NP} {LOC}.'];
const MORE_TWO = ['I can also see {NP} and {NP2}.', 'There are also {NP} and {NP2}.', 'We can also see {NP} and {NP2}.'];
const ANOTHER = ['There is another {NA} {LOC}.', 'I can see another {NA} {LOC}.'];
const RELATED = ['{REL} {L} there is {NP}.', '{REL} {L}, I can see {NP}.'];
const REL_WORDS: Record<Relation, string[]> = {
  'left of': ['to the left of'], 'right of': ['to the right of'], above: ['above'], below: ['below'], 'next to': ['next to', 'beside'],
};
// `background*` is the word "background" naming the background
const BACKGROUND_SENTENCES = ['In the background* I can see {BG}.', 'In the background* there is {BG}.', 'In the background*, there is {BG}.', 'The background* is {BGA}.'];

/** At most this many sentences, one of them about the background. */
const MAX_SENTENCES = 8;

export function narrate(rng: Rng, layout: Layout): Sentence[] {
  const { things, width, height } = layout;
  const where = (t: Thing): Word[] => plain(locationPhrase(rng, t, width, height));
  const np = (t: Thing): Word[] => {
    const noun = spokenNoun(rng, t);
    return [{ text: article(noun[0]!), punct: '' }, ...noun.map((text) => ({ text, punct: '', names: t.index }))];
  };

  const bySize = [...things].sort((a, b) => b.area - a.area);
  const opening = bySize.slice(0, things.length >= 2 && rng.chance(0.3) ? 2 : 1);
  const rest = things.filter((t) => !opening.includes(t)).sort((a, b) => a.x - b.x); // then left to right, as people scan
  const sentences: Sentence[] = [];
  if (opening.length === 2) sentences.push(fill(rng.pick(OPEN_TWO), { NP: np(opening[0]!), NP2: np(opening[1]!) }));
  else if (opening.length === 1) sentences.push(fill(rng.pick(OPEN_ONE), { NP: np(opening[0]!), LOC: where(opening[0]!) }));
  const said = [...opening];
  let slots = MAX_SENTENCES - 2;
  while (rest.length > 0) {
    const t = rest.shift()!;
    if (rest.length > 0 && (rest.length >= slots || rng.chance(0.2))) {
      const u = rest.shift()!;
      sentences.push(fill(rng.pick(MORE_TWO), { NP: np(t), NP2: np(u) }));
      said.push(t, u);
    } else {
      sentences.push(aboutOne(rng, layout, t, said, np, where));
      said.push(t);
    }
    slots--;
  }
  const bg = backgroundPhrases(rng, layout.background);
  const [first, ...noun] = bg.noun.split(' ');
  const background = fill(rng.pick(BACKGROUND_SENTENCES), {
    BG: [{ text: first!, punct: '' }, ...tagged(noun.join(' '), BACKGROUND)],
    BGA: tagged(bg.adjective, BACKGROUND),
  });
  // most narrators end with the background; some say it right after the first thing they see
  sentences.splice(sentences.length > 1 && rng.chance(0.2) ? 1 : sentences.length, 0, background);
  return sentences;
}

/** A sentence about one object: tied to something already said when a relation clearly holds, or "another" for a twin. */
function aboutOne(rng: Rng, layout: Layout, t: Thing, said: Thing[], np: (t: Thing) => Word[], where: (t: Thing) => Word[]): Sentence {
  const twin = said.find((o) => o.shape === t.shape && o.colour === t.colour);
  if (twin && rng.chance(0.7)) return fill(rng.pick(ANOTHER), { NA: np(t).slice(1), LOC: where(t) });
  if (rng.chance(0.35)) {
    for (const l of [...said].sort((a, b) => Math.hypot(a.x - t.x, a.y - t.y) - Math.hypot(b.x - t.x, b.y - t.y))) {
      const attrs = landmarkAttrs(layout, l);
      const relations = (Object.keys(REL_WORDS) as Relation[]).filter((r) => holds(layout, t, l, r));
      if (!attrs || relations.length === 0) continue;
      const landmark = [{ text: 'the', punct: '' }, ...tagged(attrPhrase(rng, attrs), l.index)];
      return fill(rng.pick(RELATED), { REL: plain(rng.pick(REL_WORDS[rng.pick(relations)])), L: landmark, NP: np(t) });
    }
  }
  return fill(rng.pick(MORE_ONE), { NP: np(t), LOC: where(t) });
}

const plain = (phrase: string): Word[] => phrase.split(' ').map((text) => ({ text, punct: '' }));
const tagged = (phrase: string, names: number): Word[] => phrase.split(' ').map((text) => ({ text, punct: '', names }));

/** Expands a template: `{SLOT}` takes the slot's words, trailing `,`/`.` is punctuation, the first letter is a capital. */
function fill(template: string, slots: Record<string, Word[]>): Sentence {
  const out: Word[] = [];
  for (const token of template.split(' ')) {
    const [, body, punct] = /^(.*?)([,.]?)$/.exec(token)!;
    const slot = /^\{(\w+)\}$/.exec(body!);
    const words = slot ? slots[slot[1]!]!.map((w) => ({ ...w })) : body!.endsWith('*') ? tagged(body!.slice(0, -1), BACKGROUND) : plain(body!);
    words[words.length - 1]!.punct = punct!;
    out.push(...words);
  }
  out[0]!.text = out[0]!.text[0]!.toUpperCase() + out[0]!.text.slice(1);
  return out;
}

/** The caption as written: words joined by spaces with their punctuation. */
export function captionText(sentences: Sentence[]): string {
  return sentences.map((s) => s.map((w) => w.text + w.punct).join(' ')).join(' ');
}
