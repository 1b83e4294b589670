// Keys and values of the positions a decoder has already seen, one slot per attention layer. Each slot is
// preallocated for `capacity` positions and written in place; attention reads a strided view of the filled part, so a
// decoding step copies only its own new keys and values. A slot that runs out doubles its capacity (one copy).
import { Tensor } from '../tensor/index.ts';
import { allocate, type FloatStorage } from '../tensor/dtype.ts';
import { copyInto } from '../tensor/kernels.ts';
import { UserError } from '../errors.ts';

export class KVCacheError extends UserError {
  override name = 'KVCacheError';
}

interface Slot {
  k: FloatStorage; // (B, nh, capacity, hs)
  v: FloatStorage;
  capacity: number;
  length: number;
}

export class KVCache {
  readonly #slots: Slot[] = [];
  #batch: number;

  /** `capacity` is a hint: the positions a generation will need (prompt + new tokens). */
  constructor(readonly layers: number, batch: number, readonly heads: number, readonly headDim: number, readonly capacity = 64) {
    this.#batch = batch;
  }

  /** Rows in the batch (changes when select() repeats or drops rows). */
  get batch(): number {
    return this.#batch;
  }

  /** Positions every layer holds: where the next step's tokens go. */
  get length(): number {
    return this.#slots.length < this.layers ? 0 : Math.min(...this.#slots.map((s) => s.length));
  }

  /**
   * Stores k, v (B, nh, t, hs) after the positions `layer` already holds and returns views of all its keys and
   * values so far, (B, nh, L, hs) each. The stored values carry no gradient: the cache is for decoding.
   */
  append(layer: number, k: Tensor, v: Tensor): [Tensor, Tensor] {
    const [B, nh, t, hs] = k.shape as [number, number, number, number];
    if (k.ndim !== 4 || B !== this.#batch || nh !== this.heads || hs !== this.headDim || v.shape.join() !== k.shape.join()) {
      throw new KVCacheError(`KV cache for batch ${this.#batch}, ${this.heads} heads of size ${this.headDim}: cannot append k [${k.shape}] and v [${v.shape}]`);
    }
    if (!(layer >= 0 && layer < this.layers)) throw new KVCacheError(`KV cache has ${this.layers} layers, no layer ${layer}`);
    const slot = this.#slots[layer] ?? this.#newSlot(layer, k.dtype === 'float64' ? 'float64' : 'float32');
    if (slot.length + t > slot.capacity) this.#grow(slot, Math.max(2 * slot.capacity, slot.length + t));
    const strides = [nh * slot.capacity * hs, slot.capacity * hs, hs, 1];
    for (const [src, data] of [[k, slot.k], [v, slot.v]] as const) {
      copyInto({ data, shape: k.shape, strides, offset: slot.length * hs, isContiguous: false }, src); // into [:, :, length:length + t]
    }
    slot.length += t;
    const shape = [B, nh, slot.length, hs];
    return [new Tensor(slot.k, shape, strides), new Tensor(slot.v, shape, strides)];
  }

  /** Row i becomes old row rows[i] (rows may repeat: beam search expands and reorders with this). */
  select(rows: ArrayLike<number>): void {
    for (const slot of this.#slots) {
      const block = slot.capacity * this.heads * this.headDim; // one row's storage
      const take = (src: FloatStorage): FloatStorage => {
        const out = allocate(src instanceof Float64Array ? 'float64' : 'float32', rows.length * block) as FloatStorage;
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i]!;
          if (!(r >= 0 && r < this.#batch)) throw new KVCacheError(`KV cache select: row ${r} is not in a batch of ${this.#batch}`);
          out.set(src.subarray(r * block, (r + 1) * block), i * block);
        }
        return out;
      };
      slot.k = take(slot.k);
      slot.v = take(slot.v);
    }
    this.#batch = rows.length;
  }

  #newSlot(layer: number, dtype: 'float32' | 'float64'): Slot {
    const n = this.#batch * this.heads * this.capacity * this.headDim;
    const slot = { k: allocate(dtype, n) as FloatStorage, v: allocate(dtype, n) as FloatStorage, capacity: this.capacity, length: 0 };
    this.#slots[layer] = slot;
    return slot;
  }

  #grow(slot: Slot, capacity: number): void {
    const rows = this.#batch * this.heads;
    const hs = this.headDim;
    const widen = (src: FloatStorage): FloatStorage => {
      const out = allocate(src instanceof Float64Array ? 'float64' : 'float32', rows * capacity * hs) as FloatStorage;
      for (let r = 0; r < rows; r++) out.set(src.subarray(r * slot.capacity * hs, (r * slot.capacity + slot.length) * hs), r * capacity * hs);
      return out;
    };
    slot.k = widen(slot.k);
    slot.v = widen(slot.v);
    slot.capacity = capacity;
  }
}
