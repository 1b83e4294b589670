// Evaluation during training: the config's eval sources, each on its first `eval_examples` examples, predicted by the
// model being trained and scored by `pixelllm eval`'s own scorers; metrics are named `<source>/<metric>`.
import { readSourceExamples } from './data_sources.ts';
import { fillImageSizes } from '../data/image_sizes.ts';
import { loadTokenizer } from '../data/tokenizers/index.ts';
import { PixelLLMPipeline } from '../infer/pipeline.ts';
import { predict, uniqueByKey } from '../eval/predict.ts';
import { groundTruthFromExamples } from '../eval/ground_truth.ts';
import { Problems, parsePrediction, type EvalTask, type Prediction } from '../eval/predictions.ts';
import { scorePredictions } from '../eval/runners.ts';
import type { PixelLLM } from '../models/pixelllm/pixelllm.ts';
import type { Example, Task } from '../data/types.ts';
import type { TrainConfig } from './train_config.ts';

/** The evaluation task that scores each training task's head. */
const EVAL_TASK: Record<Task, EvalTask> = { trace: 'trace', caption: 'caption', refer: 'refer', regioncap: 'regioncap' };

export async function evaluator(cfg: TrainConfig): Promise<(model: PixelLLM, step: number) => Promise<Record<string, number>>> {
  const tokenizer = loadTokenizer(cfg.tokenizer);
  const sets: { name: string; task: EvalTask; examples: Example[] }[] = [];
  for (const s of cfg.eval_sources) {
    const task = EVAL_TASK[s.task];
    const chosen = uniqueByKey(task, await readSourceExamples(cfg.data_root, s)).slice(0, cfg.eval_examples);
    // point_l1 needs image sizes, which LN files do not carry
    const examples: Example[] = [];
    for await (const e of fillImageSizes((async function* () { yield* chosen; })())) examples.push(e);
    sets.push({ name: s.name, task, examples });
  }
  return async (model) => {
    const pipeline = new PixelLLMPipeline(model, tokenizer);
    const metrics: Record<string, number> = {};
    for (const set of sets) {
      const lines = await predict(pipeline, set.task, set.examples);
      const predictions = new Map<string, Prediction[]>();
      lines.forEach((l, i) => {
        const p = parsePrediction(set.task, l, i + 1);
        predictions.set(p.key, [...(predictions.get(p.key) ?? []), p]);
      });
      const gt = await groundTruthFromExamples(set.task, set.examples, set.name);
      const report = scorePredictions(gt, predictions, new Problems(), { predictionsPath: set.name, groundTruthPath: set.name }, { synonyms: false });
      for (const [k, v] of Object.entries(report.metrics)) if (Number.isFinite(v)) metrics[`${set.name}/${k}`] = v;
    }
    return metrics;
  };
}
