// Synthetic training batches of the shapes training sees (a seeded function of the model's config): a trace batch of
// long captions (T = max_text_tokens) with per-token target boxes, and a referring batch with short expressions, their
// boxes and object masks; every image carries a few object boxes for the proposal head, as the synthetic set does.
// Pixels are noise: the cost of a step does not depend on them. Also written as JSON for the PyTorch peer, which runs
// the same batches.
import { Generator, Tensor } from '../../src/tensor/index.ts';
import type { Batch } from '../../src/data/batch/index.ts';
import type { Box, Task } from '../../src/data/types.ts';
import type { Geometry } from '../../src/data/image/geometry.ts';
import type { Normalization } from '../../src/data/image/normalize.ts';
import type { PixelLLM } from '../../src/models/pixelllm/pixelllm.ts';
import type { ObjectBoxes } from '../../src/train/step.ts';

export interface TrainBatch {
  batch: Batch;
  objects: ObjectBoxes;
}

interface Special {
  bos: number;
  eos: number;
  pad: number;
  vocab: number;
}

/** The trace and referring batches for `model`, B rows each; `prompt(task, text)` gives a task prompt's ids without EOS. */
export function trainBatches(model: PixelLLM, B: number, prompt: (task: Task, text: number[]) => number[], seed = 0): Record<'trace' | 'refer', TrainBatch> {
  const rng = new Generator(seed);
  const { config, textual: t, normalizations } = model;
  const special: Special = { bos: t.bosId, eos: t.eosId, pad: t.padId, vocab: t.vocabSize };
  const S = config.image_size;
  const T = config.max_text_tokens;
  const int = (lo: number, hi: number) => lo + Math.floor(rng.next() * (hi - lo + 1)); // [lo, hi]
  const words = (n: number) => Array.from({ length: n }, () => int(5, special.vocab - 1)); // ids past the special ones
  const box = (minSide: number): Box => {
    const [w, h] = [int(minSide, S / 2), int(minSide, S / 2)];
    const [x, y] = [int(0, S - w), int(0, S - h)];
    return [x, y, x + w, y + h];
  };

  // long narratives: 70 % to all of T tokens, a target box on most tokens
  const traceTexts = Array.from({ length: B }, () => words(int(Math.round(0.7 * T), T) - 2));
  const trace = common('trace', traceTexts.map(() => prompt('trace', [])), traceTexts, special, S, normalizations, rng);
  const Tb = trace.batch.tokens.shape[1]!; // the longest row
  const traceBoxes = new Float32Array(B * Tb * 4);
  const traceMask = new Uint8Array(B * Tb);
  traceTexts.forEach((text, b) => {
    for (let i = 1; i <= text.length; i++) {
      if (rng.next() < 0.15) continue; // tokens said while the mouse was elsewhere
      traceBoxes.set(box(2), (b * Tb + i) * 4);
      traceMask[b * Tb + i] = 1;
    }
  });
  trace.batch.traceBoxes = new Tensor(traceBoxes, [B, Tb, 4]);
  trace.batch.traceMask = new Tensor(traceMask, [B, Tb]);

  // referring expressions of 3–10 tokens, prompt "where is <expression>", one object box and mask each
  const exprs = Array.from({ length: B }, () => words(int(3, 10)));
  const refer = common('refer', exprs.map((e) => prompt('refer', e)), exprs, special, S, normalizations, rng);
  const boxes = exprs.map(() => box(8));
  const masks = new Uint8Array(B * S * S);
  boxes.forEach(([x0, y0, x1, y1], b) => {
    // the ellipse inscribed in the box
    const [cx, cy, rx, ry] = [(x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2];
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1) masks[b * S * S + y * S + x] = 1;
  });
  Object.assign(refer.batch, {
    boxes: new Tensor(Float32Array.from(boxes.flat()), [B, 4]),
    boxValid: new Tensor(new Uint8Array(B).fill(1), [B]),
    masks: new Tensor(masks, [B, S, S]),
    maskValid: new Tensor(new Uint8Array(B).fill(1), [B]),
  });

  for (const tb of [trace, refer]) {
    tb.objects = new Map(tb.batch.imageIds.map((id) => [id, Array.from({ length: int(3, 6) }, () => box(8))]));
  }
  return { trace, refer };
}

function common(task: Task, prompts: number[][], texts: number[][], s: Special, S: number, normalizations: readonly Normalization[], rng: Generator): TrainBatch {
  const B = texts.length;
  const pad = (rows: number[][]): [Tensor, Tensor] => {
    const L = Math.max(...rows.map((r) => r.length));
    const ids = new Int32Array(B * L).fill(s.pad);
    const mask = new Uint8Array(B * L);
    rows.forEach((r, b) => {
      ids.set(r, b * L);
      mask.fill(1, b * L, b * L + r.length);
    });
    return [new Tensor(ids, [B, L]), new Tensor(mask, [B, L])];
  };
  const [tokens, tokenMask] = pad(texts.map((t) => [s.bos, ...t, s.eos])); // (B, T)
  const [promptTokens, promptMask] = pad(prompts.map((p) => [...p, s.eos])); // (B, P)
  // each image fills the canvas: identity geometry, so object boxes are canvas pixels
  const geometry: Geometry = { width: S, height: S, resizedWidth: S, resizedHeight: S, cropX: 0, cropY: 0, validWidth: S, validHeight: S, flip: false, canvas: S };
  const images: Batch['images'] = {};
  for (const n of normalizations) images[n] = rng.normal([B, 3, S, S]);
  const ids = Array.from({ length: B }, (_, b) => `${task}-${b}`);
  const batch: Batch = {
    index: 0, task, source: `synthetic-${task}`, ids, imageIds: ids, texts: ids, prompts: ids, references: ids.map(() => []),
    images, paddingMask: new Tensor(new Uint8Array(B * S * S).fill(1), [B, S, S]), geometries: ids.map(() => geometry),
    validSize: new Tensor(new Int32Array(B * 2).fill(S), [B, 2]), scale: new Tensor(new Float32Array(B * 2).fill(1), [B, 2]),
    flipped: new Tensor(new Uint8Array(B), [B]), tokens, tokenMask, promptTokens, promptMask,
    promptBoxes: new Tensor(Float32Array.from(ids.flatMap(() => [0, 0, S, S])), [B, 4]),
    boxes: new Tensor(new Float32Array(B * 4), [B, 4]), boxValid: new Tensor(new Uint8Array(B), [B]),
  };
  return { batch, objects: new Map() };
}

/** The batches as the peer reads them (bench/pixelllm_peer.py load_batch): flat arrays with their sizes. */
export function peerBatchJson(tb: TrainBatch): Record<string, unknown> {
  const b = tb.batch;
  const flat = (t: Tensor | undefined) => (t ? Array.from(t.toArray(), Number) : undefined);
  return {
    task: b.task, B: b.tokens.shape[0], T: b.tokens.shape[1], P: b.promptTokens.shape[1],
    tokens: flat(b.tokens), token_mask: flat(b.tokenMask), prompt_tokens: flat(b.promptTokens), prompt_mask: flat(b.promptMask),
    prompt_boxes: flat(b.promptBoxes), valid_size: flat(b.validSize), boxes: flat(b.boxes), box_valid: flat(b.boxValid),
    trace_boxes: flat(b.traceBoxes), trace_mask: flat(b.traceMask), masks: flat(b.masks), mask_valid: flat(b.maskValid),
    objects: b.imageIds.map((id) => tb.objects.get(id) ?? []),
  };
}
