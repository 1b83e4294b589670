// The language model a config names.
import type { Generator } from '../../tensor/index.ts';
import { ConfigError } from '../config.ts';
import type { TextConfig } from './config.ts';
import { GitTextDecoder } from './git_text.ts';
import type { PixelTextModel } from './text_model.ts';

export function buildTextModel(text: TextConfig, rng: Generator): PixelTextModel {
  switch (text.kind) {
    case 'git':
      return new GitTextDecoder(text.config, rng);
    default:
      throw new ConfigError(`text.kind '${text.kind}': not built yet`);
  }
}
