// Autoregressive decoding shared by every text decoder (T5, the GIT/BERT decoder, Llama): batched greedy search as
// HF's generate does it (the parity fixtures' greedy_ids), and beam search as T5X / scenic's PixelLLM do it, with
// the length penalty ((5 + len) / 6)^α. The optional repeat suppression is GRiT's and PixelLLM's: the previous
// token's logit is capped at −10000, so no token follows itself.
// https://github.com/google-research/scenic/blob/main/scenic/projects/pixel_llm/auto_regressive_decode.py
import { Tensor, logSoftmax, noGrad } from '../tensor/index.ts';
import type { FloatStorage } from '../tensor/dtype.ts';
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

/** One row of logits (the previous token's capped when suppressing repeats) and its log-softmax. */
interface LogitRow {
  logits: FloatStorage;
  logProbs: FloatStorage;
}

/** The rows of logits (R, V) with their log-probabilities (the addon's vectorised log-softmax). */
function logitRows(logits: Tensor, prev: ArrayLike<number>, suppress: boolean): LogitRow[] {
  const [R, V] = logits.shape as [number, number];
  const values = logits.values() as FloatStorage;
  const x = suppress ? values.slice() : values;
  if (suppress) for (let r = 0; r < R; r++) x[r * V + prev[r]!] = Math.min(x[r * V + prev[r]!]!, SUPPRESSED);
  const lp = logSoftmax(new Tensor(x, [R, V]), -1).data as FloatStorage;
  return Array.from({ length: R }, (_, r) => ({ logits: x.subarray(r * V, (r + 1) * V), logProbs: lp.subarray(r * V, (r + 1) * V) }));
}

/** The first index of the largest logit (torch's argmax). */
function argmaxOf(row: LogitRow): number {
  const { logits } = row;
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
  return best;
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
        const best = argmaxOf(row);
        next[b] = best;
        sumLogProb[b] += row.logProbs[best]!;
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

/** T5X's length penalty: a finished beam of `length` generated tokens (its end token included) scores log p / ((5 + length) / 6)^α. */
export const lengthPenalty = (length: number, alpha: number): number => ((5 + length) / 6) ** alpha;

interface Beam {
  tokens: number[];
  /** Summed log-probability of the generated tokens. */
  logProb: number;
  /** Finished beams: logProb over the length penalty. */
  score: number;
}

/** The n largest entries of `values` (index order breaks ties, as lax.top_k), best first. */
function topK(n: number, count: number, value: (i: number) => number): number[] {
  const best: number[] = [];
  const vals: number[] = [];
  for (let i = 0; i < count; i++) {
    const x = value(i);
    if (best.length === n && !(x > vals[n - 1]!)) continue;
    let at = Math.min(best.length, n - 1);
    if (best.length < n) {
      best.push(i);
      vals.push(x);
    }
    while (at > 0 && x > vals[at - 1]!) {
      best[at] = best[at - 1]!;
      vals[at] = vals[at - 1]!;
      at--;
    }
    best[at] = i;
    vals[at] = x;
  }
  return best;
}

/**
 * Beam search as T5X and scenic's PixelLLM run it: each step every live beam proposes its continuations, the best
 * 2K of all are kept; those ending in EOS join the finished set scored by the length penalty, the best K others stay
 * live. A batch row stops once its K finished beams all beat what its best live beam could still reach; the search
 * stops when every row has, or after maxNewTokens. Returns K sequences per row, best first (a row where nothing
 * finished returns its live beams, as T5X does; finished sets short of K are topped up with the best live beams).
 */
export function beamSearch(session: DecodeSession, prompt: Tensor, opts: BeamOptions): Generated {
  checkInputs(prompt, session, opts);
  const K = opts.numBeams;
  const alpha = opts.lengthPenalty ?? 0.6;
  if (!(Number.isInteger(K) && K >= 1)) throw new GenerateError(`numBeams ${K} must be a positive integer`);
  if (!(alpha >= 0)) throw new GenerateError(`lengthPenalty ${alpha} must be ≥ 0`);
  return noGrad(() => {
    const [B, t] = prompt.shape as [number, number];
    const eos = eosSet(opts);
    const promptRows = Array.from({ length: B }, (_, b) => Array.from(prompt.values().subarray(b * t, (b + 1) * t)));
    // only beam 0 starts live, so the K first beams are K different tokens
    const live: Beam[][] = promptRows.map(() => Array.from({ length: K }, (_, k) => ({ tokens: [], logProb: k === 0 ? 0 : -Infinity, score: 0 })));
    const finished: Beam[][] = promptRows.map(() => []);
    const done = new Array<boolean>(B).fill(false);
    let logits = opts.maxNewTokens > 0 ? session.step(prompt) : null; // (B, V): every beam of a row starts from it
    if (logits) session.select(Array.from({ length: B * K }, (_, r) => Math.floor(r / K)));
    for (let step = 1; step <= opts.maxNewTokens && logits; step++) {
      const firstStep = step === 1;
      const prev = Array.from({ length: logits.shape[0]! }, (_, r) => {
        const beam = firstStep ? null : live[Math.floor(r / K)]![r % K]!;
        return beam?.tokens.at(-1) ?? promptRows[firstStep ? r : Math.floor(r / K)]!.at(-1)!;
      });
      const rows = logitRows(logits, prev, opts.suppressRepeat ?? false);
      const V = rows[0]!.logits.length;
      const parents = new Array<number>(B * K);
      for (let b = 0; b < B; b++) {
        for (let k = 0; k < K; k++) parents[b * K + k] = b * K + k;
        if (done[b]) continue;
        // log p(beam) + log p(v | beam) for every beam k and token v, as candidate i = k·V + v
        const beamRows = Array.from({ length: K }, (_, k) => rows[firstStep ? b : b * K + k]!);
        const score = (i: number): number => {
          const k = Math.floor(i / V);
          const base = live[b]![k]!.logProb;
          return base === -Infinity ? -Infinity : base + beamRows[k]!.logProbs[i - k * V]!;
        };
        // enough candidates that K stay live even if every EOS id of every beam ranks first (HF keeps (1 + |eos|)·K)
        const candidates = topK(Math.max(2, 1 + eos.size) * K, K * V, score);
        const nextLive: Beam[] = [];
        for (const c of candidates) {
          const [k, v] = [Math.floor(c / V), c % V];
          const logProb = score(c);
          if (logProb === -Infinity) continue;
          const beam = { tokens: [...live[b]![k]!.tokens, v], logProb, score: logProb / lengthPenalty(step, alpha) };
          if (eos.has(v)) finished[b]!.push(beam);
          else if (nextLive.length < K) {
            parents[b * K + nextLive.length] = b * K + k;
            nextLive.push(beam);
          }
        }
        while (nextLive.length < K) nextLive.push({ tokens: [...live[b]![0]!.tokens, opts.padTokenId], logProb: -Infinity, score: -Infinity });
        live[b] = nextLive;
        finished[b] = finished[b]!.sort((x, y) => y.score - x.score).slice(0, K);
        const bestReachable = nextLive[0]!.logProb / lengthPenalty(opts.maxNewTokens, alpha);
        if (finished[b]!.length === K && finished[b]![K - 1]!.score > bestReachable) done[b] = true;
      }
      if (done.every(Boolean) || step === opts.maxNewTokens) break;
      session.select(parents);
      const next = new Int32Array(B * K);
      for (let r = 0; r < B * K; r++) next[r] = live[Math.floor(r / K)]![r % K]!.tokens.at(-1)!;
      logits = session.step(new Tensor(next, [B * K, 1]));
    }
    const results = live.map((beams, b) => {
      if (finished[b]!.length === 0) return beams.map((x) => ({ ...x, score: x.logProb }));
      const topUp = beams.filter((x) => x.logProb > -Infinity).map((x) => ({ ...x, score: x.logProb / lengthPenalty(x.tokens.length, alpha) }));
      return [...finished[b]!, ...topUp].slice(0, K);
    });
    const L = t + Math.max(0, ...results.flat().map((x) => x.tokens.length));
    const ids = new Int32Array(B * K * L).fill(opts.padTokenId);
    const scores = new Float64Array(B * K).fill(-Infinity);
    results.forEach((beams, b) => beams.forEach((x, k) => {
      ids.set([...promptRows[b]!, ...x.tokens], (b * K + k) * L);
      scores[b * K + k] = x.score;
    }));
    return { sequences: new Tensor(ids, [B, K, L]), scores };
  });
}
