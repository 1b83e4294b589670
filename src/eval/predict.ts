// Runs a PixelLLM over evaluation examples and writes its predictions in `pixelllm eval`'s JSONL schema, so the model
// is scored by exactly the code that scores any other system's files. Traces are teacher-forced on the ground-truth
// narrative (as the reference evaluates point_l1): each token's two points go to the utterance it is matched to.
import type { Example } from '../data/types.ts';
import { captionTokens, tokenTraceTargets } from '../data/trace_targets.ts';
import type { PixelLLMPipeline } from '../infer/pipeline.ts';
import type { EvalTask } from './predictions.ts';

export interface PredictOptions {
  batchSize?: number;
  /** caption beams (1 = greedy, the default here for speed; the CLI's caption command uses 4) */
  beams?: number;
  /** called after each batch with the examples done so far */
  progress?: (done: number, total: number) => void;
}

/** Examples of one evaluation key each (an image for caption/densecap, an example otherwise), in order. */
export function uniqueByKey(task: EvalTask, examples: Example[]): Example[] {
  const perImage = task === 'caption' || task === 'densecap';
  const seen = new Set<string>();
  return examples.filter((e) => {
    const k = perImage ? e.imageId : e.id;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export async function predict(pipeline: PixelLLMPipeline, task: EvalTask, examples: Example[], opts: PredictOptions = {}): Promise<object[]> {
  const list = uniqueByKey(task, examples);
  const size = opts.batchSize ?? 8;
  const lines: object[] = [];
  for (let i = 0; i < list.length; i += size) {
    const batch = list.slice(i, i + size);
    lines.push(...(await predictBatch(pipeline, task, batch, opts)));
    opts.progress?.(Math.min(i + size, list.length), list.length);
  }
  return lines;
}

async function predictBatch(p: PixelLLMPipeline, task: EvalTask, batch: Example[], opts: PredictOptions): Promise<object[]> {
  const files = batch.map((e) => e.imagePath);
  switch (task) {
    case 'refer':
      return (await p.locate(files, batch.map((e) => e.text))).map((r, i) => ({ id: batch[i]!.id, box: r.box }));
    case 'refseg':
      return (await p.segment(files, batch.map((e) => e.text))).map((r, i) => ({ id: batch[i]!.id, box: r.box, mask: r.mask }));
    case 'regioncap':
      return (await p.describe(files, batch.map((e) => ({ box: e.box! })))).map((r, i) => ({ id: batch[i]!.id, caption: r.text }));
    case 'caption': {
      const long = batch[0]!.task === 'trace';
      return (await p.caption(files, { beams: opts.beams ?? 1, task: long ? 'trace' : 'caption' })).map((r, i) => ({ image_id: batch[i]!.imageId, caption: r.text }));
    }
    case 'densecap':
      return (await p.dense(files)).flatMap((r, i) => r.regions.map((g) => ({ image_id: batch[i]!.imageId, box: g.box, score: g.score, caption: g.text })));
    case 'trace': {
      const t = p.model.textual;
      const special = { bos: t.bosId, eos: t.eosId, pad: t.padId };
      const rows = batch.map((e) => captionTokens(p.tokenizer.encode(e.text), special, p.model.config.max_text_tokens));
      const boxes = await p.locateTokens(files, rows);
      return batch.map((e, i) => {
        const utterances = e.utterances ?? [];
        const match = tokenTraceTargets(rows[i]!, special, utterances, e.width, e.height).utterance;
        const points: ([number, number][] | null)[] = utterances.map(() => null);
        match.forEach((u, k) => {
          if (u < 0) return;
          const [x0, y0, x1, y1] = boxes[i]![k]!;
          (points[u] ??= []).push([x0, y0], [x1, y1]);
        });
        return { id: e.id, points };
      });
    }
  }
}
