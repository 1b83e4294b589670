// What inference returns for each task: the JSON the command line prints and the overlay draws. Every coordinate is
// in pixels of the original image's stored pixel grid (no EXIF rotation), as dataset annotations are.
import type { Box, Point } from '../data/types.ts';

export type { Box, Point };

/** One word of a pixel-aligned caption and where it is: its tokens' trace summarised as a box and its centre. */
export interface WordLocation {
  word: string;
  /** the tokenizer's pieces that make up the word (their points were merged into `box`) */
  tokens: string[];
  box: Box;
  /** the centre of `box` */
  point: Point;
}

/** A caption with a location for every word (the trace). */
export interface CaptionResult {
  task: 'caption';
  text: string;
  /** the decoder's score of the caption (log-probability as the decoding ranks it) */
  score: number;
  words: WordLocation[];
}

/** The box a referring expression names. */
export interface LocateResult {
  task: 'locate';
  expression: string;
  box: Box;
  score?: number;
}

/** The mask (and its box) of the object a referring expression names. */
export interface SegmentResult {
  task: 'segment';
  expression: string;
  box: Box;
  /** COCO compressed RLE over the whole image; size is [height, width] */
  mask: { size: [number, number]; counts: string };
  /** mask pixels */
  area: number;
}

/** The caption of a region given by a box (or a point, whose region is `box`). */
export interface DescribeResult {
  task: 'describe';
  box: Box;
  point?: Point;
  text: string;
  score: number;
}

/** Dense captioning: proposed regions, each with a caption. */
export interface DenseResult {
  task: 'dense';
  regions: { box: Box; score: number; text: string }[];
}

export type TaskResult = CaptionResult | LocateResult | SegmentResult | DescribeResult | DenseResult;

export const TASK_NAMES: readonly TaskResult['task'][] = ['caption', 'locate', 'segment', 'describe', 'dense'];
