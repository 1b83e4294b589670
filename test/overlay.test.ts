// Result overlays: each task drawn on a generated image, read back with sharp and checked pixel by pixel (box edges in
// their colour, the trace's points and segments, the mask fill inside and not outside, the legend's words in order),
// labels kept on the canvas at every size, text escaped, atomic writes, and the errors a user can cause.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { drawOverlay, drawOverlayFromBytes, OverlayError } from '../src/apps/overlay.ts';
import { PALETTE, colorOf, escapeXml, overlaySvg, styleFor } from '../src/apps/overlay_svg.ts';
import { ImageError } from '../src/data/image/index.ts';
import { compress, encodeBitmap } from '../src/data/mask.ts';
import { UserError } from '../src/errors.ts';
import type { Box, CaptionResult, SegmentResult, TaskResult } from '../src/infer/results.ts';

const GRAY = 128;
let dir = '';
let image = ''; // 160 × 120, uniform gray
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pixelllm-overlay-'));
  image = await grayImage('gray.png', 160, 120);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function grayImage(name: string, width: number, height: number): Promise<string> {
  const file = join(dir, name);
  await sharp({ create: { width, height, channels: 3, background: { r: GRAY, g: GRAY, b: GRAY } } }).png().toFile(file);
  return file;
}

interface Pixels {
  width: number;
  height: number;
  at(x: number, y: number): [number, number, number];
}

async function render(result: TaskResult, source = image, name = `${result.task}.png`): Promise<Pixels> {
  const out = join(dir, name);
  await drawOverlay(source, result, out);
  const { data, info } = await sharp(out).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    at: (x, y) => [data[(y * info.width + x) * 3]!, data[(y * info.width + x) * 3 + 1]!, data[(y * info.width + x) * 3 + 2]!],
  };
}

const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
const blend = (hex: string, alpha: number): [number, number, number] => rgb(hex).map((c) => alpha * c + (1 - alpha) * GRAY) as [number, number, number];

function assertColor(px: Pixels, x: number, y: number, expected: [number, number, number], what: string, tol = 2): void {
  const got = px.at(x, y);
  assert.ok(got.every((c, i) => Math.abs(c - expected[i]!) <= tol), `${what}: pixel (${x}, ${y}) is rgb(${got}), expected rgb(${expected.map(Math.round)}) ±${tol}`);
}

const untouched = (px: Pixels, x: number, y: number, what: string) => assertColor(px, x, y, [GRAY, GRAY, GRAY], what, 0);

// The 160 × 120 test image gets font max(10, round(160 · 0.022)) = 10 px and lines max(2, round(10 / 3) / 2) = 2 px,
// label padding max(2, round(10 · 0.3)) = 3 px and label height round(10 · 1.3) = 13 px. A 2 px stroke on the edge
// x = 40 covers [39, 41]: pixels 39 and 40.
describe('overlay: boxes and labels', () => {
  test('locate: the box edge in the first palette colour, the inside untouched, the label above the box', async () => {
    const px = await render({ task: 'locate', expression: 'the red circle', box: [40, 30, 120, 90], score: 0.9 });
    assert.deepEqual([px.width, px.height], [160, 120]);
    for (const [x, y] of [[39, 60], [40, 60], [119, 60], [80, 29], [80, 30], [80, 89]] as const) assertColor(px, x, y, rgb(PALETTE[0]), 'box edge');
    untouched(px, 80, 60, 'box inside');
    for (const x of [38, 41]) untouched(px, x, 60, `beside the 2 px edge at x = ${x}`);
    untouched(px, 10, 110, 'far outside');
    // the label background (85 % opaque) spans y = 30 − 13 … 30 from x = 40; its first column is left of the text
    assertColor(px, 40, 18, blend(PALETTE[0], 0.85), 'label background');
    untouched(px, 40, 10, 'above the label');
  });

  test('a label with no room above its box goes inside it; one near the right edge moves left to stay on the canvas', async () => {
    const px = await render({ task: 'locate', expression: 'the whole top right corner of the picture', box: [120, 0, 160, 40] });
    // cut with an ellipsis to 25 characters (25 · 6.1 = 152.5 ≤ 160 − 2 · 3), the label is 158.5 px wide: it moves to
    // x = 160 − 158.5 = 1.5 and, with no room above the box, sits at y = 0 inside it
    for (const x of [2, 80, 158]) assertColor(px, x, 1, blend(PALETTE[0], 0.85), `label background at x = ${x}`);
  });

  test('dense: every region box in its own colour; labels drawn over the boxes', async () => {
    const regions: { box: Box; score: number; text: string }[] = [
      { box: [10, 40, 60, 100], score: 0.9, text: 'a red circle' },
      { box: [70, 40, 110, 100], score: 0.4, text: 'a blue square' },
      { box: [120, 40, 150, 100], score: 0.7, text: 'a green triangle' },
    ];
    const px = await render({ task: 'dense', regions });
    regions.forEach((r, i) => {
      assertColor(px, r.box[0], 70, rgb(colorOf(i)), `region ${i} left edge`);
      assertColor(px, r.box[2] - 1, 70, rgb(colorOf(i)), `region ${i} right edge`);
      untouched(px, (r.box[0] + r.box[2]) / 2, 80, `region ${i} inside`);
    });
  });

  test('describe with a point: the point marker and the box in the first colour', async () => {
    const px = await render({ task: 'describe', box: [20, 50, 100, 110], point: [60, 80], text: 'a small blue square', score: -1.2 });
    assertColor(px, 60, 80, rgb(PALETTE[0]), 'point marker centre');
    assertColor(px, 20, 100, rgb(PALETTE[0]), 'box edge');
    untouched(px, 40, 100, 'box inside, away from the marker');
  });

  test('line width and font grow with the image: 1000 px gets 3.5 px lines', async () => {
    // font round(1000 · 0.022) = 22, line round(22 / 3) / 2 = 3.5: the edge at x = 400 covers [398.25, 401.75], so
    // pixels 399 and 400 fully, 398 and 401 by three quarters; 397 and 402 not at all
    assert.deepEqual(styleFor(128, 128), { font: 10, line: 2, pad: 3 });
    assert.deepEqual(styleFor(1000, 800), { font: 22, line: 3.5, pad: 7 });
    assert.deepEqual(styleFor(2000, 1500), { font: 40, line: 6.5, pad: 12 });
    const px = await render({ task: 'locate', expression: 'x', box: [400, 300, 700, 600] }, await grayImage('big.png', 1000, 800), 'big-out.png');
    for (const x of [399, 400]) assertColor(px, x, 450, rgb(PALETTE[0]), `thick edge at x = ${x}`);
    for (const x of [398, 401]) assertColor(px, x, 450, blend(PALETTE[0], 0.75), `edge pixel ${x} three quarters covered`, 4);
    for (const x of [397, 402]) untouched(px, x, 450, `beside the thick edge at x = ${x}`);
  });

  test('labels stay inside the canvas for every box position and image size', () => {
    const text = 'a long referring expression that is wider than a thumbnail';
    for (const [w, h] of [[128, 96], [160, 120], [2000, 1400]] as const) {
      for (const box of [[0, 0, 10, 10], [w - 5, h - 5, w, h], [-50, -50, w + 50, h + 50], [w / 2, h - 2, w / 2 + 1, h - 1]] as Box[]) {
        const { svg } = overlaySvg({ task: 'locate', expression: text, box }, w, h);
        const label = [...svg.matchAll(/<rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#/g)].at(-1)!;
        const [x, y, lw, lh] = label.slice(1).map(Number) as [number, number, number, number];
        assert.ok(x >= 0 && y >= 0 && x + lw <= w + 0.05 && y + lh <= h + 0.05, `${w}×${h}, box ${box}: label at ${x},${y} size ${lw}×${lh} leaves the canvas`);
      }
    }
  });
});

describe('overlay: pixel-aligned caption', () => {
  const word = (w: string, x: number, y: number) => ({ word: w, tokens: [w], box: [x - 8, y - 8, x + 8, y + 8] as Box, point: [x, y] as [number, number] });
  const caption = (words: ReturnType<typeof word>[]): CaptionResult => ({ task: 'caption', text: words.map((w) => w.word).join(' '), score: -3.1, words });

  test('each word\'s point in its colour, segments coloured by the word they lead to, a legend panel below', async () => {
    const words = [word('a', 30, 30), word('red', 110, 30), word('circle', 110, 90)];
    const px = await render(caption(words));
    // legend: 2 · pad + one line of round(1.5 · font) = 6 + 15 px
    assert.deepEqual([px.width, px.height], [160, 120 + 21]);
    words.forEach((w, i) => assertColor(px, w.point[0], w.point[1], rgb(colorOf(i)), `point of "${w.word}"`));
    assertColor(px, 70, 30, rgb(colorOf(1)), 'segment a → red');
    assertColor(px, 110, 60, rgb(colorOf(2)), 'segment red → circle');
    untouched(px, 60, 100, 'away from the trace');
    // the legend row through the swatches' centre (y = 120 + pad + 15 / 2): white, then the words' colours left to right
    const y = 120 + 3 + 7;
    assertColor(px, 1, y, [255, 255, 255], 'legend background', 0);
    const firstX = words.map((_, i) => {
      for (let x = 0; x < px.width; x++) if (px.at(x, y).every((c, k) => Math.abs(c - rgb(colorOf(i))[k]!) <= 2)) return x;
      return -1;
    });
    assert.ok(firstX.every((x) => x >= 0), `legend swatches found at ${firstX}`);
    assert.ok(firstX[0]! < firstX[1]! && firstX[1]! < firstX[2]!, `legend words out of order: swatches at x = ${firstX}`);
  });

  test('a long caption wraps its legend onto more lines, never wider than the image', async () => {
    const words = Array.from({ length: 30 }, (_, i) => word(`word${i}`, 10 + (i % 14) * 10, 20 + Math.floor(i / 14) * 30));
    const px = await render(caption(words), image, 'long.png');
    assert.equal(px.width, 160);
    // an item is a swatch, a space and the word: 8 + 6.1 + 5 · 6.1 = 44.6 px ("word7") or 50.7 px ("word17"), then a
    // 12.2 px gap; from x = 3 a third item would end past 160 − 3 = 157, so two a line: 15 lines of 15 px
    assert.equal(px.height, 120 + 6 + 15 * 15);
    assertColor(px, words[29]!.point[0], words[29]!.point[1], rgb(colorOf(29)), 'last word point (palette cycles)');
  });

  test('a caption without words still gets its one-line legend panel', async () => {
    const px = await render(caption([]), image, 'empty.png');
    assert.deepEqual([px.width, px.height], [160, 120 + 21]);
    untouched(px, 80, 60, 'nothing drawn on the image');
  });

  test('points outside the image are clipped to it and do not draw into the legend', async () => {
    const px = await render(caption([word('up', 80, 60), word('off', 80, 400)]), image, 'clip.png');
    assertColor(px, 80, 130, [255, 255, 255], 'legend below the segment that leaves the image', 0);
  });
});

describe('overlay: segmentation mask', () => {
  // a 60 × 40 rectangle of mask at x 50..109, y 40..79, and one touching the image's left edge at x 0..19, y 90..109
  const mask = new Uint8Array(160 * 120);
  for (let y = 40; y < 80; y++) for (let x = 50; x < 110; x++) mask[y * 160 + x] = 1;
  for (let y = 90; y < 110; y++) for (let x = 0; x < 20; x++) mask[y * 160 + x] = 1;
  const result: SegmentResult = {
    task: 'segment', expression: 'the box', box: [50, 40, 110, 80],
    mask: compress(encodeBitmap({ width: 160, height: 120, data: mask })), area: 60 * 40 + 20 * 20,
  };

  test('the mask is a translucent fill inside, an opaque rim on its edge, nothing outside', async () => {
    const px = await render(result);
    // fill alpha 115 / 255 over gray
    assertColor(px, 80, 60, blend(PALETTE[0], 115 / 255), 'mask inside');
    assertColor(px, 10, 100, blend(PALETTE[0], 115 / 255), 'mask at the image edge: no rim along the edge');
    assertColor(px, 19, 100, rgb(PALETTE[0]), 'rim (erosion radius round(2 / 2) = 1 px) on the right side of the edge mask');
    assertColor(px, 70, 79, rgb(PALETTE[0]), 'box edge over the mask');
    untouched(px, 80, 95, 'below the mask');
    untouched(px, 140, 60, 'right of the mask');
    untouched(px, 30, 60, 'left of the mask');
  });

  test('a mask of another size than the image is refused, naming both sizes', async () => {
    const wrong = { ...result, mask: compress(encodeBitmap({ width: 100, height: 50, data: new Uint8Array(5000) })) };
    await assert.rejects(drawOverlay(image, wrong, join(dir, 'wrong.png')), (e: Error) =>
      e instanceof OverlayError && /50×100.*120×160/.test(e.message));
  });
});

describe('overlay: text, files and errors', () => {
  const nasty = `<b>"fish" & 'chips'</b> ]]> <!-- x`;

  test('text with markup characters is escaped and renders', async () => {
    assert.equal(escapeXml(`<a & "b" 'c'>`), '&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
    const results: TaskResult[] = [
      { task: 'locate', expression: nasty, box: [40, 30, 120, 90] },
      { task: 'describe', box: [40, 30, 120, 90], text: nasty, score: 0 },
      { task: 'dense', regions: [{ box: [40, 30, 120, 90], score: 0.5, text: nasty }] },
      { task: 'caption', text: nasty, score: 0, words: nasty.split(' ').map((w, i) => ({ word: w, tokens: [w], box: [i * 10, 0, i * 10 + 9, 9], point: [i * 10 + 5, 5] })) },
    ];
    for (const r of results) {
      assert.ok(!overlaySvg(r, 160, 120).svg.includes('<b>'), `${r.task}: raw markup in the SVG`);
      const px = await render(r, image, `nasty-${r.task}.png`);
      assert.equal(px.width, 160, `${r.task} rendered`);
    }
  });

  test('the write is atomic: only the output file is left, and an existing file is replaced', async () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    const out = join(sub, 'out.png');
    writeFileSync(out, 'old');
    await drawOverlay(image, { task: 'locate', expression: 'x', box: [1, 1, 50, 50] }, out);
    assert.deepEqual(readdirSync(sub), ['out.png']);
    assert.equal((await sharp(out).metadata()).format, 'png');
  });

  test('the format follows the extension; an unknown one is refused before any work', async () => {
    const out = join(dir, 'out.jpg');
    await drawOverlay(image, { task: 'locate', expression: 'x', box: [1, 1, 50, 50] }, out);
    assert.equal((await sharp(out).metadata()).format, 'jpeg');
    await assert.rejects(drawOverlay(image, { task: 'locate', expression: 'x', box: [1, 1, 50, 50] }, join(dir, 'out.gif')),
      (e: Error) => e instanceof OverlayError && /out\.gif.*\.png/.test(e.message));
  });

  test('a folder that does not exist: an error naming the output, no temporary file left', async () => {
    const out = join(dir, 'missing', 'out.png');
    await assert.rejects(drawOverlay(image, { task: 'locate', expression: 'x', box: [1, 1, 50, 50] }, out),
      (e: Error) => e instanceof UserError && e.message.includes(out) && /folder does not exist/.test(e.message));
  });

  test('an unreadable or damaged image is an ImageError naming the file', async () => {
    const missing = join(dir, 'no-such.png');
    await assert.rejects(drawOverlay(missing, { task: 'locate', expression: 'x', box: [1, 1, 5, 5] }, join(dir, 'a.png')),
      (e: Error) => e instanceof ImageError && e.message.includes(missing));
    const damaged = join(dir, 'damaged.png');
    writeFileSync(damaged, Buffer.concat([Buffer.from([0x89]), Buffer.from('PNG\r\n\x1a\n'), Buffer.alloc(20)]));
    await assert.rejects(drawOverlay(damaged, { task: 'locate', expression: 'x', box: [1, 1, 5, 5] }, join(dir, 'b.png')),
      (e: Error) => e instanceof ImageError && e.message.includes(damaged));
  });

  test('an unknown task or a coordinate that is not a number is an OverlayError saying what is wrong', async () => {
    const bogus = { task: 'classify', label: 'cat' } as unknown as TaskResult;
    await assert.rejects(drawOverlay(image, bogus, join(dir, 'c.png')),
      (e: Error) => e instanceof OverlayError && /"classify"/.test(e.message) && /caption, locate, segment, describe, dense/.test(e.message));
    await assert.rejects(drawOverlay(image, { task: 'locate', expression: 'x', box: [1, Number.NaN, 5, 5] }, join(dir, 'd.png')),
      (e: Error) => e instanceof OverlayError && /not a finite number/.test(e.message));
  });

  test('the stored pixel grid is drawn on: an EXIF-rotated JPEG keeps its stored width and height', async () => {
    // stored 80 × 40 with orientation 6 (a viewer shows it 40 × 80); annotations, like the model's input, use 80 × 40
    const bytes = await sharp({ create: { width: 80, height: 40, channels: 3, background: { r: GRAY, g: GRAY, b: GRAY } } })
      .jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    assert.equal((await sharp(bytes).metadata()).orientation, 6);
    const out = join(dir, 'exif.png');
    await drawOverlayFromBytes(bytes, { task: 'locate', expression: 'x', box: [60, 10, 79, 30] }, out, 'exif.jpg');
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.width, meta.height], [80, 40]);
  });
});
