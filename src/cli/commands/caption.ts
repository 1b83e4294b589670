// `pixelllm caption IMG`: a pixel-aligned caption, every word with its box and point in image pixels.
import { parseArgs } from 'node:util';
import { UserError } from '../../errors.ts';
import type { Command } from '../main.ts';
import { COMMON_HELP, COMMON_OPTIONS, imageArg, loadPipeline, report } from './infer_common.ts';

const USAGE = `usage: pixelllm caption IMAGE [--beams N] [--max-tokens N] [--model DIR] [--out FILE.png]

Writes a long caption of the image and places every word in it (the trace); prints JSON:
{ task, text, score, words: [{ word, tokens, box: [x0,y0,x1,y1], point: [x,y] }] } in image pixels.
  --beams N       beam search with N beams and length penalty 0.6, as the paper (default 4); 1 = greedy
  --max-tokens N  tokens to generate at most (default: the model's maximum text length)
${COMMON_HELP}`;

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...COMMON_OPTIONS, beams: { type: 'string' }, 'max-tokens': { type: 'string' } } });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    const image = imageArg(positionals, USAGE);
    const beams = Number(values.beams ?? 4);
    if (!Number.isInteger(beams) || beams < 1 || beams > 16) throw new UserError(`--beams ${values.beams}: expected an integer from 1 to 16`);
    const maxTokens = values['max-tokens'] === undefined ? undefined : Number(values['max-tokens']);
    if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) throw new UserError(`--max-tokens ${values['max-tokens']}: expected a positive integer`);
    const pipeline = await loadPipeline(values.model, values.threads);
    const [result] = await pipeline.caption([image], { beams, maxNewTokens: maxTokens });
    return report(result!, image, values.out);
  },
};
