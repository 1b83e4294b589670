// Per-token location targets from Localized Narratives, as PixelLLM computes them (DESIGN §2):
// 1. utteranceTargets: each utterance's trace summary, as tools/build_ln_tfrecord.py's trace2coord does it;
// 2. tokenTraceTargets: tokens matched to utterances by relative position, as io/ops.py's
//    DecodeLocalizedNarrativesAnnotations does it.
// https://github.com/google-research/scenic/tree/main/scenic/projects/pixel_llm
import type { Box, UtteranceTarget } from './types.ts';

/** One mouse-trace point: x, y as fractions of the image from the top-left, t in seconds. */
export interface TracePoint {
  x: number;
  y: number;
  t: number;
}

export interface TimedUtterance {
  utterance: string;
  start_time: number;
  end_time: number;
}

/** The trace is sampled at this many evenly spaced times per utterance (the reference's num_samples_per_trace). */
export const SAMPLES_PER_UTTERANCE = 16;

/**
 * The box of the 16 samples and the time-averaged centre of each utterance. `points` are all trace segments joined;
 * they need at least 2 distinct times (the reference skips narratives with ≤ 1 point).
 */
export function utteranceTargets(points: readonly TracePoint[], timedCaption: readonly TimedUtterance[]): UtteranceTarget[] {
  // stable sort by time (numpy's default argsort may order points sharing a timestamp differently)
  const sorted = [...points].sort((a, b) => a.t - b.t);
  const t = sorted.map((p) => p.t);
  const xs = sorted.map((p) => p.x);
  const ys = sorted.map((p) => p.y);
  return timedCaption.map(({ utterance, start_time, end_time }) => {
    const times = linspace(start_time, end_time, SAMPLES_PER_UTTERANCE);
    const sx = times.map((s) => interpolate(t, xs, s));
    const sy = times.map((s) => interpolate(t, ys, s));
    const span = times[times.length - 1] - times[0];
    const center: [number, number] = span < 1e-5
      ? [numpySum(sx) / sx.length, numpySum(sy) / sy.length]
      : [trapezoid(sx, times) / span, trapezoid(sy, times) / span];
    const box: Box = [Math.min(...sx), Math.min(...sy), Math.max(...sx), Math.max(...sy)];
    return { utterance, box, center };
  });
}

/** numpy.linspace(start, stop, n): i·step + start, the last sample exactly `stop`. */
function linspace(start: number, stop: number, n: number): number[] {
  const delta = stop - start;
  const step = delta / (n - 1);
  const out = Array.from({ length: n }, (_, i) => (step === 0 ? (i / (n - 1)) * delta : i * step) + start);
  out[n - 1] = stop;
  return out;
}

/**
 * scipy's interp1d(t, v, fill_value='extrapolate') at s: the segment [t[k-1], t[k]] with t[k] the first time ≥ s,
 * clamped to the first/last segment, so points outside the trace extrapolate its end segments.
 */
function interpolate(t: readonly number[], v: readonly number[], s: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  const k = Math.min(Math.max(lo, 1), t.length - 1);
  const slope = (v[k] - v[k - 1]) / (t[k] - t[k - 1]);
  return slope * (s - t[k - 1]) + v[k - 1];
}

/** numpy.trapezoid(y, x). */
function trapezoid(y: readonly number[], x: readonly number[]): number {
  const terms = y.slice(1).map((yi, i) => ((x[i + 1] - x[i]) * (yi + y[i])) / 2);
  return numpySum(terms);
}

/** numpy's float64 sum for up to 128 values: 8 running partial sums added as a tree, then the remainder in order. */
function numpySum(a: readonly number[]): number {
  if (a.length < 8) return a.reduce((s, v) => s + v, 0);
  const r = a.slice(0, 8);
  let i = 8;
  for (; i + 8 <= a.length; i += 8) for (let j = 0; j < 8; j++) r[j] += a[i + j];
  let sum = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
  for (; i < a.length; i++) sum += a[i];
  return sum;
}

/** The special token ids the matching needs; a tokenizer has them. */
export interface SpecialTokens {
  bos: number;
  eos: number;
  pad: number;
}

/** BOS + caption + EOS, cut to maxLength (a long caption loses its EOS, as in the reference's tokenizer). */
export function captionTokens(ids: readonly number[], special: SpecialTokens, maxLength: number): number[] {
  return [special.bos, ...ids, special.eos].slice(0, maxLength);
}

export interface TokenTraceTargets {
  /** (T, 4) boxes [x0, y0, x1, y1] in pixels of the image; all zero for a token without a target */
  boxes: Float32Array;
  /** (T) index of the utterance each token took its box from, -1 for none */
  utterance: Int32Array;
}

const F32_MIN_CENTER = Math.fround(1e-5);

/**
 * Each real token (not BOS/EOS/pad) of `tokens` takes the box of the utterance nearest in relative position:
 * valid utterances (non-blank text, centre x and y > 1e-5) sit at k/N, k = 1..N; the M real tokens at
 * 1/N + (j/M)·(1 − 1/N), j = 1..M; ties go to the earlier utterance. Boxes are clipped to [0, 1] and scaled to
 * (width, height) with rounding half to even, in float32 as the reference stores them. `tokens` is the caption
 * as the model sees it: BOS + caption + EOS truncated to the maximum length (see captionTokens), pads allowed.
 */
export function tokenTraceTargets(
  tokens: ArrayLike<number>, special: SpecialTokens, utterances: readonly UtteranceTarget[], width: number, height: number,
): TokenTraceTargets {
  const T = tokens.length;
  const boxes = new Float32Array(T * 4); // (T, 4)
  const utterance = new Int32Array(T).fill(-1); // (T)
  const valid = utterances.map((u) => u.utterance.trim().length > 0
    && Math.fround(u.center[0]) > F32_MIN_CENTER && Math.fround(u.center[1]) > F32_MIN_CENTER);
  const N = valid.filter(Boolean).length;
  const real = Array.from(tokens, (id) => id !== special.pad && id !== special.bos && id !== special.eos);
  const M = real.filter(Boolean).length;
  if (N === 0 || M === 0) return { boxes, utterance }; // the reference divides by zero here; no target is the sane reading
  // positions as the reference computes them: cumulative counts over the total, in float64
  let k = 0;
  const utterancePos = valid.map((v) => (v ? ++k / N : -1));
  const start = 1 / N;
  const end = 1;
  const scale = [width, height, width, height].map(Math.fround);
  let j = 0;
  for (let i = 0; i < T; i++) {
    if (!real[i]) continue;
    const pos = start + (++j / M) * (end - start);
    let best = -1;
    let bestDist = Infinity;
    for (let u = 0; u < utterancePos.length; u++) {
      const diff = pos - utterancePos[u];
      const d = diff * diff;
      if (d < bestDist) {
        bestDist = d;
        best = u;
      }
    }
    utterance[i] = best;
    const box = utterances[best].box;
    for (let c = 0; c < 4; c++) {
      const clipped = Math.min(Math.max(Math.fround(box[c]), 0), 1);
      boxes[i * 4 + c] = roundHalfEven(Math.fround(clipped * scale[c]));
    }
  }
  return { boxes, utterance };
}

/** tf.round: to the nearest integer, halves to even. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
