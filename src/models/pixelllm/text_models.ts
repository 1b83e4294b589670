// The language model a config names.
import type { Generator } from '../../tensor/index.ts';
import type { TextConfig } from './config.ts';
import { GitTextDecoder } from './git_text.ts';
import { LlamaTextModel } from './llama_text.ts';
import { T5TextModel } from './t5_text.ts';
import type { PixelTextModel } from './text_model.ts';

export function buildTextModel(text: TextConfig, rng: Generator): PixelTextModel {
  switch (text.kind) {
    case 'git':
      return new GitTextDecoder(text.config, rng);
    case 't5':
      return new T5TextModel(text.config);
    case 'llama':
      return new LlamaTextModel(text.config);
  }
}
