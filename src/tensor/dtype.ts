/** Element types: float32 for everything, float64 for gradient checks, int32 for ids, bool (0/1 bytes) for masks. */
export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export type Storage = Float32Array | Float64Array | Int32Array | Uint8Array;
export type FloatStorage = Float32Array | Float64Array;

export function allocate(dtype: DType, n: number): Storage {
  const reused = spareBytes === 0 ? null : reuse(dtype, n);
  return reused !== null ? tracked(reused.fill(0), false) : tracked(zeroed(dtype, n), true);
}

function zeroed(dtype: DType, n: number): Storage {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
  }
}

// Below this many bytes a zeroed typed array is as cheap as an uninitialised one (V8 allocates it directly).
const UNINIT_MIN_BYTES = 1 << 16;
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(n: number): Uint8Array } }).Buffer;

/**
 * Storage whose values the caller overwrites entirely before anything reads them (a product's or a kernel's output):
 * large float buffers skip the zero fill (Node's allocUnsafeSlow), as torch.empty does; elsewhere it is allocate().
 */
export function allocateUninit(dtype: DType, n: number): Storage {
  const bytes = dtype === 'float64' ? 8 * n : 4 * n;
  if ((dtype !== 'float32' && dtype !== 'float64') || bytes < UNINIT_MIN_BYTES || NodeBuffer === undefined) return allocate(dtype, n);
  const reused = spareBytes === 0 ? null : reuse(dtype, n);
  if (reused !== null) return tracked(reused, false);
  const raw = NodeBuffer.allocUnsafeSlow(bytes); // its own ArrayBuffer, offset 0
  return tracked(dtype === 'float32' ? new Float32Array(raw.buffer, raw.byteOffset, n) : new Float64Array(raw.buffer, raw.byteOffset, n), true);
}

// Float buffers backward passes have finished with, by byte length. Allocation takes from here before asking the
// engine for new memory, in the pass itself and in the next forward (whose activations have the shapes of these
// gradients). Reusing them, as torch's caching allocator does, spares the garbage collector most of a training
// step's gigabyte of short-lived buffers, and the reused memory is often still in cache.
const spare = new Map<number, Set<ArrayBuffer>>();
let spareBytes = 0;
let recycling = 0; // withSpareBuffers depth: recycle() keeps buffers only inside one
// PIXELLLM_POISON_RECYCLED=1 checks recycle()'s guarantee: recycled storage is filled with NaN instead of reused
// (`npm run test:poisoned` runs the suite so, as CI does: a rule that kept or returned a buffer it did not own fails).
const POISON_RECYCLED = typeof process !== 'undefined' && process.env?.PIXELLLM_POISON_RECYCLED === '1';
/** What the pool may keep between passes (the rest is left to the garbage collector). */
const SPARE_LIMIT_BYTES = 1024 * 2 ** 20;

/** Runs fn (a backward pass) with recycle() live; afterwards the pool is cut to SPARE_LIMIT_BYTES. */
export function withSpareBuffers<T>(fn: () => T): T {
  recycling++;
  try {
    return fn();
  } finally {
    recycling--;
    if (recycling === 0 && !inStep && spareBytes > SPARE_LIMIT_BYTES) trimSpare(); // a step scope trims when it ends
  }
}

function trimSpare(): void {
  for (const [bytes, set] of [...spare].sort((a, b) => b[0] - a[0])) { // the largest first: fewest buffers to drop
    for (const buffer of set) {
      if (spareBytes <= SPARE_LIMIT_BYTES) return;
      set.delete(buffer);
      spareBytes -= bytes;
    }
    if (set.size === 0) spare.delete(bytes);
  }
}

/**
 * Hands storage back for reuse, inside withSpareBuffers. The caller guarantees that nothing reads or writes the
 * storage's buffer any more; only a float array spanning its whole buffer (as allocation makes them) is kept.
 */
export function recycle(data: Storage): void {
  if (recycling === 0 || !(data instanceof Float32Array || data instanceof Float64Array)) return;
  if (POISON_RECYCLED) {
    data.fill(Number.NaN); // a reader the caller forgot now reads NaN, and nothing reuses the storage
    return;
  }
  const buffer = data.buffer as ArrayBuffer;
  if (data.byteOffset !== 0 || data.byteLength !== buffer.byteLength || data.byteLength < UNINIT_MIN_BYTES) return;
  keepSpare(buffer);
}

function keepSpare(buffer: ArrayBuffer): void {
  const set = spare.get(buffer.byteLength); // a set: recycling a buffer twice must not hand it out twice
  if (set === undefined) spare.set(buffer.byteLength, new Set([buffer]));
  else if (set.has(buffer)) return;
  else set.add(buffer);
  spareBytes += buffer.byteLength;
}

// A training step's scope (withStepScope). The first step only measures how many bytes of fresh float buffers it
// needs; while the largest step so far fits SPARE_LIMIT_BYTES, later steps hold every buffer they allocate until
// they end and then hand them all to the pool. Holding costs memory (a buffer that dies mid-step cannot be freed
// before the step ends), so a model whose step does not fit never holds: it runs as without a scope.
let inStep = false;
let stepBuffers: Set<ArrayBuffer> | null = null; // null: measuring only
let stepBytes = 0;
let largestStep = -1; // fresh bytes of the largest step so far; −1 before the first
let untrackedDepth = 0;

function tracked<S extends Storage>(data: S, fresh: boolean): S {
  if (!inStep || untrackedDepth > 0 || !(data instanceof Float32Array || data instanceof Float64Array) || data.byteLength < UNINIT_MIN_BYTES) return data;
  const buffer = data.buffer as ArrayBuffer;
  if (stepBuffers === null) {
    if (fresh) stepBytes += buffer.byteLength;
  } else if (!stepBuffers.has(buffer)) {
    stepBytes += buffer.byteLength;
    if (stepBytes <= SPARE_LIMIT_BYTES) stepBuffers.add(buffer); // past the limit, the collector frees the rest
  }
  return data;
}

/**
 * Runs fn, one training step's forward and backward, and then hands every float buffer allocated inside it to the
 * pool, except the buffers of the storage `keep` returns (the parameters' gradients). The next step then allocates
 * almost nothing new, which spares the garbage collector the step's ~700 MB of short-lived buffers (pixelllm-tiny).
 * The caller guarantees that nothing made inside fn is read after it (read losses as numbers inside), other than
 * what keep names; caches that outlive a step allocate inside untracked(). After a throw nothing is recycled.
 */
export function withStepScope<T>(fn: () => T, keep: () => Iterable<Storage | null | undefined>): T {
  if (inStep) return fn(); // nested: the outer scope recycles
  inStep = true;
  stepBytes = 0;
  const made = (stepBuffers = largestStep >= 0 && largestStep <= SPARE_LIMIT_BYTES ? new Set<ArrayBuffer>() : null);
  let finished = false;
  try {
    const out = fn();
    finished = true;
    return out;
  } finally {
    inStep = false;
    stepBuffers = null;
    largestStep = Math.max(largestStep, stepBytes);
    if (finished && made !== null) {
      const kept = new Set<ArrayBufferLike>();
      for (const d of keep()) if (d) kept.add(d.buffer);
      for (const buffer of made) {
        if (kept.has(buffer)) continue;
        if (POISON_RECYCLED) new Uint8Array(buffer).fill(0xff); // all-ones bits: NaN in float32 and float64
        else keepSpare(buffer);
      }
      if (spareBytes > SPARE_LIMIT_BYTES) trimSpare();
    }
  }
}

/** Runs fn with its allocations outside any step scope: for a cache that outlives the step that fills it. */
export function untracked<T>(fn: () => T): T {
  untrackedDepth++;
  try {
    return fn();
  } finally {
    untrackedDepth--;
  }
}

function reuse(dtype: DType, n: number): Storage | null {
  if (dtype !== 'float32' && dtype !== 'float64') return null;
  const bytes = dtype === 'float32' ? 4 * n : 8 * n;
  const set = spare.get(bytes);
  const buffer = set?.values().next().value as ArrayBuffer | undefined;
  if (buffer === undefined) return null;
  set!.delete(buffer);
  if (set!.size === 0) spare.delete(bytes);
  spareBytes -= bytes;
  return dtype === 'float32' ? new Float32Array(buffer) : new Float64Array(buffer);
}

export function dtypeOf(data: Storage): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}

export const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

const RANK: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

/** The dtype two operands meet in, as torch promotes them. */
export function promote(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The float dtype a math op on `d` returns (ints and bools become float32). */
export const floatOf = (d: DType): DType => (isFloat(d) ? d : 'float32');
