// Autoregressive decoding shared by every text decoder (T5, the GIT/BERT decoder, Llama): batched greedy search as
// HF's generate does it (the parity fixtures' greedy_ids), and beam search as T5X / scenic's PixelLLM do it, with
// the length penalty ((5 + len) / 6)^α. The optional repeat suppression is GRiT's and PixelLLM's: the previous
// token's logit is capped at −10000, so no token follows itself.
// https://github.com/google-research/scenic/blob/main/scenic/projects/pixel_llm/auto_regressive_decode.py
import { Tensor, noGrad } from '../tensor/index.ts';
import { UserError } from '../errors.ts';

/**
 * What a model implements to be decoded: a batch of rows in flight over a KV cache. A model starts one with its own
 * inputs (T5 runs its encoder once and keeps the cross-attention keys; GIT keeps the image tokens as a prefix; Llama
 * may take a prefix of embeddings) and generation then only calls these members:
 *
 *   const session = model.startDecoding({ ...inputs, maxLength });  // encode once, allocate the cache
 *   let logits = session.step(promptIds);                            // (B, t) → (B, V): the whole prompt in one call
 *   logits = session.step(nextIds);                                  // (B, 1) → (B, V): one position per step
 *   session.select([0, 0, 1, 1]);                                    // beam search: expand or reorder rows
 */
export interface DecodeSession {
  /** Rows in flight: the batch, or batch × beams once beam search has expanded it. */
  readonly batch: number;
  /**
   * Feeds the next tokens of every row, ids (B, t) int32, at the positions after those already seen, appends their
   * keys and values to the cache, and returns the logits after the last of them, (B, V). No gradient is recorded.
   */
  step(ids: Tensor): Tensor;
  /** Row i continues as old row rows[i]; rows may repeat or be dropped (the cache and any per-row state follow). */
  select(rows: ArrayLike<number>): void;
}

export interface GenerateOptions {
  /** Tokens to generate at most, after the prompt. */
  maxNewTokens: number;
  /** Generation of a row stops after it emits one of these. */
  eosTokenId: number | readonly number[];
  /** Written in a row after its end (HF uses pad_token_id, or the EOS id when the model has no pad). */
  padTokenId: number;
  /** Never emit the token just emitted (its logit capped at −10000), as GRiT and PixelLLM decode. Default off (HF). */
  suppressRepeat?: boolean;
}

export interface BeamOptions extends GenerateOptions {
  numBeams: number;
  /** α of the T5X length penalty ((5 + len) / 6)^α that a finished beam's log-probability is divided by; 0 turns it off. */
  lengthPenalty?: number;
}

export interface Generated {
  /** Prompt and generated tokens, padded after each row's end: (B, t + n) for greedy, (B, K, t + n) for beams, best first. */
  sequences: Tensor;
  /**
   * Per row (or per beam): greedy gives the mean log-probability of the generated tokens (the end token included,
   * divided by the count before it, as scenic's greedy_decode); beam search its finished score, the summed
   * log-probability over the length penalty (a beam that never finished: its summed log-probability).
   */
  scores: Float64Array;
}

export class GenerateError extends UserError {
  override name = 'GenerateError';
}

const SUPPRESSED = -10000;

function checkInputs(prompt: Tensor, session: DecodeSession, opts: GenerateOptions): void {
  if (prompt.dtype !== 'int32' || prompt.ndim !== 2 || prompt.shape[1] === 0) {
    throw new GenerateError(`prompt ids must be int32 (B, t) with t ≥ 1, got ${prompt.dtype} [${prompt.shape}]`);
  }
  if (prompt.shape[0] !== session.batch) throw new GenerateError(`prompt has ${prompt.shape[0]} rows, the decode session ${session.batch}`);
  if (!(Number.isInteger(opts.maxNewTokens) && opts.maxNewTokens >= 0)) throw new GenerateError(`maxNewTokens ${opts.maxNewTokens} must be a non-negative integer`);
}

const eosSet = (opts: GenerateOptions): Set<number> => new Set(typeof opts.eosTokenId === 'number' ? [opts.eosTokenId] : opts.eosTokenId);

/** Rows of logits (R, V) as float64 arrays, each row's previous token capped at −10000 when asked. */
function logitRows(logits: Tensor, prev: ArrayLike<number>, suppress: boolean): Float64Array[] {
  const [R, V] = logits.shape as [number, number];
  const vals = logits.values();
  return Array.from({ length: R }, (_, r) => {
    const row = Float64Array.from(vals.subarray(r * V, (r + 1) * V));
    if (suppress) row[prev[r]!] = Math.min(row[prev[r]!]!, SUPPRESSED);
    return row;
  });
}

/** log Σ exp(row), stable. */
function logSumExp(row: Float64Array): number {
  let m = -Infinity;
  for (const x of row) if (x > m) m = x;
  if (m === -Infinity) return m;
  let s = 0;
  for (const x of row) s += Math.exp(x - m);
  return m + Math.log(s);
}

/**
 * Greedy decoding of every row at once: prompt (B, t) int32 → sequences (B, t + n), n ≤ maxNewTokens; stops early
 * once every row has ended. Equals HF's generate(do_sample=False, num_beams=1) (ties go to the lowest id, as argmax).
 */
export function greedy(session: DecodeSession, prompt: Tensor, opts: GenerateOptions): Generated {
  checkInputs(prompt, session, opts);
  return noGrad(() => {
    const [B, t] = prompt.shape as [number, number];
    const eos = eosSet(opts);
    const rows: number[][] = Array.from({ length: B }, (_, b) => Array.from(prompt.values().subarray(b * t, (b + 1) * t)));
    const done = new Array<boolean>(B).fill(false);
    const sumLogProb = new Float64Array(B);
    const counted = new Float64Array(B); // generated tokens before the end token
    let logits = opts.maxNewTokens > 0 ? session.step(prompt) : null;
    for (let i = 0; i < opts.maxNewTokens && logits; i++) {
      const rowLogits = logitRows(logits, rows.map((r) => r.at(-1)!), opts.suppressRepeat ?? false);
      const next = new Int32Array(B);
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          next[b] = opts.padTokenId;
          continue;
        }
        const row = rowLogits[b]!;
        let best = 0;
        for (let v = 1; v < row.length; v++) if (row[v]! > row[best]!) best = v;
        next[b] = best;
        sumLogProb[b] += row[best]! - logSumExp(row);
        if (eos.has(best)) done[b] = true;
        else counted[b]++;
      }
      rows.forEach((r, b) => r.push(next[b]!));
      logits = done.every(Boolean) || i === opts.maxNewTokens - 1 ? null : session.step(new Tensor(next, [B, 1]));
    }
    const L = rows[0]!.length;
    const scores = sumLogProb.map((s, b) => s / Math.max(1, counted[b]!));
    return { sequences: new Tensor(Int32Array.from(rows.flat()), [B, L]), scores };
  });
}
