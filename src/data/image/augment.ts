// Training augmentations: scale jitter, random crop, horizontal flip, drawn from a seeded Generator. The reference
// (scenic/projects/pixel_llm/configs/*: random_ratio_resize | fixed_size_crop, random_horizontal_flip for VG only)
// scales the longer side to floor(S · U[min, max)) and crops a random window of at most S × S.
import type { Generator } from '../../tensor/random.ts';
import type { Task } from '../types.ts';
import { UserError } from '../../errors.ts';
import { cropGeometry, type Geometry } from './geometry.ts';

export interface AugmentOptions {
  /** the longer side is scaled to floor(S · r), r uniform in [min, max); [1, 1] keeps it at S */
  scale: readonly [number, number];
  /** probability of a left-right mirror */
  flip: number;
  /** when mirrored, swap "left" and "right" (and their forms) in the text so it still describes the image */
  swapLeftRight: boolean;
}

export const NO_AUGMENT: AugmentOptions = { scale: [1, 1], flip: 0, swapLeftRight: true };

/**
 * The reference's training augmentation per task. Localized Narratives: none (scale 1). COCO captions and RefCOCO:
 * scale 0.75–1.25, no flip (a flip would contradict "left"/"right" in referring expressions). Visual Genome region
 * captions: scale 0.1–2.0 and a flip with probability 0.5; the reference flips without touching the words, we swap
 * them (swapLeftRight), because "the man on the left" describing a man on the right is plain label noise.
 */
export const REFERENCE_AUGMENT: Record<Task, AugmentOptions> = {
  trace: NO_AUGMENT,
  caption: { scale: [0.75, 1.25], flip: 0, swapLeftRight: true },
  refer: { scale: [0.75, 1.25], flip: 0, swapLeftRight: true },
  regioncap: { scale: [0.1, 2.0], flip: 0.5, swapLeftRight: true },
};

export function checkAugment(a: AugmentOptions, where: string): void {
  const [lo, hi] = a.scale;
  if (!(lo > 0 && hi >= lo && Number.isFinite(hi))) throw new UserError(`${where}: augment scale [${lo}, ${hi}] must satisfy 0 < min ≤ max`);
  if (!(a.flip >= 0 && a.flip <= 1)) throw new UserError(`${where}: augment flip probability ${a.flip} must be in [0, 1]`);
}

/**
 * Draws one example's geometry. Always consumes four numbers from `rng`, whatever the options, so the streams of
 * differently configured sources stay aligned.
 */
export function drawGeometry(rng: Generator, a: AugmentOptions, width: number, height: number, canvas: number): Geometry {
  const r = a.scale[0] + (a.scale[1] - a.scale[0]) * rng.next();
  const cropAt: [number, number] = [rng.next(), rng.next()];
  const flip = rng.next() < a.flip;
  // tf.cast(S · r, int32) truncates; never below 1 pixel.
  return cropGeometry(width, height, canvas, Math.max(1, Math.floor(canvas * r)), cropAt, flip);
}

const SWAPS: Record<string, string> = {
  left: 'right', right: 'left', leftmost: 'rightmost', rightmost: 'leftmost',
  lefthand: 'righthand', righthand: 'lefthand', leftside: 'rightside', rightside: 'leftside',
};

/**
 * Swaps left/right words, keeping their capitalisation: "Left of the man, the rightmost cup" → "Right of the man, the
 * leftmost cup". Whole words only ("bright", "lefty" stay), hyphenated forms follow ("left-hand" → "right-hand").
 */
export function swapLeftRight(text: string): string {
  return text.replace(/\b(left|right)(most|hand|side)?\b/gi, (word) => {
    const swapped = SWAPS[word.toLowerCase()];
    if (swapped === undefined) return word;
    if (word === word.toUpperCase()) return swapped.toUpperCase();
    if (word[0] === word[0]!.toUpperCase()) return swapped[0]!.toUpperCase() + swapped.slice(1);
    return swapped;
  });
}
