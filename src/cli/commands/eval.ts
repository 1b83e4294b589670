// `pixelllm eval --task T --pred FILE --gt FILE`: scores a predictions file from any system against ground truth,
// prints a table and writes JSON and Markdown reports.
import { parseArgs } from 'node:util';
import { UserError } from '../../errors.ts';
import { EVAL_TASKS, type EvalTask } from '../../eval/predictions.ts';
import { evaluate, scorePredictions, type EvalOptions } from '../../eval/runners.ts';
import { Problems, readPredictions } from '../../eval/predictions.ts';
import { groundTruthFromExamples, readEvalExamples } from '../../eval/ground_truth.ts';
import type { Example } from '../../data/types.ts';
import { writeFileSync, renameSync } from 'node:fs';
import { formatTable, writeReport } from '../../eval/report.ts';
import type { Command } from '../main.ts';

const HELP = `usage: pixelllm eval --task ${EVAL_TASKS.join('|')} --pred PRED.jsonl --gt GROUND_TRUTH [--split S] [--images DIR] [--out PREFIX] [--no-synonyms]
       pixelllm eval --task ... --model DIR --gt GROUND_TRUTH [--limit N] [--pred PRED.jsonl] [--split S] [--images DIR] [--out PREFIX]

Scores predictions (one JSON object a line, schema per task in the README) against the ground truth:
  refer      P@0.5, mean IoU, cIoU of boxes            {"id", "box": [x0, y0, x1, y1]}
  refseg     cIoU, mIoU, P@0.5..0.9 of masks           {"id", "mask": {"size": [h, w], "counts"}, "box"?}
  regioncap  BLEU-1..4, METEOR, ROUGE-L, CIDEr-D        {"id", "caption"}
  caption    BLEU-1..4, METEOR, ROUGE-L, CIDEr-D        {"image_id", "caption"}
  trace      point_l1                                   {"id", "points": [[[x, y], ...] | null, ...]}
  densecap   DenseCap mAP and detection mAP             {"image_id", "box", "score", "caption"} (one line a region)
--gt takes a dataset file as published (COCO captions/instances json, RefCOCO refs(*).p with instances.json
beside it or refs with embedded anns, Visual Genome region_descriptions.json with image_data.json beside it,
Localized Narratives jsonl), a folder of them, or Example records as JSON lines (src/data/types.ts).
--split keeps the examples of one split (val, testA, testB, test, ...); --images is the image folder, needed
for trace and refseg when the files do not give image sizes.
Writes PREFIX.json and PREFIX.md (default: the predictions file name + ".eval").
--no-synonyms runs METEOR without WordNet (exact and stem matches only).
--model DIR runs that model folder on the ground truth's examples first (the first N with --limit, scored against
those alone) and writes its predictions to --pred (default PREFIX.predictions.jsonl); caption predictions take
the narrative prompt when the ground truth is Localized Narratives (pixel-aligned captions), greedy decoding;
trace predictions are teacher-forced on the ground-truth narratives. --batch sets the images per forward (8).
Exit code 0 when every prediction line was usable, 1 when some were malformed, duplicated or unknown (still scored).`;

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: { task: { type: 'string' }, pred: { type: 'string' }, model: { type: 'string' }, limit: { type: 'string' }, batch: { type: 'string' }, threads: { type: 'string' }, gt: { type: 'string' }, split: { type: 'string' }, images: { type: 'string' }, out: { type: 'string' }, 'no-synonyms': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length > 0) throw new UserError(`unexpected argument ${JSON.stringify(positionals[0])}\n${HELP}`);
    const task = values.task as EvalTask | undefined;
    if (task === undefined || !EVAL_TASKS.includes(task)) throw new UserError(`--task must be one of ${EVAL_TASKS.join(', ')}${task ? `, got ${JSON.stringify(task)}` : ''}`);
    if (values.gt === undefined || (values.pred === undefined && values.model === undefined)) throw new UserError(`--gt and one of --pred or --model are required\n${HELP}`);
    const opts: EvalOptions = { synonyms: !values['no-synonyms'], split: values.split, imageDir: values.images };
    const out = values.out ?? (values.pred ? `${values.pred.replace(/\.jsonl?$/, '')}.eval` : `eval-${task}`);
    const report = values.model === undefined
      ? await evaluate(task, values.pred!, values.gt, opts)
      : await evaluateModel(task, values.model, values.gt, values.pred ?? `${out}.predictions.jsonl`, opts, values);
    console.log(formatTable(report));
    const files = writeReport(report, out);
    console.log(`wrote ${files.join(', ')}`);
    const c = report.counts;
    return (c.malformed ?? 0) + (c.duplicate ?? 0) + (c.unknown ?? 0) > 0 ? 1 : 0;
  },
};

function positive(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--${flag} ${v}: expected a positive integer`);
  return n;
}

/** Runs the model folder on the ground truth's examples, writes its predictions, and scores them. */
async function evaluateModel(task: EvalTask, model: string, gtPath: string, predPath: string, opts: EvalOptions,
  values: { limit?: string; batch?: string; threads?: string }) {
  const { loadPipeline } = await import('./infer_common.ts');
  const { predict, uniqueByKey } = await import('../../eval/predict.ts');
  const pipeline = await loadPipeline(model, values.threads);
  const all: Example[] = [];
  for await (const e of await readEvalExamples(task, gtPath, opts)) all.push(e);
  const chosen = uniqueByKey(task, all).slice(0, positive('limit', values.limit, Infinity as number));
  const perImage = task === 'caption' || task === 'densecap';
  const keys = new Set(chosen.map((e) => (perImage ? e.imageId : e.id)));
  const lines = await predict(pipeline, task, chosen, {
    batchSize: positive('batch', values.batch, 8),
    progress: (done, total) => process.stderr.write(`\rpredicting ${done}/${total}`),
  });
  process.stderr.write('\n');
  writeFileSync(`${predPath}.tmp`, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  renameSync(`${predPath}.tmp`, predPath);
  console.error(`wrote ${lines.length} predictions to ${predPath}`);
  const gt = await groundTruthFromExamples(task, all.filter((e) => keys.has(perImage ? e.imageId : e.id)), gtPath);
  const problems = new Problems();
  return scorePredictions(gt, await readPredictions(predPath, task, problems), problems, { predictionsPath: predPath, groundTruthPath: gtPath }, opts);
}
