// Row-wise kernels for the fused softmax and normalisation ops, on contiguous (rows × cols) storage in float32
// or float64, accumulating in float64. The native addon has float32 twins of these; both are tested against
// the same fixtures.
import type { FloatStorage } from '../dtype.ts';

/** y = softmax(x) or log_softmax(x) per row. */
export function softmaxForward(x: FloatStorage, y: FloatStorage, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m = -Infinity;
    for (let j = 0; j < cols; j++) if (x[o + j]! > m) m = x[o + j]!;
    if (m === -Infinity) m = 0; // a fully masked row stays NaN-free in the shift
    let s = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(x[o + j]! - m);
      s += e;
      if (!log) y[o + j] = e;
    }
    if (log) {
      const ls = Math.log(s);
      for (let j = 0; j < cols; j++) y[o + j] = x[o + j]! - m - ls; // (x − m) first: exact for large logits
    } else {
      const inv = 1 / s;
      for (let j = 0; j < cols; j++) y[o + j] = y[o + j]! * inv;
    }
  }
}

/** softmax: dx = y ⊙ (g − Σ g⊙y); log_softmax: dx = g − e^y · Σ g. */
export function softmaxBackward(y: FloatStorage, g: FloatStorage, dx: FloatStorage, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    if (log) {
      for (let j = 0; j < cols; j++) s += g[o + j]!;
      for (let j = 0; j < cols; j++) dx[o + j] = g[o + j]! - Math.exp(y[o + j]!) * s;
    } else {
      for (let j = 0; j < cols; j++) s += g[o + j]! * y[o + j]!;
      for (let j = 0; j < cols; j++) dx[o + j] = y[o + j]! * (g[o + j]! - s);
    }
  }
}

/**
 * Layer norm (rms = false: (x − mean)·rstd) or RMS norm (rms = true: x·rstd) per row, then ·w + b.
 * Saves mean and rstd = 1/√(var + eps) per row for backward (mean is 0 for RMS norm).
 */
export function normForward(x: FloatStorage, w: FloatStorage | null, b: FloatStorage | null, y: FloatStorage,
  mean: FloatStorage, rstd: FloatStorage, rows: number, cols: number, eps: number, rms: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let mu = 0;
    if (!rms) {
      for (let j = 0; j < cols; j++) mu += x[o + j]!;
      mu /= cols;
    }
    let v = 0;
    for (let j = 0; j < cols; j++) v += (x[o + j]! - mu) ** 2;
    const rs = 1 / Math.sqrt(v / cols + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      let t = (x[o + j]! - mu) * rs;
      if (w !== null) t *= w[j]!;
      if (b !== null) t += b[j]!;
      y[o + j] = t;
    }
  }
}

/**
 * With x̂ = (x − mean)·rstd and d = g ⊙ w: dx = rstd·(d − mean(d) − x̂·mean(d ⊙ x̂)), without the mean(d) term for
 * RMS norm; dw = Σ_rows g ⊙ x̂, db = Σ_rows g (accumulated into dw/db, which start at zero).
 */
export function normBackward(x: FloatStorage, w: FloatStorage | null, mean: FloatStorage, rstd: FloatStorage,
  g: FloatStorage, dx: FloatStorage, dw: Float64Array | null, db: Float64Array | null,
  rows: number, cols: number, rms: boolean): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const mu = mean[r]!;
    const rs = rstd[r]!;
    let sd = 0;
    let sdx = 0;
    for (let j = 0; j < cols; j++) {
      const xh = (x[o + j]! - mu) * rs;
      const d = w === null ? g[o + j]! : g[o + j]! * w[j]!;
      sd += d;
      sdx += d * xh;
      if (dw !== null) dw[j] += g[o + j]! * xh;
      if (db !== null) db[j] += g[o + j]!;
    }
    const md = rms ? 0 : sd / cols;
    const mdx = sdx / cols;
    for (let j = 0; j < cols; j++) {
      const xh = (x[o + j]! - mu) * rs;
      const d = w === null ? g[o + j]! : g[o + j]! * w[j]!;
      dx[o + j] = rs * (d - md - xh * mdx);
    }
  }
}
