// Counts and distributions over a stream of Examples, for `pixelllm data stats`: memory grows with the number of
// images (one counter each) and of distinct values, not with the number of examples.
import type { Example } from './types.ts';

/** Upper bounds (inclusive) of histogram bins; the last bin takes everything above. */
const COUNT_BINS = [0, 1, 2, 4, 8, 16, 32, 64, 128];
const SIDE_BINS = [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1];

export interface Distribution {
  count: number;
  min: number;
  median: number;
  mean: number;
  max: number;
  /** bin label → count, e.g. `5-8` */
  histogram: Record<string, number>;
}

export interface Summary {
  examples: number;
  images: number;
  tasks: Record<string, number>;
  sources: Record<string, number>;
  /** words per text (caption, expression, phrase) */
  textWords?: Distribution;
  referencesPerExample?: Distribution;
  /** objects per image: examples sharing the box of the example before them count once (one object's sentences) */
  boxesPerImage?: Distribution;
  /** COCO's area classes in pixels: small < 32², medium < 96², large */
  boxArea?: Record<'small' | 'medium' | 'large', number>;
  /** sqrt(box area / image area), where the image size is known */
  boxRelativeSide?: Distribution;
  /** boxes with no area, or reaching outside their image (by more than a pixel) */
  boxProblems?: { empty: number; outside: number };
  masks?: { polygons: number; rle: number };
  utterancesPerNarrative?: Distribution;
  /** utterances a token can match: non-blank text, centre inside (x, y > 1e-5) */
  validUtteranceFraction?: number;
  /** images whose size the files give (the others have width and height 0: unknown until decoded) */
  imagesWithSize: number;
}

/** A distribution kept as counts per value (values rounded to 1e-3), so memory grows with distinct values only. */
class Values {
  private readonly counts = new Map<number, number>();
  private sum = 0;
  count = 0;

  constructor(private readonly bins: number[], private readonly integer: boolean) {}

  add(v: number): void {
    const key = this.integer ? v : Math.round(v * 1000) / 1000;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.sum += v;
    this.count++;
  }

  summary(): Distribution | undefined {
    if (this.count === 0) return undefined;
    const values = [...this.counts.keys()].sort((a, b) => a - b);
    const quantile = (rank: number): number => {
      let seen = 0;
      for (const v of values) if ((seen += this.counts.get(v)!) > rank) return v;
      return values[values.length - 1];
    };
    const n = this.count;
    const median = n % 2 ? quantile((n - 1) / 2) : (quantile(n / 2 - 1) + quantile(n / 2)) / 2;
    const labels = this.bins.map((hi, i) => {
      const lo = i === 0 ? hi : this.bins[i - 1];
      if (!this.integer) return `${i === 0 ? 0 : lo}-${hi}`;
      return i === 0 || lo + 1 >= hi ? `${hi}` : `${lo + 1}-${hi}`;
    });
    const bins = new Array<number>(labels.length + 1).fill(0);
    for (const v of values) {
      const i = this.bins.findIndex((hi) => v <= hi);
      bins[i < 0 ? labels.length : i] += this.counts.get(v)!;
    }
    labels.push(`>${this.bins[this.bins.length - 1]}`);
    const first = bins.findIndex((c) => c > 0);
    const last = bins.length - 1 - [...bins].reverse().findIndex((c) => c > 0);
    const histogram: Record<string, number> = {};
    for (let i = first; i <= last; i++) histogram[labels[i]] = bins[i];
    const round = (v: number): number => Math.round(v * 1000) / 1000;
    return { count: n, min: values[0], median: round(median), mean: round(this.sum / n), max: values[values.length - 1], histogram };
  }
}

export class DatasetStats {
  private examples = 0;
  private readonly tasks = new Map<string, number>();
  private readonly sources = new Map<string, number>();
  private readonly boxesByImage = new Map<string, number>();
  private readonly sized = new Set<string>();
  private readonly words = new Values(COUNT_BINS, true);
  private readonly references = new Values(COUNT_BINS, true);
  private readonly sides = new Values(SIDE_BINS, false);
  private readonly utterances = new Values(COUNT_BINS, true);
  private readonly area = { small: 0, medium: 0, large: 0 };
  private readonly problems = { empty: 0, outside: 0 };
  private readonly masks = { polygons: 0, rle: 0 };
  private boxes = 0;
  private utteranceTotal = 0;
  private utteranceValid = 0;
  private lastBox = '';

  add(ex: Example): void {
    this.examples++;
    this.tasks.set(ex.task, (this.tasks.get(ex.task) ?? 0) + 1);
    this.sources.set(ex.source, (this.sources.get(ex.source) ?? 0) + 1);
    if (!this.boxesByImage.has(ex.imageId)) this.boxesByImage.set(ex.imageId, 0);
    if (ex.width > 0 && ex.height > 0) this.sized.add(ex.imageId);
    this.words.add(ex.text.split(/\s+/).filter(Boolean).length);
    if (ex.references) this.references.add(ex.references.length);
    if (ex.box) this.addBox(ex);
    if (ex.segmentation) Array.isArray(ex.segmentation) ? this.masks.polygons++ : this.masks.rle++;
    if (ex.utterances) {
      this.utterances.add(ex.utterances.length);
      for (const u of ex.utterances) {
        this.utteranceTotal++;
        if (u.utterance.trim() && u.center[0] > 1e-5 && u.center[1] > 1e-5) this.utteranceValid++;
      }
    }
  }

  private addBox(ex: Example): void {
    const [x0, y0, x1, y1] = ex.box!;
    const key = `${ex.imageId}:${ex.box!.join(',')}`;
    if (key === this.lastBox) return; // the same object again (another sentence of one ref)
    this.lastBox = key;
    this.boxes++;
    this.boxesByImage.set(ex.imageId, this.boxesByImage.get(ex.imageId)! + 1);
    const area = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
    if (area === 0) this.problems.empty++;
    this.area[area < 32 * 32 ? 'small' : area < 96 * 96 ? 'medium' : 'large']++;
    if (ex.width > 0 && ex.height > 0) {
      this.sides.add(Math.sqrt(area / (ex.width * ex.height)));
      if (x0 < -1 || y0 < -1 || x1 > ex.width + 1 || y1 > ex.height + 1) this.problems.outside++;
    }
  }

  summary(): Summary {
    const record = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]));
    const out: Summary = {
      examples: this.examples,
      images: this.boxesByImage.size,
      tasks: record(this.tasks),
      sources: record(this.sources),
      textWords: this.words.summary(),
      imagesWithSize: this.sized.size,
    };
    if (this.references.count) out.referencesPerExample = this.references.summary();
    if (this.boxes) {
      const perImage = new Values(COUNT_BINS, true);
      for (const n of this.boxesByImage.values()) perImage.add(n);
      out.boxesPerImage = perImage.summary();
      out.boxArea = { ...this.area };
      out.boxRelativeSide = this.sides.summary();
      out.boxProblems = { ...this.problems };
    }
    if (this.masks.polygons + this.masks.rle) out.masks = { ...this.masks };
    if (this.utterances.count) {
      out.utterancesPerNarrative = this.utterances.summary();
      out.validUtteranceFraction = Math.round((this.utteranceValid / this.utteranceTotal) * 1000) / 1000;
    }
    return out;
  }
}
