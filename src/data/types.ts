// The records every dataset reader yields and the batcher consumes. One record is one training/eval example of one
// task; images are referenced by path and decoded later (in worker threads), never held by a reader.

/** [x0, y0, x1, y1] in pixels of the original image (COCO's [x, y, w, h] is converted at the reader). */
export type Box = [number, number, number, number];

/** A point in pixels of the original image. */
export type Point = [number, number];

/**
 * Which head and prompt an example trains:
 * - `trace`: a long caption whose every token has a location target (Localized Narratives);
 * - `caption`: a short whole-image caption (COCO captions);
 * - `refer`: a referring expression and the box (and mask) of its object (RefCOCO/+/g);
 * - `regioncap`: a box prompt and the caption of that region (Visual Genome, RefCOCO as captions).
 */
export type Task = 'trace' | 'caption' | 'refer' | 'regioncap';

/** A segmentation as the COCO json holds it: polygons, or RLE (counts as a list or as the compressed string). */
export type Segmentation = number[][] | { size: [number, number]; counts: number[] | string };

/** One utterance of a narrative with its trace summary, in fractions of the image (LN's convention, may leave [0, 1]). */
export interface UtteranceTarget {
  utterance: string;
  /** box of the 16 linear samples of the trace over [start_time, end_time] */
  box: Box;
  /** time-averaged centre of the trace over the utterance */
  center: Point;
}

export interface Example {
  task: Task;
  /** the dataset and split it came from, e.g. `refcoco/unc/val`, `ln/coco/train` */
  source: string;
  /** stable id within the source (ref id, annotation id, `image_id:annotator_id`, ...) used by evaluation */
  id: string;
  imageId: string;
  /** path of the image file, resolved against the dataset's image folder */
  imagePath: string;
  /** original image size in pixels; 0 × 0 when the files do not give it (Localized Narratives, the embedded-ann
   * RefCOCO layout, VG without image_data): the image decoder knows it */
  width: number;
  height: number;
  /** the caption, referring expression or region caption */
  text: string;
  /** refer: the object's box; regioncap: the prompt box */
  box?: Box;
  segmentation?: Segmentation;
  /** trace: per-utterance targets, in caption order, before token matching */
  utterances?: UtteranceTarget[];
  /** every reference text for this image/region/object, for evaluation (captions of the same image, all refs of one object) */
  references?: string[];
}
