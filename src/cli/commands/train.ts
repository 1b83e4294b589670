// `pixelllm train CONFIG [--key=value ...]`: train (or resume) a PixelLLM from a JSON config.
import { parseArgs } from 'node:util';
import { UserError } from '../../errors.ts';
import { configKeys } from '../../train/overrides.ts';
import { loadTrainConfig } from '../../train/train_config.ts';
import type { Command } from '../main.ts';

const HELP = `usage: pixelllm train CONFIG.json [--key=value ...] [--print-config | --export-latest]

Trains PixelLLM as the config says (model preset, data sources with weights, optimiser, schedule, checkpoints) and
writes OUT/checkpoints/ (atomic, the newest two kept), OUT/history.json, OUT/curves.png and, at the end, OUT/model/
(a model folder the inference commands load). Run the same command again to resume from the latest checkpoint.

  --key=value      override a config field (dots reach nested ones: --model.text.config.num_hidden_layers=4);
                   an unknown key or a value of the wrong type is an error
  --print-config   print the resolved config with every key and stop
  --export-latest  write the latest checkpoint's weights as the model folder OUT/model and stop (to use a run that
                   was stopped early, or to look at one while it trains)

Example (the bundled tiny model, on the synthetic set made by \`pixelllm synth --out data/synth --n 6000\`):
  pixelllm train configs/pixelllm-tiny.json --steps=4000`;

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: false, options: { help: { type: 'boolean', short: 'h' }, 'print-config': { type: 'boolean' }, 'export-latest': { type: 'boolean' } } });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    const [file, ...rest] = positionals;
    if (!file) throw new UserError(`a config file is required\n\n${HELP}`);
    const overrides = args.filter((a) => a.startsWith('--') && a.includes('='));
    const stray = rest.filter((a) => !overrides.includes(a));
    if (stray.length > 0) throw new UserError(`unexpected argument '${stray[0]}' (overrides are --key=value)`);
    const cfg = loadTrainConfig(file, overrides);
    if (values['print-config']) {
      console.log(JSON.stringify(cfg, null, 2));
      console.error(`${configKeys(cfg).length} keys`);
      return 0;
    }
    if (values['export-latest']) {
      const { exportLatest } = await import('../../train/trainer.ts');
      console.log(`wrote ${exportLatest(cfg)}`);
      return 0;
    }
    const { train } = await import('../../train/trainer.ts');
    const { evaluator } = await import('../../train/evaluate.ts');
    await train(cfg, { evaluate: cfg.eval_every > 0 ? await evaluator(cfg) : undefined, stopAfter: cfg.stop_after > 0 ? cfg.stop_after : undefined });
    return 0;
  },
};
