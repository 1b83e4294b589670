// Left padding for decoder-only models, as HF's generate handles it: an attention mask (B, T) marks the real tokens
// (1) and the padding (0) of prompts of different lengths. A token's position is the count of real tokens before it
// in its row (the mask's cumsum − 1; a padded token gets 1, as HF's masked_fill), and a padded key is hidden from every
// query by an additive float32 minimum, also in every later decoding step, so each row computes what it would alone.
// https://github.com/huggingface/transformers/blob/main/src/transformers/generation/utils.py (prepare_inputs_for_generation)
import { Tensor } from '../tensor/index.ts';
import { UserError } from '../errors.ts';

export class PaddingMaskError extends UserError {
  override name = 'PaddingMaskError';
}

/** HF's padding value: finite, so a padded query whose every key is padding stays finite instead of NaN. */
const F32_MIN = -3.4028234663852886e38;

/** What one call feeds: each token's position (B·T, row-major) and the bias (B, 1, 1, L) over every key so far. */
export interface Placement {
  positions: Int32Array;
  /** null while no row holds padding (attention then needs no bias). */
  keyBias: Tensor | null;
}

/** The 0/1 flags of a mask (B, T) of any dtype, checked against the tokens it describes. */
export function maskFlags(mask: Tensor, B: number, T: number): Uint8Array {
  if (mask.ndim !== 2 || mask.shape[0] !== B || mask.shape[1] !== T) {
    throw new PaddingMaskError(`attention mask must be (${B}, ${T}) to cover the tokens fed, got [${mask.shape}]`);
  }
  const values = mask.toArray();
  const bad = values.findIndex((x) => x !== 0 && x !== 1);
  if (bad >= 0) throw new PaddingMaskError(`attention mask holds ${values[bad]} at [${Math.floor(bad / T)}, ${bad % T}]; use 1 for a real token, 0 for padding`);
  return Uint8Array.from(values);
}

/** flags (B·t) with P real tokens put ahead of each row's: (B·(P + t)), for a prefix of embeddings before the text. */
export function realPrefix(flags: Uint8Array, B: number, P: number): Uint8Array {
  const t = flags.length / B;
  const out = new Uint8Array(B * (P + t)).fill(1);
  for (let b = 0; b < B; b++) out.set(flags.subarray(b * t, (b + 1) * t), b * (P + t) + P);
  return out;
}

/** The real/padding flags of every position a batch has fed, per row; follows the rows through select(). */
export class PaddingRecord {
  #rows: number[][];
  #real: number[]; // real tokens per row: the next real token's position
  #padded = false;

  constructor(batch: number) {
    this.#rows = Array.from({ length: batch }, () => []);
    this.#real = new Array<number>(batch).fill(0);
  }

  get batch(): number {
    return this.#rows.length;
  }

  /** Records T more tokens per row, flags (B·T, row-major) or all real, and returns where they go. */
  extend(T: number, flags: ArrayLike<number> | null): Placement {
    const B = this.batch;
    const positions = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const row = this.#rows[b]!;
      for (let t = 0; t < T; t++) {
        const real = flags === null ? 1 : flags[b * T + t]!;
        row.push(real);
        if (real) positions[b * T + t] = this.#real[b]!++;
        else {
          positions[b * T + t] = 1;
          this.#padded = true;
        }
      }
    }
    return { positions, keyBias: this.#padded ? this.#bias() : null };
  }

  /** Row i continues as old row rows[i]. */
  select(rows: ArrayLike<number>): void {
    const picked = Array.from(rows, (r) => {
      if (!(r >= 0 && r < this.batch)) throw new PaddingMaskError(`select: row ${r} is not in a batch of ${this.batch}`);
      return r;
    });
    this.#rows = picked.map((r) => this.#rows[r]!.slice());
    this.#real = picked.map((r) => this.#real[r]!);
  }

  /** (B, 1, 1, L): 0 at real keys, the float32 minimum at padded ones. */
  #bias(): Tensor {
    const B = this.batch;
    const L = this.#rows[0]!.length;
    const bias = new Float32Array(B * L);
    this.#rows.forEach((row, b) => row.forEach((real, j) => (bias[b * L + j] = real ? 0 : F32_MIN)));
    return new Tensor(bias, [B, 1, 1, L]);
  }
}
