// One synthetic image with all its annotations, a pure function of the run seed and the image index.
import sharp from 'sharp';
import { Rng } from './rng.ts';
import { drawScene, type Layout } from './layout.ts';
import { captionText, narrate, type Sentence } from './narrative.ts';
import { persona, speak, type TimedWord } from './speech.ts';
import { mouseTrace, type TracePoint } from './trace.ts';
import { referringExpressions, type Expression } from './refer.ts';
import { regionCaption } from './phrases.ts';
import { shortCaptions } from './captions.ts';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: Split[] = ['train', 'val', 'test'];

export interface SynthOptions {
  seed: number;
  /** fixed image size; by default each image draws its own */
  width?: number;
  height?: number;
}

export interface Narrative {
  annotatorId: number;
  sentences: Sentence[];
  caption: string;
  words: TimedWord[];
  traces: TracePoint[][];
}

export interface SynthImage {
  index: number;
  /** the image id in every format: FIRST_IMAGE_ID + index */
  id: number;
  split: Split;
  fileName: string;
  layout: Layout;
  narrative: Narrative;
  /** per object (in drawing order): its referring expressions, empty when none picks it out clearly */
  refs: Expression[][];
  /** per object: its region caption */
  regions: string[];
  /** five short captions */
  captions: string[];
}

/**
 * Image ids have 12 digits, so the file is both `<id>.jpg` (how Visual Genome and Localized Narratives name images)
 * and COCO's zero-padded `%012d.jpg` (how COCO and RefCOCO do): every reader finds the same file.
 */
const FIRST_IMAGE_ID = 100_000_000_001;

/** How many annotators narrate; each has a persona of their own. */
const ANNOTATORS = 40;

export function synthImage(index: number, opts: SynthOptions): SynthImage {
  const rng = Rng.forImage(opts.seed, index);
  const u = rng.next();
  const split: Split = u < 0.8 ? 'train' : u < 0.9 ? 'val' : 'test';
  const layout = drawScene(rng, { width: opts.width, height: opts.height });
  const sentences = narrate(rng, layout);
  const annotatorId = rng.int(1, ANNOTATORS);
  const hand = persona(new Rng(annotatorId));
  const speech = speak(rng, sentences, layout, hand);
  const narrative: Narrative = {
    annotatorId, sentences, caption: captionText(sentences), words: speech.words, traces: mouseTrace(rng, speech, layout, hand),
  };
  const id = FIRST_IMAGE_ID + index;
  return {
    index, id, split, fileName: `${id}.jpg`, layout, narrative,
    refs: layout.things.map((t) => referringExpressions(rng, layout, t)),
    regions: layout.things.map(regionCaption),
    captions: shortCaptions(rng, layout),
  };
}

export function encodeJpeg(layout: Layout): Promise<Buffer> {
  const { rgb, width, height } = layout;
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 92, chromaSubsampling: '4:4:4' })
    .toBuffer();
}
