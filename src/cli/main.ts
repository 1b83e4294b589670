// The `pixelllm` command line: one file per sub-command in ./commands, loaded only when it is called.
import { UserError } from '../errors.ts';

/** A sub-command: parses its own arguments and returns the process exit code. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  inspect: async () => (await import('./commands/inspect.ts')).command,
  eval: async () => (await import('./commands/eval.ts')).command,
  data: async () => (await import('./commands/data.ts')).command,
  tokenize: async () => (await import('./commands/tokenize.ts')).command,
  synth: async () => (await import('./commands/synth.ts')).command,
};

function usage(): string {
  return ['usage: pixelllm <command> [options]', '', 'commands:', ...Object.keys(COMMANDS).map((c) => `  ${c}`),
    '', 'pixelllm <command> --help shows the options of one command.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    console.error(`pixelllm: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
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
