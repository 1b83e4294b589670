// The GIT-style BERT decoder as PixelLLM's language model (`textual.`): the visual tokens first, attending to each
// other both ways, then the prompt and the text, causal, in one sequence; HF GIT's keys below the prefix
// (`textual.embeddings.…`, `textual.encoder.layer.{i}.…`, `textual.output.…`), so git-base's `git.` keys load renamed.
import { Generator, Tensor, indexSelect, tensor } from '../../tensor/index.ts';
import { Linear, Module } from '../../nn/index.ts';
import { GitEmbeddings, GitEncoder, checkGitTextConfig, type GitTextConfig } from '../git_decoder.ts';
import { GitDecodeSession, gitDecode } from '../git.ts';
import { ConfigError } from '../config.ts';
import type { DecodeSession } from '../generate.ts';
import type { PixelTextModel, TextInputs } from './text_model.ts';

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
  forward({ visual, promptIds, promptMask, tokens, tokenMask }: TextInputs): Tensor {
    const [B, T] = tokens.shape as [number, number];
    const P = promptIds.shape[1]!;
    const pIds = promptIds.toArray();
    const pMask = promptMask.toArray();
    const tIds = tokens.toArray();
    const tMask = tokenMask.toArray();
    const rows: number[][] = [];
    const starts: number[] = [];
    for (let b = 0; b < B; b++) {
      let p = 0;
      while (p < P && pMask[b * P + p]) p++;
      const prompt = Array.from(pIds.slice(b * P, b * P + Math.max(0, p - 1))); // the prompt's EOS is dropped
      starts.push(prompt.length);
      let t = 0;
      while (t < T && tMask[b * T + t]) t++;
      rows.push([...prompt, ...Array.from(tIds.slice(b * T, b * T + t))]);
    }
    const L = Math.max(...rows.map((r, b) => starts[b]! + T));
    const ids = new Int32Array(B * L).fill(this.padId);
    const mask = new Uint8Array(B * L);
    rows.forEach((r, b) => {
      ids.set(r, b * L);
      mask.fill(1, b * L, b * L + r.length);
    });
    const N = visual.shape[1]!;
    const hidden = gitDecode(this, visual, new Tensor(ids, [B, L]), { attentionMask: new Tensor(mask, [B, L]) }); // (B, N + L, C)
    const at = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) at[b * T + i] = b * (N + L) + N + starts[b]! + i;
    return indexSelect(hidden.reshape(B * (N + L), -1), 0, new Tensor(at, [B * T])).reshape(B, T, -1); // (B, T, C)
  }

  logits(hidden: Tensor): Tensor {
    return this.output.forward(hidden);
  }

  startDecoding(visual: Tensor, promptIds: Tensor, promptMask: Tensor, maxLength: number): { session: DecodeSession; first: Tensor } {
    const [B, P] = promptIds.shape as [number, number];
    const len = Array.from({ length: B }, (_, b) => promptMask.toArray().slice(b * P, (b + 1) * P).reduce((n, v) => n + v, 0));
    if (len.some((l) => l !== len[0])) throw new ConfigError(`startDecoding: the rows' prompts differ in length (${len.join(', ')}); decode rows with one prompt together`);
    const prompt = promptIds.slice(1, 0, len[0]! - 1); // (B, p) without the prompt's EOS
    const first = tensor(Array.from({ length: B }, (_, b) => [...Array.from(prompt.toArray().slice(b * prompt.shape[1]!, (b + 1) * prompt.shape[1]!)), this.bosId]), { dtype: 'int32' }); // (B, p + 1)
    return { session: new GitDecodeSession(this, visual, false, first.shape[1]! + maxLength), first };
  }
}
