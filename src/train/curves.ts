// Loss and metric curves: a JSON history (one record per logged step) and a PNG with one panel per series,
// drawn as SVG and rasterised by sharp.
import { renameSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';

export interface HistoryRecord {
  step: number;
  values: Record<string, number>;
}

/** Writes the history atomically (temporary file + rename). */
export function writeHistory(path: string, history: HistoryRecord[]): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(history));
  renameSync(`${path}.tmp`, path);
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function niceTicks(lo: number, hi: number, n = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-12; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

/** An SVG with one panel per series name (in order of first appearance). */
export function curvesSvg(history: HistoryRecord[], { width = 420, height = 220, columns = 2 } = {}): string {
  const names = [...new Set(history.flatMap((r) => Object.keys(r.values)))];
  const rows = Math.max(1, Math.ceil(names.length / columns));
  const [W, H] = [width * Math.min(columns, Math.max(1, names.length)), height * rows];
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`];
  names.forEach((name, i) => {
    const pts = history.filter((r) => Number.isFinite(r.values[name])).map((r) => [r.step, r.values[name]] as const);
    const [ox, oy] = [(i % columns) * width, Math.floor(i / columns) * height];
    const [l, r, t, b] = [ox + 50, ox + width - 12, oy + 22, oy + height - 26];
    parts.push(`<text x="${ox + width / 2}" y="${oy + 15}" text-anchor="middle" font-weight="bold">${esc(name)}</text>`);
    parts.push(`<rect x="${l}" y="${t}" width="${r - l}" height="${b - t}" fill="none" stroke="#999"/>`);
    if (pts.length === 0) return;
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    let [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
    const X = (x: number) => l + ((x - x0) / (x1 - x0)) * (r - l);
    const Y = (y: number) => b - ((y - y0) / (y1 - y0)) * (b - t);
    for (const ty of niceTicks(y0, y1)) parts.push(`<text x="${l - 4}" y="${Y(ty) + 4}" text-anchor="end">${ty}</text><line x1="${l}" x2="${r}" y1="${Y(ty)}" y2="${Y(ty)}" stroke="#eee"/>`);
    for (const tx of niceTicks(x0, x1)) parts.push(`<text x="${X(tx)}" y="${b + 14}" text-anchor="middle">${tx}</text>`);
    parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${pts.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ')}"/>`);
    if (pts.length < 30) for (const [x, y] of pts) parts.push(`<circle cx="${X(x).toFixed(1)}" cy="${Y(y).toFixed(1)}" r="2" fill="#1f77b4"/>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Draws the curves to a PNG (written to a temporary file and renamed). */
export async function drawCurves(path: string, history: HistoryRecord[]): Promise<void> {
  await sharp(Buffer.from(curvesSvg(history))).png().toFile(`${path}.tmp.png`);
  renameSync(`${path}.tmp.png`, path);
}
