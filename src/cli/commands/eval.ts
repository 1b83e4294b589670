// `pixelllm eval --task T --pred FILE --gt FILE`: scores a predictions file from any system against ground truth,
// prints a table and writes JSON and Markdown reports.
import { parseArgs } from 'node:util';
import { UserError } from '../../errors.ts';
import { EVAL_TASKS, type EvalTask } from '../../eval/predictions.ts';
import { evaluate } from '../../eval/runners.ts';
import { formatTable, writeReport } from '../../eval/report.ts';
import type { Command } from '../main.ts';

const HELP = `usage: pixelllm eval --task ${EVAL_TASKS.join('|')} --pred PRED.jsonl --gt GROUND_TRUTH [--split S] [--images DIR] [--out PREFIX] [--no-synonyms]

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
Exit code 0 when every prediction line was usable, 1 when some were malformed, duplicated or unknown (still scored).`;

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true,
      options: { task: { type: 'string' }, pred: { type: 'string' }, gt: { type: 'string' }, split: { type: 'string' }, images: { type: 'string' }, out: { type: 'string' }, 'no-synonyms': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length > 0) throw new UserError(`unexpected argument ${JSON.stringify(positionals[0])}\n${HELP}`);
    const task = values.task as EvalTask | undefined;
    if (task === undefined || !EVAL_TASKS.includes(task)) throw new UserError(`--task must be one of ${EVAL_TASKS.join(', ')}${task ? `, got ${JSON.stringify(task)}` : ''}`);
    if (values.pred === undefined || values.gt === undefined) throw new UserError(`--pred and --gt are required\n${HELP}`);
    const report = await evaluate(task, values.pred, values.gt, { synonyms: !values['no-synonyms'], split: values.split, imageDir: values.images });
    console.log(formatTable(report));
    const files = writeReport(report, values.out ?? `${values.pred.replace(/\.jsonl?$/, '')}.eval`);
    console.log(`wrote ${files.join(', ')}`);
    const c = report.counts;
    return (c.malformed ?? 0) + (c.duplicate ?? 0) + (c.unknown ?? 0) > 0 ? 1 : 0;
  },
};
