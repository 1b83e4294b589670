// The GIT-style BERT decoder as PixelLLM's language model (`textual.`): the visual tokens first, attending to each
// other both ways, then the prompt and the text, causal, in one sequence; HF GIT's keys below the prefix
// (`textual.embeddings.…`, `textual.encoder.layer.{i}.…`, `textual.output.…`), so git-base's `git.` keys load renamed.
import { Generator, type Tensor } from '../../tensor/index.ts';
import { Linear, Module } from '../../nn/index.ts';
import { GitEmbeddings, GitEncoder, checkGitTextConfig, type GitTextConfig } from '../git_decoder.ts';
import { GitDecodeSession, gitDecode } from '../git.ts';
import type { DecodeSession } from '../generate.ts';
import type { PixelTextModel, TextInputs } from './text_model.ts';
import { firstDecodeIds, gatherText, packPromptAndText } from './text_packing.ts';

export class GitTextDecoder extends Module implements PixelTextModel {
  embeddings: GitEmbeddings;
  encoder: GitEncoder;
  output: Linear;

  constructor(readonly config: GitTextConfig, rng = new Generator(0)) {
    super();
    checkGitTextConfig(config);
    this.embeddings = new GitEmbeddings(config, rng);
    this.encoder = new GitEncoder(config, rng);
    this.output = new Linear(config.hidden_size, config.vocab_size);
  }

  get width(): number {
    return this.config.hidden_size;
  }
  get vocabSize(): number {
    return this.config.vocab_size;
  }
  get bosId(): number {
    return this.config.bos_token_id;
  }
  get eosId(): number {
    return this.config.eos_token_id;
  }
  get padId(): number {
    return this.config.pad_token_id ?? 0;
  }

  /** Each row is [prompt without its EOS ; text], packed to the left; the text's hidden states are gathered back. */
  forward({ visual, ...text }: TextInputs): Tensor {
    const { ids, mask, textStart } = packPromptAndText(text, this.padId);
    const hidden = gitDecode(this, visual, ids, { attentionMask: mask }); // (B, N + L, C)
    return gatherText(hidden, visual.shape[1]!, textStart, text.tokens.shape[1]!); // (B, T, C)
  }

  logits(hidden: Tensor): Tensor {
    return this.output.forward(hidden);
  }

  startDecoding(visual: Tensor, promptIds: Tensor, promptMask: Tensor, maxLength: number): { session: DecodeSession; first: Tensor } {
    const first = firstDecodeIds(promptIds, promptMask, this.bosId); // (B, p + 1)
    return { session: new GitDecodeSession(this, visual, false, first.shape[1]! + maxLength), first };
  }
}
