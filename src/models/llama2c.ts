// llama2.c's legacy checkpoint (karpathy/llama2.c, `export.py --version 0`, the format of stories15M/260K.bin):
// 7 little-endian int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size — negative when the classifier
// is not the embedding — and seq_len), then float32 weights in run.c's order. llama2.c rotates interleaved pairs
// (x₂ᵢ, x₂ᵢ₊₁) where HF's Llama rotates halves (xᵢ, xᵢ₊ₕₛ/₂), so the rows of wq and wk are permuted as HF's
// conversion script does; the result loads into LlamaForCausalLM under HF's keys.
// https://github.com/karpathy/llama2.c/blob/master/run.c (memory_map_weights)
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Tensor } from '../tensor/index.ts';
import { UserError } from '../errors.ts';
import { LlamaForCausalLM, type LlamaConfig } from './llama.ts';

export class Llama2cError extends UserError {
  override name = 'Llama2cError';
}

const HEADER_BYTES = 7 * 4;
const VERSIONED_MAGIC = 0x616b3432; // "ak42": llama2.c's later export versions, which this legacy reader does not read

/** The config a legacy header describes, with llama2.c's fixed choices (RMS eps 1e-5, θ 10000, BOS 1, EOS 2). */
function configOf(header: Int32Array, path: string): LlamaConfig {
  const [dim, hidden, layers, heads, kvHeads, vocab, seqLen] = header as unknown as number[];
  if (header[0] === VERSIONED_MAGIC) throw new Llama2cError(`${path}: starts with llama2.c's 'ak42' magic (a versioned export); only the legacy version-0 format is read here (export.py --version 0)`);
  const bad = [['dim', dim], ['hidden_dim', hidden], ['n_layers', layers], ['n_heads', heads], ['n_kv_heads', kvHeads], ['seq_len', seqLen]]
    .filter(([, v]) => !((v as number) > 0));
  if (bad.length > 0 || vocab === 0) {
    throw new Llama2cError(`${path}: not a llama2.c legacy checkpoint: header ${bad.map(([k, v]) => `${k} ${v}`).join(', ') || `vocab_size ${vocab}`} must be positive`);
  }
  if (dim! % heads! !== 0 || heads! % kvHeads! !== 0) {
    throw new Llama2cError(`${path}: header dim ${dim}, n_heads ${heads}, n_kv_heads ${kvHeads}: dim must divide by n_heads and n_heads by n_kv_heads`);
  }
  return {
    vocab_size: Math.abs(vocab!), hidden_size: dim!, intermediate_size: hidden!, num_hidden_layers: layers!, num_attention_heads: heads!,
    num_key_value_heads: kvHeads!, rms_norm_eps: 1e-5, rope_theta: 10000, max_position_embeddings: seqLen!,
    tie_word_embeddings: vocab! > 0, bos_token_id: 1, eos_token_id: 2,
  };
}

/** Rows of w (out, in) reordered from interleaved rotary pairs to HF's halves, per head (HF's `permute`). */
function toHalves(w: Float32Array, heads: number, rows: number, cols: number): Float32Array {
  const hs = rows / heads;
  const half = hs / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let p = 0; p < 2; p++) out.set(w.subarray((h * hs + 2 * i + p) * cols, (h * hs + 2 * i + p + 1) * cols), (h * hs + p * half + i) * cols);
    }
  }
  return out;
}

/** The config and HF-keyed tensors of a legacy llama2.c checkpoint, read tensor by tensor (never the whole file at once). */
export function readLlama2c(path: string): { config: LlamaConfig; state: Map<string, Tensor> } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < HEADER_BYTES) throw new Llama2cError(`${path}: ${size} bytes is too short for a llama2.c header (28 bytes)`);
    const header = new Int32Array(7);
    readSync(fd, new Uint8Array(header.buffer), 0, HEADER_BYTES, 0);
    const config = configOf(header, path);
    const { hidden_size: dim, intermediate_size: hidden, num_hidden_layers: layers, num_attention_heads: heads, vocab_size: vocab } = config;
    const kvHeads = config.num_key_value_heads!;
    const hs = dim / heads;
    const seqLen = config.max_position_embeddings!;
    const kvDim = kvHeads * hs;
    // run.c's order: embeddings, each kind of per-layer weight for all layers, final norm, the old RoPE tables, classifier
    const layer = (key: string, shape: number[]) => ({ key, shape, layers });
    const once = (key: string, shape: number[]) => ({ key, shape, layers: 0 });
    const plan = [
      once('model.embed_tokens.weight', [vocab, dim]),
      layer('input_layernorm', [dim]), layer('self_attn.q_proj', [dim, dim]), layer('self_attn.k_proj', [kvDim, dim]),
      layer('self_attn.v_proj', [kvDim, dim]), layer('self_attn.o_proj', [dim, dim]), layer('post_attention_layernorm', [dim]),
      layer('mlp.gate_proj', [hidden, dim]), layer('mlp.down_proj', [dim, hidden]), layer('mlp.up_proj', [hidden, dim]),
      once('model.norm.weight', [dim]), once('', [seqLen, hs]), // freq_cis_real and _imag, (seq_len, hs / 2) each: recomputed instead
      ...(config.tie_word_embeddings ? [] : [once('lm_head.weight', [vocab, dim])]),
    ];
    const numel = (shape: number[]): number => shape.reduce((a, d) => a * d, 1);
    const floats = plan.reduce((n, e) => n + numel(e.shape) * Math.max(1, e.layers), 0);
    if (size !== HEADER_BYTES + 4 * floats) {
      throw new Llama2cError(`${path}: ${size} bytes, but its header (dim ${dim}, hidden_dim ${hidden}, n_layers ${layers}, n_heads ${heads}, ` +
        `n_kv_heads ${kvHeads}, vocab_size ${vocab}${config.tie_word_embeddings ? '' : ' unshared'}, seq_len ${seqLen}) needs ${HEADER_BYTES + 4 * floats}`);
    }
    let at = HEADER_BYTES;
    const read = (n: number): Float32Array => {
      const out = new Float32Array(n);
      readSync(fd, new Uint8Array(out.buffer), 0, 4 * n, at); // little-endian, as x86 and ARM hosts
      at += 4 * n;
      return out;
    };
    const state = new Map<string, Tensor>();
    for (const { key, shape, layers: count } of plan) {
      const n = numel(shape);
      if (key === '') at += 4 * n;
      else if (count === 0) state.set(key, new Tensor(read(n), shape));
      for (let l = 0; l < count; l++) {
        let w = read(n);
        if (key === 'self_attn.q_proj') w = toHalves(w, heads, dim, dim);
        if (key === 'self_attn.k_proj') w = toHalves(w, kvHeads, kvDim, dim);
        state.set(`model.layers.${l}.${key}.weight`, new Tensor(w, shape));
      }
    }
    return { config, state };
  } finally {
    closeSync(fd);
  }
}

/** A LlamaForCausalLM holding a legacy llama2.c checkpoint. */
export function loadLlama2c(path: string): LlamaForCausalLM {
  const { config, state } = readLlama2c(path);
  const model = new LlamaForCausalLM(config);
  model.loadStateDict(state, { source: path });
  return model.eval();
}
