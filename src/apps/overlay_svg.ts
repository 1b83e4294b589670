// The vector part of a result overlay: boxes, points, the caption trace, labels and the caption legend as one SVG the
// size of the output canvas (the image at the top left, a legend panel below it for captions). Pure string building,
// so a web page can draw the same SVG over an <img>; masks are rasters and are drawn by overlay.ts.
import { UserError } from '../errors.ts';
import { TASK_NAMES, type Box, type Point, type TaskResult } from '../infer/results.ts';

/** A result the overlay cannot draw (unknown task, a coordinate that is not a number, a mask of the wrong size). */
export class OverlayError extends UserError {
  override name = 'OverlayError';
}

/** matplotlib's tab10, the usual qualitative palette: neighbours in the cycle stay far apart in hue. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'] as const;

export const colorOf = (i: number): string => PALETTE[i % PALETTE.length]!;

/** Sizes in canvas pixels, grown with the image so a 128 px thumbnail and a 2000 px photo both read well. */
export interface OverlayStyle {
  font: number;
  line: number;
  pad: number;
}

export function styleFor(width: number, height: number): OverlayStyle {
  const font = Math.min(40, Math.max(10, Math.round(Math.max(width, height) * 0.022)));
  return { font, line: Math.max(2, Math.round(font / 3) / 2), pad: Math.max(2, Math.round(font * 0.3)) };
}

export interface OverlaySvg {
  svg: string;
  /** the canvas: the image's size, plus the legend panel's height for captions */
  width: number;
  height: number;
}

/** The SVG drawn over an image of width × height for `result`. */
export function overlaySvg(result: TaskResult, width: number, height: number): OverlaySvg {
  const st = styleFor(width, height);
  const canvas = new Canvas(width, height, st);
  switch (result.task) {
    case 'caption': {
      const colors = result.words.map((_, i) => colorOf(i));
      const points = result.words.map((w) => w.point);
      const marks = [
        ...result.words.map((w, i) => canvas.box(w.box, colors[i]!, st.line / 2, 0.75)),
        ...points.slice(1).map((p, i) => canvas.segment(points[i]!, p, colors[i + 1]!)),
        ...points.map((p, i) => canvas.point(p, colors[i]!)),
      ];
      return canvas.finish(marks, [], legend(result.words.map((w) => w.word), colors, width, height, st));
    }
    case 'locate':
    case 'segment': // the mask itself is a raster, drawn beneath this by overlay.ts
      return canvas.finish([canvas.box(result.box, colorOf(0))], [canvas.label(result.expression, colorOf(0), result.box)]);
    case 'describe': {
      const marks = [canvas.box(result.box, colorOf(0))];
      if (result.point) marks.push(canvas.point(result.point, colorOf(0)));
      const r = st.line * 2.5; // the marker's radius and its white ring: the label sits above the marker, not on it
      const at: Box = result.point ? [result.point[0] - r, result.point[1] - r, result.point[0] + r, result.point[1] + r] : result.box;
      return canvas.finish(marks, [canvas.label(result.text, colorOf(0), at)]);
    }
    case 'dense': {
      // lowest score first, so the most confident boxes and labels end on top
      const order = result.regions.map((_, i) => i).sort((a, b) => result.regions[a]!.score - result.regions[b]!.score);
      const short = (r: { score: number; text: string }) => `${num(r.score, 'score').toFixed(2)} ${truncate(r.text, 32)}`;
      return canvas.finish(
        order.map((i) => canvas.box(result.regions[i]!.box, colorOf(i))),
        order.map((i) => canvas.label(short(result.regions[i]!), colorOf(i), result.regions[i]!.box)),
      );
    }
    default: {
      const task = (result as { task?: unknown }).task;
      throw new OverlayError(`cannot draw an overlay for task ${JSON.stringify(task)}: the result's task must be one of ${TASK_NAMES.join(', ')}`);
    }
  }
}

/** Draws in image pixels; marks are clipped to the image, labels are placed inside it. */
class Canvas {
  constructor(readonly width: number, readonly height: number, readonly st: OverlayStyle) {}

  box(b: Box, color: string, line = this.st.line, opacity = 1): string {
    const [x0, y0, x1, y1] = sorted(b);
    return `<rect x="${f(x0)}" y="${f(y0)}" width="${f(x1 - x0)}" height="${f(y1 - y0)}" fill="none" stroke="${color}" ` +
      `stroke-width="${line}" stroke-opacity="${opacity}"/>`;
  }

  segment(a: Point, b: Point, color: string): string {
    const [ax, ay] = point(a);
    const [bx, by] = point(b);
    return `<line x1="${f(ax)}" y1="${f(ay)}" x2="${f(bx)}" y2="${f(by)}" stroke="${color}" stroke-width="${this.st.line}" stroke-linecap="round"/>`;
  }

  point(p: Point, color: string): string {
    const [x, y] = point(p);
    return `<circle cx="${f(x)}" cy="${f(y)}" r="${f(this.st.line * 2)}" fill="${color}" stroke="white" stroke-width="${this.st.line / 2}"/>`;
  }

  /** The text on a background of `color`, above the box's top-left corner, or just inside it at the image's top edge. */
  label(text: string, color: string, at: Box): string {
    const { font, pad } = this.st;
    const [x0, y0] = sorted(at);
    const shown = fit(text, this.width - 2 * pad, font);
    const w = textWidth(shown, font) + 2 * pad;
    const h = Math.round(font * 1.3);
    const x = clamp(x0, 0, this.width - w);
    const y = clamp(y0 - h >= 0 ? y0 - h : y0, 0, this.height - h);
    return `<rect x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${h}" fill="${color}" fill-opacity="0.85"/>` +
      `<text x="${f(x + pad)}" y="${f(y + h / 2 + font * 0.36)}" fill="${inkOn(color)}">${escapeXml(shown)}</text>`;
  }

  finish(marks: string[], labels: string[], panel?: { svg: string; height: number }): OverlaySvg {
    const { width: w, height: h, st } = this;
    const total = h + (panel?.height ?? 0);
    const svg = [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${total}" font-family="DejaVu Sans Mono, monospace" font-size="${st.font}">`,
      `<clipPath id="image"><rect width="${w}" height="${h}"/></clipPath>`,
      `<g clip-path="url(#image)">`, ...marks, ...labels, '</g>',
      panel?.svg ?? '',
      '</svg>',
    ].join('\n');
    return { svg, width: w, height: total };
  }
}

/** The caption's words in their trace colours, in order, wrapped to the image width, on a white panel below the image. */
function legend(words: string[], colors: string[], width: number, top: number, st: OverlayStyle): { svg: string; height: number } {
  const { font, pad } = st;
  const lineHeight = Math.round(font * 1.5);
  const swatch = Math.round(font * 0.8);
  const space = textWidth(' ', font);
  const items: string[] = [];
  let [x, row] = [pad, 0];
  const shown = words.length ? words : ['(no words)'];
  shown.forEach((word, i) => {
    const color = words.length ? colors[i]! : '#555555';
    const text = fit(word, width - 2 * pad - swatch - space, font);
    const w = swatch + space + textWidth(text, font);
    if (x > pad && x + w > width - pad) [x, row] = [pad, row + 1];
    const y = top + pad + row * lineHeight;
    items.push(`<rect x="${x}" y="${f(y + (lineHeight - swatch) / 2)}" width="${swatch}" height="${swatch}" fill="${color}"/>` +
      `<text x="${f(x + swatch + space / 2)}" y="${f(y + lineHeight / 2 + font * 0.36)}" fill="${color}" font-weight="bold">${escapeXml(text)}</text>`);
    x += w + 2 * space;
  });
  const height = 2 * pad + (row + 1) * lineHeight;
  return {
    svg: [`<rect x="0" y="${top}" width="${width}" height="${height}" fill="white"/>`,
      `<line x1="0" x2="${width}" y1="${top + 0.5}" y2="${top + 0.5}" stroke="#bbbbbb"/>`, ...items].join('\n'),
    height,
  };
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Advance width in the monospace font (DejaVu Sans Mono: 0.602 em; East Asian wide characters a full em). */
export function textWidth(s: string, font: number): number {
  let em = 0;
  for (const ch of s) em += ch.codePointAt(0)! >= 0x2e80 ? 1 : 0.61;
  return em * font;
}

/** The text, cut with an ellipsis to fit `maxWidth` pixels. */
function fit(text: string, maxWidth: number, font: number): string {
  if (textWidth(text, font) <= maxWidth) return text;
  const chars = [...text];
  while (chars.length > 0 && textWidth(chars.join('') + '…', font) > maxWidth) chars.pop();
  return chars.join('') + '…';
}

function truncate(text: string, n: number): string {
  const chars = [...text];
  return chars.length <= n ? text : chars.slice(0, n - 1).join('') + '…';
}

/** Black or white, whichever reads better on `color` (#rrggbb), by its relative luminance. */
function inkOn(color: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16) / 255);
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b! > 0.5 ? 'black' : 'white';
}

function num(v: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new OverlayError(`cannot draw an overlay: ${what} is ${JSON.stringify(v) ?? String(v)}, not a finite number`);
  return v;
}

function sorted(b: Box): Box {
  if (!Array.isArray(b) || b.length !== 4) throw new OverlayError(`cannot draw an overlay: box ${JSON.stringify(b)} is not [x0, y0, x1, y1]`);
  const [x0, y0, x1, y1] = b.map((v) => num(v, `box coordinate in ${JSON.stringify(b)}`)) as Box;
  return [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)];
}

function point(p: Point): Point {
  if (!Array.isArray(p) || p.length !== 2) throw new OverlayError(`cannot draw an overlay: point ${JSON.stringify(p)} is not [x, y]`);
  return [num(p[0], `point coordinate in ${JSON.stringify(p)}`), num(p[1], `point coordinate in ${JSON.stringify(p)}`)];
}

// an empty range (a label wider or taller than the image) gives lo: the label's start stays visible
function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(v, hi));
}

const f = (v: number): string => String(Math.round(v * 10) / 10);
