// `pixelllm dense IMG`: dense captioning, every proposed object with its box, score and caption.
import { parseArgs } from 'node:util';
import type { Command } from '../main.ts';
import { COMMON_HELP, COMMON_OPTIONS, imageArg, loadPipeline, report } from './infer_common.ts';

const USAGE = `usage: pixelllm dense IMAGE [--model DIR] [--out FILE.png]

Proposes the objects of the image (the proposal head, top 100 above the score threshold) and captions each (greedy,
repeat suppression); prints JSON { task, regions: [{ box: [x0,y0,x1,y1], score, text }] } in image pixels.
${COMMON_HELP}`;

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: COMMON_OPTIONS });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const image = imageArg(positionals, USAGE);
    const pipeline = await loadPipeline(values.model, values.threads);
    const [result] = await pipeline.dense([image]);
    return report(result!, image, values.out);
  },
};
