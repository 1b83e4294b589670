// SamVisionAttention: multi-head self-attention over a grid of tokens with MViTv2's decomposed relative positions
// (a bias from the query's row to each key row plus one from its column to each key column).
// https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam/modeling_sam.py
// Other input sizes: the reference SAM encoder of PixelLLM (scenic segment_anything image_encoder.py) resizes a
// table whose length differs from 2·size − 1 with jax.image.resize 'linear'; HF interpolates with torch, which
// is the identity at the checkpoint's size, where the two agree.
import { Tensor, indexSelect, matmul, relPosAttention, resize, scaledDotProductAttention, untracked } from '../../tensor/index.ts';
import { Linear, Module } from '../../nn/index.ts';
import { constantInit } from '../../nn/init.ts';
import type { SamVisionConfig } from './config.ts';

/**
 * The relative-position embeddings of every (query, key) pair along one axis: (qSize, kSize, hs). A table of
 * another length is first resized to 2·max(qSize, kSize) − 1 rows.
 */
export function relativePositions(qSize: number, kSize: number, table: Tensor): Tensor {
  const hs = table.shape[1]!;
  return matmul(selection(qSize, kSize, table.shape[0]!), table).reshape(qSize, kSize, hs); // (qSize, kSize, hs)
}

const selections = new Map<string, Tensor>();

/**
 * The (qSize·kSize, L) matrix whose row (i, j) is the resize of an L-row table to 2·max − 1 rows, read at the
 * relative position of i and j: resizing and indexing are both linear, so one product with the table does both.
 */
function selection(qSize: number, kSize: number, L: number): Tensor {
  const key = `${qSize},${kSize},${L}`;
  let m = selections.get(key);
  if (m === undefined) {
    m = untracked(() => makeSelection(qSize, kSize, L)); // kept across training steps: outside the step's recycling scope
    selections.set(key, m);
  }
  return m;
}

function makeSelection(qSize: number, kSize: number, L: number): Tensor {
  const maxRel = 2 * Math.max(qSize, kSize) - 1;
  const eye = new Tensor(new Float32Array(L * L), [L, L]);
  for (let i = 0; i < L; i++) eye.data[i * L + i] = 1;
  const rows = L === maxRel ? eye : resize(eye, [maxRel, L], { method: 'bilinear', convention: 'jax' }); // (maxRel, L)
  // the shorter side's coordinates are stretched to the longer one's; truncation as the reference's .long()
  const qScale = Math.max(kSize / qSize, 1);
  const kScale = Math.max(qSize / kSize, 1);
  const index = new Int32Array(qSize * kSize);
  for (let i = 0; i < qSize; i++) {
    for (let j = 0; j < kSize; j++) index[i * kSize + j] = Math.trunc(i * qScale - j * kScale + (kSize - 1) * kScale);
  }
  return indexSelect(rows, 0, new Tensor(index, [qSize * kSize])); // (qSize·kSize, L)
}

export class SamVisionAttention extends Module {
  qkv: Linear;
  proj: Linear;
  rel_pos_h: Tensor | null = null;
  rel_pos_w: Tensor | null = null;
  readonly numHeads: number;
  readonly scale: number;

  /** windowSize 0: global attention, whose tables are sized for the checkpoint's full grid. */
  constructor(config: SamVisionConfig, windowSize: number) {
    super();
    const C = config.hidden_size;
    this.numHeads = config.num_attention_heads;
    const hs = C / this.numHeads;
    this.scale = hs ** -0.5;
    this.qkv = new Linear(C, 3 * C, { bias: config.qkv_bias });
    this.proj = new Linear(C, C);
    if (config.use_rel_pos) {
      const size = windowSize === 0 ? Math.trunc(config.image_size / config.patch_size) : windowSize;
      this.rel_pos_h = constantInit([2 * size - 1, hs], 0);
      this.rel_pos_w = constantInit([2 * size - 1, hs], 0);
    }
  }

  /** x (B, H, W, C) → (B, H, W, C); B counts windows when the layer is windowed. */
  forward(x: Tensor): Tensor {
    const [B, H, W, C] = x.shape as [number, number, number, number];
    const nh = this.numHeads;
    const qkv = this.qkv.forward(x).reshape(B, H * W, 3, nh, C / nh); // (B, T, 3, nh, hs)
    const [q, k, v] = [0, 1, 2].map((i) => qkv.slice(2, i, i + 1).squeeze(2).transpose(1, 2)); // (B, nh, T, hs) views
    const out = this.rel_pos_h !== null && this.rel_pos_w !== null
      ? relPosAttention(q, k, v, relativePositions(H, H, this.rel_pos_h), relativePositions(W, W, this.rel_pos_w), { scale: this.scale })
      : scaledDotProductAttention(q, k, v, { scale: this.scale }); // (B, nh, T, hs)
    return this.proj.forward(out.transpose(1, 2).reshape(B, H, W, C)); // heads merged: (B, H, W, C)
  }
}
