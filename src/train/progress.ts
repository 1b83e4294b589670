// A progress line with rate and ETA: redrawn in place on a terminal, printed every few seconds to a log otherwise.

export interface ProgressOptions {
  label?: string;
  stream?: NodeJS.WriteStream;
  /** seconds between lines when the stream is not a terminal */
  logEvery?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

export class Progress {
  readonly #start = performance.now();
  #lastLog = 0;
  #startStep: number;
  readonly #stream: NodeJS.WriteStream;
  readonly #label: string;
  readonly #logEvery: number;

  constructor(readonly total: number, startStep = 0, opts: ProgressOptions = {}) {
    this.#startStep = startStep;
    this.#stream = opts.stream ?? process.stderr;
    this.#label = opts.label ?? '';
    this.#logEvery = opts.logEvery ?? 10;
  }

  /** The line for `step` (done steps) with named values, e.g. {loss: 1.23}. */
  line(step: number, values: Record<string, number> = {}, now = performance.now()): string {
    const elapsed = (now - this.#start) / 1000;
    const rate = (step - this.#startStep) / Math.max(elapsed, 1e-9);
    const frac = this.total > 0 ? Math.min(1, step / this.total) : 0;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const eta = rate > 0 ? (this.total - step) / rate : Infinity;
    const shown = Object.entries(values).map(([k, v]) => `${k} ${Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4)}`);
    return [this.#label, `[${bar}]`, `${step}/${this.total}`, `${(frac * 100).toFixed(1)}%`,
      `${rate >= 1 ? rate.toFixed(2) : (rate * 60).toFixed(2)} ${rate >= 1 ? 'it/s' : 'it/min'}`,
      `elapsed ${formatDuration(elapsed)}`, `ETA ${formatDuration(eta)}`, ...shown].filter(Boolean).join('  ');
  }

  update(step: number, values: Record<string, number> = {}): void {
    const now = performance.now();
    if (this.#stream.isTTY) this.#stream.write(`\r${this.line(step, values, now)}\x1b[K`);
    else if (now - this.#lastLog >= this.#logEvery * 1000 || step >= this.total) {
      this.#lastLog = now;
      this.#stream.write(`${this.line(step, values, now)}\n`);
    }
  }

  done(): void {
    if (this.#stream.isTTY) this.#stream.write('\n');
  }
}
