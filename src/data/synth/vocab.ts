// The controlled vocabulary of the synthetic scenes: what can be drawn and the words that name it. A small, fixed set
// of names with consistent phrasing is what lets a small model learn the language from a few hours of CPU training.

export type RGB = [number, number, number];

export const SHAPES = [
  'circle', 'square', 'triangle', 'star', 'heart', 'hexagon', 'pentagon', 'diamond', 'cross', 'crescent', 'ring', 'arrow',
] as const;
export type Shape = (typeof SHAPES)[number];

export const PLURAL: Record<Shape, string> = {
  circle: 'circles', square: 'squares', triangle: 'triangles', star: 'stars', heart: 'hearts', hexagon: 'hexagons',
  pentagon: 'pentagons', diamond: 'diamonds', cross: 'crosses', crescent: 'crescents', ring: 'rings', arrow: 'arrows',
};

export const COLOURS = {
  red: [215, 40, 40],
  orange: [240, 135, 30],
  yellow: [240, 210, 35],
  green: [45, 160, 60],
  blue: [40, 90, 215],
  purple: [135, 60, 185],
  pink: [240, 120, 185],
  brown: [125, 75, 35],
  black: [30, 30, 30],
  white: [245, 245, 245],
  gray: [135, 135, 135],
  cyan: [40, 195, 215],
} satisfies Record<string, RGB>;
export type Colour = keyof typeof COLOURS;
export const COLOUR_NAMES = Object.keys(COLOURS) as Colour[];

export const SIZES = ['small', 'medium', 'large'] as const;
export type Size = (typeof SIZES)[number];
/** Extent of the shape's d×d box as a fraction of the image's shorter side; the gaps keep the classes apart. */
export const SIZE_RANGE: Record<Size, [number, number]> = { small: [0.15, 0.17], medium: [0.23, 0.26], large: [0.33, 0.37] };
/** Words a speaker uses for each size; the first is the canonical one (region captions). */
export const SIZE_WORDS: Record<Size, string[]> = { small: ['small'], medium: ['medium', 'medium-sized'], large: ['large', 'big'] };

export const TEXTURES = ['plain', 'striped', 'dotted', 'checkered'] as const;
export type Texture = (typeof TEXTURES)[number];
/** How a narrator says the texture after the noun ("a red star with stripes"). */
export const TEXTURE_PHRASE: Record<Texture, string> = { plain: '', striped: 'with stripes', dotted: 'with dots', checkered: 'with a checkered pattern' };

export const BACKGROUND_COLOURS = {
  'light gray': [212, 212, 210],
  'dark gray': [72, 72, 78],
  beige: [226, 210, 178],
  'light blue': [178, 208, 235],
  'light green': [196, 226, 184],
  cream: [246, 238, 214],
  lavender: [214, 204, 236],
  'dark blue': [36, 46, 92],
  'dark green': [40, 72, 46],
  'light pink': [242, 214, 220],
} satisfies Record<string, RGB>;
export type BackgroundColour = keyof typeof BACKGROUND_COLOURS;
export const BACKGROUND_COLOUR_NAMES = Object.keys(BACKGROUND_COLOURS) as BackgroundColour[];

/** plain; gradient from the first colour (top) to the second; split into a top and a bottom colour; grainy; tiled. */
export const BACKGROUND_KINDS = ['plain', 'gradient', 'split', 'grainy', 'tiled'] as const;
export type BackgroundKind = (typeof BACKGROUND_KINDS)[number];

/** The indefinite article for a phrase ("an orange circle"). */
export function article(phrase: string): string {
  return /^[aeio]/.test(phrase) ? 'an' : 'a';
}

export const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
export const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'];
