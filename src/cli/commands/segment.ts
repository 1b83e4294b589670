// `pixelllm segment IMG "expression"`: the mask (and box) of the object a referring expression names.
import { parseArgs } from 'node:util';
import { UserError } from '../../errors.ts';
import type { Command } from '../main.ts';
import { COMMON_HELP, COMMON_OPTIONS, imageArg, loadPipeline, report } from './infer_common.ts';

const USAGE = `usage: pixelllm segment IMAGE "EXPRESSION" [--model DIR] [--out FILE.png]

Finds the object the expression refers to and its mask; prints JSON { task, expression, box: [x0,y0,x1,y1],
mask: { size: [h, w], counts } (COCO compressed RLE), area } in image pixels.
${COMMON_HELP}`;

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: COMMON_OPTIONS });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const image = imageArg(positionals, USAGE);
    const expression = positionals.slice(1).join(' ');
    if (expression.trim() === '') throw new UserError(`the referring expression is empty; say which object, e.g. pixelllm segment ${image} "the red circle"`);
    const pipeline = await loadPipeline(values.model, values.threads);
    const [result] = await pipeline.segment([image], [expression]);
    return report(result!, image, values.out);
  },
};
