// A planned batch → padded tensors: token ids with their masks, prompt tokens, prompt and target boxes, per-token
// trace targets, all in pixels of the S×S canvas (the image's place on it is the item's Geometry). The image tensors
// come from the workers (see image_job.ts) and are joined in by the loader.
import { Tensor } from '../../tensor/tensor.ts';
import type { Box, Task } from '../types.ts';
import { boxTouchesWindow, boxVisible, mapBox, scaleOf, type Geometry } from '../image/geometry.ts';
import type { Normalization } from '../image/normalize.ts';
import type { ImageJobItem } from './image_job.ts';
import { captionTokens, tokenTraceTargets, type SpecialTokens } from '../trace_targets.ts';
import type { BatchPlan } from './sampler.ts';
import { BatchError } from './source.ts';

/** What the batcher needs of a tokenizer (the WordPiece / SentencePiece / BPE ones all provide it). */
export interface TextTokenizer extends SpecialTokens {
  /** ids of the text alone, without BOS/EOS */
  encode(text: string): number[];
}

/** The shape of the project's tokenizers (src/data/tokenizers), whose special ids may be missing. */
export interface TokenizerWithIds {
  encode(text: string): number[];
  bosId: number | null;
  eosId: number | null;
  padId: number | null;
}

/**
 * A batch tokenizer from one of the project's tokenizers; `fill` supplies the special ids it lacks (T5 has no BOS:
 * its decoder starts from the pad id 0; Llama has no pad). A still missing id is an error naming it.
 */
export function textTokenizer(tok: TokenizerWithIds, fill: Partial<SpecialTokens> = {}): TextTokenizer {
  const need = (name: keyof SpecialTokens, id: number | null): number => {
    const v = fill[name] ?? id;
    if (v === null || v === undefined) throw new BatchError(`the tokenizer has no ${name} id; give one, e.g. textTokenizer(tok, { ${name}: <id> })`);
    return v;
  };
  return { bos: need('bos', tok.bosId), eos: need('eos', tok.eosId), pad: need('pad', tok.padId), encode: (text) => tok.encode(text) };
}

export interface CollateOptions {
  tokenizer: TextTokenizer;
  /** BOS + text + EOS is cut to this many tokens (a long text loses its EOS, as in the reference) */
  maxTokens: number;
  /** prompt + EOS is cut to this many */
  maxPromptTokens: number;
  /** carry object masks for examples with a segmentation */
  masks: boolean;
}

/** One batch of one task. B examples, T tokens, P prompt tokens, S the canvas side. */
export interface Batch {
  /** 0-based position in the sampler's sequence */
  index: number;
  task: Task;
  source: string;
  ids: string[];
  imageIds: string[];
  /** the texts as trained on (left/right swapped where the image was mirrored) */
  texts: string[];
  prompts: string[];
  references: string[][];
  /** (B, 3, S, S) float32 per normalisation, zeros in the padding */
  images: Partial<Record<Normalization, Tensor>>;
  /** (B, S, S) bool, 1 on valid pixels */
  paddingMask: Tensor;
  /** where each image lies on the canvas (scale, crop, flip): maps any other original-pixel box with mapBox */
  geometries: Geometry[];
  /** (B, 2) int32 valid [width, height] on the canvas */
  validSize: Tensor;
  /** (B, 2) float32 canvas pixels per original pixel [x, y] */
  scale: Tensor;
  /** (B) bool, the image was mirrored */
  flipped: Tensor;
  /** (B, T) int32 BOS + text + EOS, padded */
  tokens: Tensor;
  /** (B, T) bool, 1 on real positions (BOS and EOS included) */
  tokenMask: Tensor;
  /** (B, P) int32 prompt + EOS, padded */
  promptTokens: Tensor;
  /** (B, P) bool */
  promptMask: Tensor;
  /** (B, 4) float32 the box given to the prompt encoder: the region for regioncap, the whole valid image otherwise */
  promptBoxes: Tensor;
  /** refer: the object's box; regioncap: the region; (B, 4) float32, zeros on other tasks */
  boxes: Tensor;
  /** (B) bool, the box is still in view after the crop (refer/regioncap); 0 on other tasks */
  boxValid: Tensor;
  /**
   * trace: (B, T, 4) float32 each token's target box, the reference's 2 points per token (top-left, bottom-right);
   * DESIGN §2 step 3, matched by tokenTraceTargets (src/data/trace_targets.ts)
   */
  traceBoxes?: Tensor;
  /** trace: (B, T) bool, the token has a target */
  traceMask?: Tensor;
  /** (B, S, S) bool object masks on the canvas, when examples have segmentations (and masks are not turned off) */
  masks?: Tensor;
  /** (B) bool, the example had a segmentation */
  maskValid?: Tensor;
}

export type TextBatch = Omit<Batch, 'images' | 'paddingMask' | 'masks'>;

/** Everything but the pixels, plus the image jobs for the workers. */
export function collateText(plan: BatchPlan, opts: CollateOptions): { batch: TextBatch; items: ImageJobItem[] } {
  const tok = opts.tokenizer;
  const B = plan.items.length;
  const ids = plan.items.map((it) => captionTokens(tok.encode(it.text), tok, opts.maxTokens));
  const prompts = plan.items.map((it) => promptRow(tok.encode(it.prompt), tok.eos, opts.maxPromptTokens));
  const [tokens, tokenMask] = padIds(ids, tok.pad); // (B, T)
  const [promptTokens, promptMask] = padIds(prompts, tok.pad); // (B, P)
  const T = tokens.shape[1]!;
  const validSize = new Int32Array(B * 2);
  const scale = new Float32Array(B * 2);
  const flipped = new Uint8Array(B);
  const promptBoxes = new Float32Array(B * 4);
  const boxes = new Float32Array(B * 4);
  const boxValid = new Uint8Array(B);
  const trace = plan.task === 'trace' ? { boxes: new Float32Array(B * T * 4), mask: new Uint8Array(B * T) } : null;
  const items: ImageJobItem[] = [];
  plan.items.forEach((it, b) => {
    const g = it.geometry;
    const ex = it.example;
    validSize.set([g.validWidth, g.validHeight], b * 2);
    scale.set(scaleOf(g), b * 2);
    flipped[b] = +g.flip;
    const whole: Box = [0, 0, g.validWidth, g.validHeight];
    if (plan.task === 'refer' || plan.task === 'regioncap') {
      if (!ex.box) throw new BatchError(`source '${plan.source}', example ${ex.id}: a ${plan.task} example needs a box`);
      boxes.set(mapBox(g, ex.box), b * 4);
      boxValid[b] = +boxVisible(g, ex.box);
    }
    promptBoxes.set(plan.task === 'regioncap' ? mapBox(g, ex.box!) : whole, b * 4);
    if (trace) {
      const t = tokenTraceTargets(ids[b]!, tok, ex.utterances ?? [], ex.width, ex.height);
      for (let i = 0; i < ids[b]!.length; i++) {
        const box = Array.from(t.boxes.subarray(i * 4, i * 4 + 4)) as Box;
        // no utterance, an all-zero box (the reference's point loss skips those) or cropped out of view: no target
        if (t.utterance[i]! < 0 || box.every((v) => v === 0) || !boxTouchesWindow(g, box)) continue;
        trace.boxes.set(mapBox(g, box), (b * T + i) * 4);
        trace.mask[b * T + i] = 1;
      }
    }
    items.push({ file: ex.imagePath, geometry: g, segmentation: opts.masks ? ex.segmentation : undefined });
  });
  const batch: TextBatch = {
    index: plan.index,
    task: plan.task,
    source: plan.source,
    ids: plan.items.map((it) => it.example.id),
    imageIds: plan.items.map((it) => it.example.imageId),
    texts: plan.items.map((it) => it.text),
    prompts: plan.items.map((it) => it.prompt),
    references: plan.items.map((it) => it.example.references ?? [it.example.text]),
    geometries: plan.items.map((it) => it.geometry),
    validSize: new Tensor(validSize, [B, 2]),
    scale: new Tensor(scale, [B, 2]),
    flipped: new Tensor(flipped, [B]),
    tokens,
    tokenMask,
    promptTokens,
    promptMask,
    promptBoxes: new Tensor(promptBoxes, [B, 4]),
    boxes: new Tensor(boxes, [B, 4]),
    boxValid: new Tensor(boxValid, [B]),
  };
  if (items.some((it) => it.segmentation)) batch.maskValid = new Tensor(Uint8Array.from(items, (it) => +!!it.segmentation), [B]);
  if (trace) {
    batch.traceBoxes = new Tensor(trace.boxes, [B, T, 4]);
    batch.traceMask = new Tensor(trace.mask, [B, T]);
  }
  return { batch, items };
}

/** A prompt's ids cut to leave room for its EOS, then the EOS: the decoders rely on a prompt ending with it. */
export function promptRow(ids: readonly number[], eos: number, max: number): number[] {
  return [...ids.slice(0, max - 1), eos];
}

/** Ragged id lists → (B, longest) int32 ids padded with `pad`, and the (B, longest) bool mask of real positions. */
export function padIds(rows: number[][], pad: number): [Tensor, Tensor] {
  const B = rows.length;
  const T = Math.max(1, ...rows.map((r) => r.length));
  const ids = new Int32Array(B * T).fill(pad);
  const mask = new Uint8Array(B * T);
  rows.forEach((r, b) => {
    ids.set(r, b * T);
    mask.fill(1, b * T, b * T + r.length);
  });
  return [new Tensor(ids, [B, T]), new Tensor(mask, [B, T])];
}
