// `pixelllm locate` and `pixelllm segment` differ only in what they return for the expression; one command builder.
import { parseArgs } from 'node:util';
import { UserError } from '../../errors.ts';
import type { Command } from '../main.ts';
import { COMMON_HELP, COMMON_OPTIONS, imageArg, loadPipeline, report } from './infer_common.ts';

const OUTPUT = {
  locate: 'Finds the object the expression refers to; prints JSON { task, expression, box: [x0,y0,x1,y1] } in image pixels.',
  segment: 'Finds the object the expression refers to and its mask; prints JSON { task, expression, box: [x0,y0,x1,y1],\nmask: { size: [h, w], counts } (COCO compressed RLE), area } in image pixels.',
};

export function referCommand(name: 'locate' | 'segment'): Command {
  const usage = `usage: pixelllm ${name} IMAGE "EXPRESSION" [--model DIR] [--out FILE.png]\n\n${OUTPUT[name]}\n${COMMON_HELP}`;
  return {
    async run(args) {
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: COMMON_OPTIONS });
      if (values.help) {
        console.log(usage);
        return 0;
      }
      const image = imageArg(positionals, usage);
      const expression = positionals.slice(1).join(' ');
      if (expression.trim() === '') throw new UserError(`the referring expression is empty; say which object, e.g. pixelllm ${name} ${image} "the red circle"`);
      const pipeline = await loadPipeline(values.model, values.threads);
      const [result] = name === 'locate' ? await pipeline.locate([image], [expression]) : await pipeline.segment([image], [expression]);
      return report(result!, image, values.out);
    },
  };
}
