// The `pixelllm` command line: one file per sub-command in ./commands, loaded only when it is called.
import { UserError } from '../errors.ts';

/** A sub-command: parses its own arguments and returns the process exit code. */
export interface Command {
  run(args: string[]): Promise<number>;
}

// the summaries live here, not in the command files, so `pixelllm --help` loads no command (and not sharp)
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  caption: { summary: 'a pixel-aligned caption of an image: every word with its place (JSON; --out draws the trace)', load: async () => (await import('./commands/caption.ts')).command },
  locate: { summary: 'the box of the object a referring expression names', load: async () => (await import('./commands/locate.ts')).command },
  segment: { summary: 'the mask of the object a referring expression names', load: async () => (await import('./commands/segment.ts')).command },
  describe: { summary: 'a caption of the region in a box (--box) or at a point (--point)', load: async () => (await import('./commands/describe.ts')).command },
  dense: { summary: 'dense captioning: every object found, with its box and caption', load: async () => (await import('./commands/dense.ts')).command },
  inspect: { summary: 'keys, shapes, dtypes, parameter count and model family of a safetensors file', load: async () => (await import('./commands/inspect.ts')).command },
  eval: { summary: "score a predictions file against ground truth with the paper's metrics", load: async () => (await import('./commands/eval.ts')).command },
  data: { summary: 'dataset tools: `data stats PATH` prints counts and distributions of a dataset file or folder', load: async () => (await import('./commands/data.ts')).command },
  tokenize: { summary: 'show the token ids and tokens of a text under a tokenizer file', load: async () => (await import('./commands/tokenize.ts')).command },
  train: { summary: 'train or resume PixelLLM from a JSON config with typed --key=value overrides', load: async () => (await import('./commands/train.ts')).command },
  synth: { summary: 'generate the synthetic training set (LN, RefCOCO, VG and COCO formats)', load: async () => (await import('./commands/synth.ts')).command },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return ['usage: pixelllm <command> [options]', '', 'commands:', ...Object.entries(COMMANDS).map(([c, { summary }]) => `  ${c.padEnd(width)}  ${summary}`),
    '', 'pixelllm <command> --help shows the options of one command.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    console.error(`pixelllm: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await entry.load()).run(rest);
  } catch (e) {
    // user mistakes (bad flags, unreadable files, wrong formats) get one line; anything else is a bug and keeps its stack
    // node:util parseArgs reports unknown or malformed flags with ERR_PARSE_ARGS_* codes: a user mistake too
    const badFlag = typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code.startsWith('ERR_PARSE_ARGS');
    if (e instanceof UserError || badFlag) {
      console.error(`pixelllm ${name}: ${(e as Error).message}${badFlag ? `\n(pixelllm ${name} --help lists the options)` : ''}`);
      return 2;
    }
    throw e;
  }
}
