// A contact sheet of generated scenes for people to check the ground truth by eye: each object's mask outlined and its
// referring box drawn in the object's own colour, and the mouse trace coloured by the utterance being spoken (white
// between utterances). preview.png holds the first 16 scenes; preview.html adds the words in the same colours.
import sharp from 'sharp';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SynthImage } from './generate.ts';
import type { RGB } from './vocab.ts';

const TILE = 192;
const GAP = 4;
const COLUMNS = 4;

/** Well separated hues (golden-angle steps), bright enough to see on any background. */
function hue(i: number): RGB {
  const h = ((i * 137.508) % 360) / 60;
  const x = 1 - Math.abs((h % 2) - 1);
  const [r, g, b] = h < 1 ? [1, x, 0] : h < 2 ? [x, 1, 0] : h < 3 ? [0, 1, x] : h < 4 ? [0, x, 1] : h < 5 ? [x, 0, 1] : [1, 0, x];
  return [Math.round(255 * r), Math.round(255 * g), Math.round(255 * b)];
}

const css = ([r, g, b]: RGB): string => `rgb(${r},${g},${b})`;

/** The utterance each trace point falls in (−1 when between utterances). */
function utteranceOf(img: SynthImage, t: number): number {
  return img.narrative.words.findIndex((w) => t >= w.start_time && t <= w.end_time);
}

/** The scene with its masks, referring boxes and trace drawn over it, as packed RGB. */
function annotate(img: SynthImage): Uint8ClampedArray {
  const { width, height, labels, things } = img.layout;
  const out = Uint8ClampedArray.from(img.layout.rgb);
  const blend = (x: number, y: number, c: RGB, a: number): void => {
    if (x < 0 || y < 0 || x >= width || y >= height || a <= 0) return;
    const k = 3 * (y * width + x);
    for (let i = 0; i < 3; i++) out[k + i] = out[k + i]! * (1 - a) + c[i]! * a;
  };
  // mask: its edge pixels (a 4-neighbour outside the mask)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const l = labels[y * width + x]!;
      if (l < 0) continue;
      const edge = x === 0 || y === 0 || x === width - 1 || y === height - 1 || labels[y * width + x - 1] !== l
        || labels[y * width + x + 1] !== l || labels[(y - 1) * width + x] !== l || labels[(y + 1) * width + x] !== l;
      if (edge) blend(x, y, hue(l), 0.9);
    }
  }
  for (const t of things) {
    if (img.refs[t.index]!.length === 0) continue;
    const [x0, y0, x1, y1] = t.box;
    for (let x = x0; x < x1; x++) [y0 - 1, y1].forEach((y) => blend(x, y, hue(t.index), 1));
    for (let y = y0 - 1; y <= y1; y++) [x0 - 1, x1].forEach((x) => blend(x, y, hue(t.index), 1));
  }
  const line = (ax: number, ay: number, bx: number, by: number, c: RGB): void => {
    const [dx, dy] = [bx - ax, by - ay];
    const len2 = dx * dx + dy * dy || 1;
    for (let y = Math.floor(Math.min(ay, by) - 2); y <= Math.ceil(Math.max(ay, by) + 2); y++) {
      for (let x = Math.floor(Math.min(ax, bx) - 2); x <= Math.ceil(Math.max(ax, bx) + 2); x++) {
        const h = Math.min(1, Math.max(0, ((x + 0.5 - ax) * dx + (y + 0.5 - ay) * dy) / len2));
        const d = Math.hypot(x + 0.5 - ax - h * dx, y + 0.5 - ay - h * dy);
        blend(x, y, c, Math.min(1, Math.max(0, 1.25 - d))); // a 1.5-pixel anti-aliased stroke
      }
    }
  };
  for (const segment of img.narrative.traces) {
    for (let i = 1; i < segment.length; i++) {
      const [a, b] = [segment[i - 1]!, segment[i]!];
      const u = utteranceOf(img, b.t);
      line(a.x * width, a.y * height, b.x * width, b.y * height, u < 0 ? [255, 255, 255] : hue(u));
    }
  }
  return out;
}

function png(rgb: Uint8ClampedArray, width: number, height: number): sharp.Sharp {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } });
}

/** Writes preview.png (a 4×4 sheet), preview.html and preview/NN.png beside the dataset; returns their names. */
export async function writePreview(dir: string, images: SynthImage[]): Promise<string[]> {
  const shown = images.slice(0, 16);
  await mkdir(join(dir, 'preview'), { recursive: true });
  const tiles: sharp.OverlayOptions[] = [];
  const sections: string[] = [];
  for (const [i, img] of shown.entries()) {
    const { width, height } = img.layout;
    const rgb = annotate(img);
    const name = `preview/${img.id}.png`;
    await png(rgb, width, height).png().toFile(join(dir, name));
    const tile = await png(rgb, width, height).resize(TILE, TILE, { fit: 'contain', background: '#ffffff' }).png().toBuffer();
    tiles.push({ input: tile, left: GAP + (i % COLUMNS) * (TILE + GAP), top: GAP + Math.floor(i / COLUMNS) * (TILE + GAP) });
    sections.push(section(img, name));
  }
  const rows = Math.ceil(shown.length / COLUMNS);
  const sheet = sharp({ create: { width: GAP + COLUMNS * (TILE + GAP), height: GAP + rows * (TILE + GAP), channels: 3, background: '#ffffff' } });
  await sheet.composite(tiles).png({ palette: true, quality: 90, effort: 10 }).toFile(join(dir, 'preview.png'));
  await writeFile(join(dir, 'preview.html'), page(sections));
  return ['preview.png', 'preview.html'];
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function section(img: SynthImage, picture: string): string {
  const words = img.narrative.words.map((w, i) => `<span style="border-bottom:3px solid ${css(hue(i))}">${escape(w.utterance)}</span>`).join(' ');
  const refs = img.layout.things.map((t) => {
    const texts = img.refs[t.index]!.map((e) => escape(e.text)).join(' · ') || '<i>no unique expression</i>';
    return `<li><b style="color:${css(hue(t.index))}">■</b> ${escape(img.regions[t.index]!)} — ${texts}</li>`;
  }).join('');
  return `<section><img src="${picture}" alt="scene ${img.id}"><div><h2>${img.fileName} (${img.split}, ${img.layout.width}×${img.layout.height}, annotator ${img.narrative.annotatorId})</h2>
<p class="words">${words}</p><ul>${refs}</ul><p>${img.captions.map(escape).join('<br>')}</p></div></section>`;
}

function page(sections: string[]): string {
  return `<!doctype html><meta charset="utf-8"><title>pixelllm synth preview</title>
<style>body{font:14px sans-serif;margin:1em}section{display:flex;gap:1em;margin-bottom:2em}section img{max-width:420px;align-self:flex-start}
.words span{line-height:1.9}h2{font-size:15px;margin:0 0 .5em}</style>
<h1>pixelllm synth: masks (outlines), referring boxes (object colour), traces coloured by utterance (white between)</h1>
${sections.join('\n')}\n`;
}
