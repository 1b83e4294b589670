// Inference for every task, batched over images (DESIGN §2): pixel-aligned captions (beam or greedy, then the decoded
// tokens teacher-forced through the decoder for their points), referring boxes (the pre-EOS position) and masks (that
// box through the mask adapter and SAM's decoder), region captions from a box or a point, and dense captions
// (proposals, each captioned). Results are in the original image's pixels.
import { Tensor, indexSelect, noGrad, resize } from '../tensor/index.ts';
import { beamSearch, greedy } from '../models/generate.ts';
import type { PixelLLM, ImageFeatures } from '../models/pixelllm/pixelllm.ts';
import { pointsToBoxes } from '../models/pixelllm/point_head.ts';
import { decodeCellBoxes, topProposals } from '../models/pixelllm/proposal_head.ts';
import { loadModelFolder } from '../models/pixelllm/files.ts';
import type { Tokenizer } from '../data/tokenizers/index.ts';
import type { Box, Point, Task } from '../data/types.ts';
import { compress, encodeBitmap, rleArea } from '../data/mask.ts';
import { atPreEos } from '../train/losses.ts';
import { padIds, promptRow } from '../data/batch/collate.ts';
import { boxIou } from '../eval/localization.ts';
import { UserError } from '../errors.ts';
import type { CaptionResult, DenseResult, DescribeResult, LocateResult, SegmentResult } from './results.ts';
import { boxCentre, boxToCanvas, boxToOriginal, prepareImages, type PreparedImages } from './images.ts';
import { groupWords, meanBox } from './words.ts';

export class InputError extends UserError {
  override name = 'InputError';
}

export interface CaptionOptions {
  /** 'trace' (default): a long pixel-aligned caption, the LN prompt; 'caption': a short one, the COCO prompt */
  task?: 'trace' | 'caption';
  /** beams (DESIGN: 4 with length penalty 0.6); 1 = greedy */
  beams?: number;
  lengthPenalty?: number;
  maxNewTokens?: number;
}

interface Encoded {
  images: PreparedImages;
  features: ImageFeatures;
}

export class PixelLLMPipeline {
  constructor(readonly model: PixelLLM, readonly tokenizer: Tokenizer) {
    model.eval();
  }

  static load(dir: string): PixelLLMPipeline {
    const { model, tokenizer } = loadModelFolder(dir);
    return new PixelLLMPipeline(model, tokenizer);
  }

  get imageSize(): number {
    return this.model.config.image_size;
  }

  async encode(files: string[]): Promise<Encoded> {
    return this.encodeImages(await this.prepare(files));
  }

  /** Decoded, resized and normalised images: what every task's encoder reads. */
  async prepare(files: string[]): Promise<PreparedImages> {
    if (files.length === 0) throw new InputError('no images given');
    return prepareImages(files, this.imageSize, this.model.normalizations);
  }

  encodeImages(images: PreparedImages): Encoded {
    return { images, features: noGrad(() => this.model.encode(images.pixels)) };
  }

  /** prompt text → (B, P) ids ending with EOS, and its mask. */
  private promptIds(texts: string[]): { ids: Tensor; mask: Tensor } {
    const t = this.model.textual;
    const rows = texts.map((s) => promptRow(this.tokenizer.encode(s), t.eosId, this.model.config.max_prompt_tokens));
    const [ids, mask] = padIds(rows, t.padId);
    return { ids, mask };
  }

  private prompt(task: Task, text = ''): string {
    return this.model.config.prompts[task].replace('{text}', () => text); // a function: `$&` in the text stays literal
  }

  /** Pixel-aligned captions: every word with its box and point. */
  async caption(files: string[], opts: CaptionOptions = {}): Promise<CaptionResult[]> {
    return this.captionImages(await this.prepare(files), opts);
  }

  /** caption() of images already prepared (the benchmark times this against a peer that starts from pixels). */
  captionImages(images: PreparedImages, opts: CaptionOptions = {}): CaptionResult[] {
    const enc = this.encodeImages(images);
    const task = opts.task ?? 'trace';
    const out = this.generate(enc.features, wholeBoxes(enc.images), enc.images.geometries.map(() => this.prompt(task)), opts);
    const t = this.model.textual;
    const located = this.tokenBoxes(enc, out.map((o) => [t.bosId, ...o.ids, t.eosId]), task);
    return out.map((o, b) => {
        const tokenBoxes = located[b]!.slice(1, 1 + o.ids.length);
        const words = groupWords(this.tokenizer, o.ids).map((w) => {
          const box = meanBox(tokenBoxes.slice(w.from, w.to));
          return { word: w.word, tokens: w.tokens, box, point: boxCentre(box) };
        });
        return { task: 'caption' as const, text: this.tokenizer.decode(o.ids), score: o.score, words };
    });
  }

  /**
   * The point head's box for every position of given token rows (BOS + text + EOS, as trained), teacher-forced under
   * the whole-image prompt of `task`: per row, one box a token, in original pixels.
   */
  async locateTokens(files: string[], rows: number[][], task: 'trace' | 'caption' = 'trace'): Promise<Box[][]> {
    return this.tokenBoxes(await this.encode(files), rows, task);
  }

  private tokenBoxes(enc: Encoded, rows: number[][], task: 'trace' | 'caption'): Box[][] {
    return noGrad(() => {
      const B = rows.length;
      const visual = this.model.visualTokens(enc.features, wholeBoxes(enc.images));
      const { ids: promptIds, mask: promptMask } = this.promptIds(rows.map(() => this.prompt(task)));
      const [tokens, tokenMask] = padIds(rows, this.model.textual.padId);
      const hidden = this.model.text({ visual, promptIds, promptMask, tokens, tokenMask }); // (B, T, W)
      const boxes = pointsToBoxes(this.model.points(hidden, enc.features, enc.images.validSize), enc.images.validSize.reshape(B, 1, 2)).contiguous(); // (B, T, 4)
      const T = tokens.shape[1]!;
      return rows.map((row, b) => row.map((_, i) => boxToOriginal(enc.images.geometries[b]!, boxes.data.subarray((b * T + i) * 4, (b * T + i + 1) * 4))));
    });
  }

  /** Referring boxes, one expression per image. */
  async locate(files: string[], expressions: string[]): Promise<LocateResult[]> {
    const enc = await this.encode(files);
    return this.referBoxes(enc, expressions).map((r) => ({ task: 'locate' as const, expression: r.expression, box: r.box }));
  }

  /** Referring masks: the located box through the mask adapter and SAM's decoder. */
  async segment(files: string[], expressions: string[]): Promise<SegmentResult[]> {
    const enc = await this.encode(files);
    const refs = this.referBoxes(enc, expressions);
    return noGrad(() => {
      const B = files.length;
      const canvasBoxes = new Tensor(Float32Array.from(refs.flatMap((r) => r.canvasBox)), [B, 4]);
      const { logits } = this.model.masks(enc.features, refs[0]!.visual, refs[0]!.hidden, refs[0]!.tokenMask, canvasBoxes); // (B, m, m)
      const S = this.imageSize;
      const up = resize(logits, [S, S], { method: 'bilinear', convention: 'jax', antialias: false }); // (B, S, S)
      return refs.map((r, b) => {
        const g = enc.images.geometries[b]!;
        const valid = up.slice(0, b, b + 1).slice(1, 0, g.validHeight).slice(2, 0, g.validWidth); // (1, vh, vw)
        const full = resize(valid.contiguous(), [g.height, g.width], { method: 'bilinear', convention: 'jax', antialias: true }).contiguous(); // (1, h, w)
        const bits = new Uint8Array(g.height * g.width);
        for (let i = 0; i < bits.length; i++) bits[i] = full.data[i]! > 0 ? 1 : 0;
        const rle = encodeBitmap({ height: g.height, width: g.width, data: bits });
        return { task: 'segment' as const, expression: r.expression, box: r.box, mask: compress(rle), area: rleArea(rle) };
      });
    });
  }

  private referBoxes(enc: Encoded, expressions: string[]) {
    const B = expressions.length;
    if (B !== enc.images.geometries.length) throw new InputError(`${B} expressions for ${enc.images.geometries.length} images`);
    for (const e of expressions) if (e.trim() === '') throw new InputError('the referring expression is empty; give the words that pick out an object, e.g. "the red circle"');
    return noGrad(() => {
      const visual = this.model.visualTokens(enc.features, wholeBoxes(enc.images));
      const { ids: promptIds, mask: promptMask } = this.promptIds(expressions.map((e) => this.prompt('refer', e)));
      const t = this.model.textual;
      const [tokens, tokenMask] = padIds(expressions.map((e) => [t.bosId, ...this.tokenizer.encode(e), t.eosId].slice(0, this.model.config.max_text_tokens)), t.padId);
      const hidden = this.model.text({ visual, promptIds, promptMask, tokens, tokenMask });
      const raw = this.model.points(atPreEos(hidden, tokenMask).unsqueeze(1), enc.features, enc.images.validSize).squeeze(1); // (B, 8)
      const boxes = pointsToBoxes(raw, enc.images.validSize).contiguous(); // (B, 4) canvas pixels
      return expressions.map((expression, b) => {
        const c = Array.from(boxes.data.subarray(b * 4, b * 4 + 4));
        const canvasBox = [Math.min(c[0]!, c[2]!), Math.min(c[1]!, c[3]!), Math.max(c[0]!, c[2]!), Math.max(c[1]!, c[3]!)];
        return { expression, box: boxToOriginal(enc.images.geometries[b]!, canvasBox), canvasBox, visual, hidden, tokenMask };
      });
    });
  }

  /** Region captions for one box (or point) per image, in original pixels. */
  async describe(files: string[], regions: ({ box: Box } | { point: Point })[]): Promise<DescribeResult[]> {
    const enc = await this.encode(files);
    const boxes = regions.map((r, b) => {
      const g = enc.images.geometries[b]!;
      if ('box' in r) {
        checkBox(r.box, g.width, g.height);
        return r.box;
      }
      checkPoint(r.point, g.width, g.height);
      return this.boxAtPoint(enc, b, r.point);
    });
    const canvas = new Tensor(Float32Array.from(boxes.flatMap((box, b) => boxToCanvas(enc.images.geometries[b]!, box))), [boxes.length, 4]);
    const out = this.generate(enc.features, canvas, files.map(() => this.prompt('regioncap')), { beams: 1 });
    return out.map((o, b) => {
      const r = regions[b]!;
      return { task: 'describe' as const, box: boxes[b]!, ...('point' in r ? { point: r.point } : {}), text: this.tokenizer.decode(o.ids), score: o.score };
    });
  }

  /** A point → the best-scoring proposal that contains it, else a box of a tenth of the shorter side around it. */
  private boxAtPoint(enc: Encoded, b: number, point: Point): Box {
    const g = enc.images.geometries[b]!;
    const found = this.proposals(enc).at(b)!.find((p) => p.box[0] <= point[0] && point[0] <= p.box[2] && p.box[1] <= point[1] && point[1] <= p.box[3]);
    if (found) return found.box;
    const r = Math.min(g.width, g.height) / 20;
    const round = (v: number) => Math.round(v * 100) / 100;
    return [Math.max(0, point[0] - r), Math.max(0, point[1] - r), Math.min(g.width, point[0] + r), Math.min(g.height, point[1] + r)].map(round) as Box;
  }

  /** Proposals per image in original pixels, best first, near-duplicates (IoU > 0.7) removed. */
  private proposals(enc: Encoded): { box: Box; score: number }[][] {
    const { proposal_head: p, image_size: S } = this.model.config;
    return noGrad(() => {
      const { logits, ltrb } = this.model.box_decoder.forward(enc.features.fused);
      return topProposals(logits, decodeCellBoxes(ltrb, S), p.max_proposals, p.score_threshold).map((list, b) => {
        const kept: { box: Box; score: number }[] = [];
        for (const q of list) {
          const box = boxToOriginal(enc.images.geometries[b]!, q.box);
          if (box[2] - box[0] < 1 || box[3] - box[1] < 1) continue;
          if (!kept.some((k) => boxIou(k.box, box) > 0.7)) kept.push({ box, score: Math.round(q.score * 1e4) / 1e4 });
        }
        return kept;
      });
    });
  }

  /** Dense captions: proposals, each captioned greedily with repeat suppression. */
  async dense(files: string[]): Promise<DenseResult[]> {
    const enc = await this.encode(files);
    const props = this.proposals(enc);
    return props.map((list, b) => {
      if (list.length === 0) return { task: 'dense' as const, regions: [] };
      const pick = new Tensor(new Int32Array(list.length).fill(b), [list.length]);
      const features = { fused: indexSelect(enc.features.fused, 0, pick), sam: indexSelect(enc.features.sam, 0, pick) };
      const g = enc.images.geometries[b]!;
      const canvas = new Tensor(Float32Array.from(list.flatMap((p) => boxToCanvas(g, p.box))), [list.length, 4]);
      const out = this.generate(features, canvas, list.map(() => this.prompt('regioncap')), { beams: 1 }, true);
      return { task: 'dense' as const, regions: list.map((p, i) => ({ box: p.box, score: p.score, text: this.tokenizer.decode(out[i]!.ids) })) };
    });
  }

  /** Decodes one text per row for prompt boxes (B, 4) in canvas pixels; the ids exclude BOS/EOS. */
  private generate(features: ImageFeatures, boxes: Tensor, prompts: string[], opts: CaptionOptions, suppressRepeat = false): { ids: number[]; score: number }[] {
    return noGrad(() => {
      const t = this.model.textual;
      const visual = this.model.visualTokens(features, boxes);
      const { ids, mask } = this.promptIds(prompts);
      const maxNewTokens = opts.maxNewTokens ?? this.model.config.max_text_tokens - 1;
      const { session, first } = t.startDecoding(visual, ids, mask, maxNewTokens);
      const base = { maxNewTokens, eosTokenId: t.eosId, padTokenId: t.padId, suppressRepeat };
      const beams = opts.beams ?? 1;
      const gen = beams > 1 ? beamSearch(session, first, { ...base, numBeams: beams, lengthPenalty: opts.lengthPenalty ?? 0.6 }) : greedy(session, first, base);
      const seq = gen.sequences;
      const L = seq.shape.at(-1)!;
      const start = first.shape[1]!;
      const values = seq.toArray();
      return prompts.map((_, b) => {
        const row = Array.from(values.slice(beams > 1 ? b * beams * L : b * L, (beams > 1 ? b * beams * L : b * L) + L)).slice(start);
        const end = row.indexOf(t.eosId);
        return { ids: end < 0 ? row : row.slice(0, end), score: Math.round(gen.scores[beams > 1 ? b * beams : b]! * 1e4) / 1e4 };
      });
    });
  }
}

function wholeBoxes(images: PreparedImages): Tensor {
  return new Tensor(Float32Array.from(images.geometries.flatMap((g) => [0, 0, g.validWidth, g.validHeight])), [images.geometries.length, 4]);
}

function checkBox(box: Box, w: number, h: number): void {
  const [x0, y0, x1, y1] = box;
  if (!box.every(Number.isFinite) || !(x1 > x0 && y1 > y0)) throw new InputError(`box ${box.join(',')}: expected x0,y0,x1,y1 with x1 > x0 and y1 > y0`);
  if (x0 < 0 || y0 < 0 || x1 > w || y1 > h) throw new InputError(`box ${box.join(',')} is outside the ${w}×${h} image; coordinates are pixels from 0,0 to ${w},${h}`);
}

function checkPoint(p: Point, w: number, h: number): void {
  if (!p.every(Number.isFinite) || p[0] < 0 || p[1] < 0 || p[0] > w || p[1] > h) throw new InputError(`point ${p.join(',')} is outside the ${w}×${h} image`);
}

