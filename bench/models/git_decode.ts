// Greedy decoding of 32 tokens with a KV cache by a GIT-base-sized text decoder (6 post-norm BERT layers, width 768,
// 12 heads, MLP 3072, vocabulary 30522) after 32 image tokens, batch 1, random weights. The decoder is written here
// as GIT's textual part computes it (word + position embeddings with LayerNorm over the text, image tokens first with
// bidirectional attention among themselves, text causal over everything before it, an output layer with bias);
// bench/models/git_decode_peer.py runs the same computation in PyTorch eager. Validates that the cached decoding
// equals a full forward's argmax, warms up, then prints ONE JSON line {"name","ms","peak_rss_mb"} (median ms of the
// whole generation). Usage: PIXELLLM_THREADS=2 npx tsx bench/models/git_decode.ts [--reps 5]
import { Generator, Tensor, concat, full, gelu, noGrad, setThreads, zeros } from '../../src/tensor/index.ts';
import { Embedding, LayerNorm, Linear, Module } from '../../src/nn/index.ts';
import { attend } from '../../src/models/attention.ts';
import { KVCache } from '../../src/models/kv_cache.ts';
import { greedy, type DecodeSession } from '../../src/models/generate.ts';
import { medianMs } from '../common.ts';

const WIDTH = 768;
const LAYERS = 6;
const HEADS = 12;
const MLP = 3072;
const VOCAB = 30522;
const IMAGE_TOKENS = 32;
const NEW_TOKENS = 32;
const BOS = 101;
const EPS = 1e-12;


class DecoderLayer extends Module {
  query = new Linear(WIDTH, WIDTH);
  key = new Linear(WIDTH, WIDTH);
  value = new Linear(WIDTH, WIDTH);
  attention_output = new Linear(WIDTH, WIDTH);
  attention_norm = new LayerNorm(WIDTH, EPS);
  intermediate = new Linear(WIDTH, MLP);
  output = new Linear(MLP, WIDTH);
  output_norm = new LayerNorm(WIDTH, EPS);

  forward(x: Tensor, cache: KVCache, index: number, bias: Tensor | null): Tensor {
    const [B, T] = x.shape as [number, number];
    const heads = (t: Tensor): Tensor => t.reshape(B, T, HEADS, WIDTH / HEADS).transpose(1, 2); // (B, nh, T, hs)
    const [k, v] = cache.append(index, heads(this.key.forward(x)), heads(this.value.forward(x)));
    const ctx = attend(heads(this.query.forward(x)), k, v, { bias }).transpose(1, 2).reshape(B, T, WIDTH);
    const h = this.attention_norm.forward(x.add(this.attention_output.forward(ctx)));
    return this.output_norm.forward(h.add(this.output.forward(gelu(this.intermediate.forward(h)))));
  }
}

class GitSizedDecoder extends Module {
  word_embeddings = new Embedding(VOCAB, WIDTH);
  position_embeddings = new Embedding(1024, WIDTH);
  embeddings_norm = new LayerNorm(WIDTH, EPS);
  layers = Array.from({ length: LAYERS }, () => new DecoderLayer());
  output = new Linear(WIDTH, VOCAB);

  /** Decodes after `image` (B, I, C): the first step's ids follow the image tokens. */
  start(image: Tensor, maxLength: number): DecodeSession {
    const B = image.shape[0]!;
    const cache = new KVCache(LAYERS, B, HEADS, WIDTH / HEADS, image.shape[1]! + maxLength);
    let prefix: Tensor | null = image;
    let textPos = 0;
    return {
      get batch() {
        return cache.batch;
      },
      step: (ids: Tensor): Tensor => {
        const T = ids.shape[1]!;
        const positions = new Tensor(Int32Array.from({ length: T }, (_, i) => textPos + i), [T]);
        textPos += T;
        let x = this.embeddings_norm.forward(this.word_embeddings.forward(ids).add(this.position_embeddings.forward(positions))); // (B, T, C)
        let bias: Tensor | null = null;
        if (prefix) {
          bias = prefillMask(prefix.shape[1]!, T);
          x = concat([prefix, x], 1); // (B, I + T, C)
          prefix = null;
        }
        this.layers.forEach((layer, i) => (x = layer.forward(x, cache, i, bias)));
        return this.output.forward(x.slice(1, -1).squeeze(1)); // (B, V)
      },
      select: (rows) => cache.select(rows),
    };
  }
}

/** GIT's mask over [image ; text]: image tokens see only image tokens, text sees the image and earlier text. (1, 1, L, L) */
function prefillMask(I: number, T: number): Tensor {
  const L = I + T;
  const m = zeros([1, 1, L, L]);
  for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) if (i < I ? j >= I : j > i) m.data[i * L + j] = -Infinity;
  return m;
}

const repsAt = process.argv.indexOf('--reps');
const reps = repsAt >= 0 ? Number(process.argv[repsAt + 1]) : 5;
setThreads(Number(process.env.PIXELLLM_THREADS ?? 2));

const model = new GitSizedDecoder();
const image = new Generator(0).normal([1, IMAGE_TOKENS, WIDTH]);
const opts = { maxNewTokens: NEW_TOKENS, eosTokenId: -1, padTokenId: 0 }; // no end token: always 32 new tokens
const generate = (): Tensor => greedy(model.start(image, 1 + NEW_TOKENS), full([1, 1], BOS, 'int32'), opts).sequences;

noGrad(() => {
  // validation: the tokens decoded over the cache are the argmax of one full forward over [image ; BOS ; tokens]
  const ids = generate();
  const session = model.start(image, ids.shape[1]!);
  const check = new Tensor(ids.values().slice(0, -1), [1, ids.shape[1]! - 1]);
  const last = session.step(check).argmax(-1).item(); // the logits at the last position of one prefill
  if (last !== ids.values().at(-1)) throw new Error(`validation failed: cached decoding ended with ${ids.values().at(-1)}, the full forward gives ${last}`);
  const ms = medianMs(generate, reps, 1);
  console.log(JSON.stringify({ name: 'git_base_decode_32', ms, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
});
