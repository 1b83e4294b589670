// `pixelllm describe IMG --box x0,y0,x1,y1` (or `--point x,y`): a caption of one region.
import { parseArgs } from 'node:util';
import { UserError } from '../../errors.ts';
import type { Box, Point } from '../../data/types.ts';
import type { Command } from '../main.ts';
import { COMMON_HELP, COMMON_OPTIONS, imageArg, loadPipeline, numbers, report } from './infer_common.ts';

const USAGE = `usage: pixelllm describe IMAGE (--box x0,y0,x1,y1 | --point x,y) [--model DIR] [--out FILE.png]

Describes the region (greedy decoding, prompt "an object of "); prints JSON { task, box, point?, text, score }.
A point is turned into the best proposal box that contains it (else a small box around it), which is reported.
${COMMON_HELP}`;

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, box: { type: 'string' }, point: { type: 'string' } } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const image = imageArg(positionals, USAGE);
    if ((values.box === undefined) === (values.point === undefined)) throw new UserError(`give exactly one of --box x0,y0,x1,y1 or --point x,y\n\n${USAGE}`);
    const region = values.box !== undefined ? { box: numbers('box', values.box, 4) as Box } : { point: numbers('point', values.point!, 2) as Point };
    const pipeline = await loadPipeline(values.model, values.threads);
    const [result] = await pipeline.describe([image], [region]);
    return report(result!, image, values.out);
  },
};
