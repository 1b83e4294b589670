// The image pipeline: decoding real and synthetic files (formats, colour spaces, alpha, EXIF, bombs, damage), the
// resize/pad/normalise values on a hand-computed case and against the tensor library's jax-convention resize, and
// augmentations that move boxes, points and masks with the pixels.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { Generator, Tensor, resize, slice } from '../src/tensor/index.ts';
import { assertClose } from './helpers.ts';
import {
  decodeImage, readImageSize, prepareImage, resampleRgb, resampleMask, fitLonger, cropGeometry, fitGeometry, mapBox, mapPoint, mapUtterance, boxVisible,
  drawGeometry, swapLeftRight, maxPixelsFromEnv, NORMALIZATIONS, ImageError, ImageTooLargeError, DEFAULT_MAX_PIXELS,
  type Geometry, type Normalization,
} from '../src/data/image/index.ts';
import { UserError } from '../src/errors.ts';
import type { Box } from '../src/data/types.ts';

const repo = resolve(fileURLToPath(import.meta.url), '../..');
const coco = join(repo, '../shared/data/coco-mini');
let dir = '';
before(() => (dir = mkdtempSync(join(tmpdir(), 'pixelllm-image-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes an encoded image made from raw interleaved pixels; returns its path. */
async function write(name: string, raw: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4,
  encode: (s: sharp.Sharp) => sharp.Sharp): Promise<string> {
  const file = join(dir, name);
  await encode(sharp(raw, { raw: { width, height, channels } })).toFile(file);
  return file;
}

const rejectsWith = async (p: Promise<unknown>, cls: new (...a: never[]) => Error, pattern: RegExp): Promise<void> => {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
};

describe('decode', () => {
  test('real COCO JPEGs decode to the size their annotations give', async () => {
    const json = JSON.parse(readFileSync(join(coco, 'annotations/instances_val2017.json'), 'utf8')) as { images: { file_name: string; width: number; height: number }[] };
    assert.ok(json.images.length >= 20);
    for (const im of json.images.slice(0, 8)) {
      const d = await decodeImage(join(coco, 'val2017', im.file_name));
      assert.deepEqual([d.width, d.height], [im.width, im.height], im.file_name);
      assert.equal(d.rgb.length, im.width * im.height * 3);
      // a photograph, not a constant or a channel-swapped gray: the channels differ somewhere
      let spread = 0;
      for (let i = 0; i < d.rgb.length; i += 3) spread = Math.max(spread, Math.abs(d.rgb[i]! - d.rgb[i + 2]!));
      assert.ok(spread > 50, `${im.file_name}: channel spread ${spread}`);
    }
  });

  test('lossless PNG and WebP round-trip exactly', async () => {
    const w = 5;
    const h = 3;
    const raw = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256);
    for (const [name, enc] of [['a.png', (s: sharp.Sharp) => s.png()], ['a.webp', (s: sharp.Sharp) => s.webp({ lossless: true })]] as const) {
      const d = await decodeImage(await write(name, raw, w, h, 3, enc));
      assert.deepEqual([d.width, d.height], [w, h]);
      assert.deepEqual([...d.rgb], [...raw], name);
    }
  });

  test('JPEG at quality 100 is within a few levels of the source', async () => {
    const raw = new Uint8Array(16 * 16 * 3).fill(0);
    for (let i = 0; i < 16 * 16; i++) raw.set([200, 120, 40], i * 3);
    const d = await decodeImage(await write('flat.jpg', raw, 16, 16, 3, (s) => s.jpeg({ quality: 100 })));
    for (let i = 0; i < d.rgb.length; i++) assert.ok(Math.abs(d.rgb[i]! - raw[i]!) <= 2, `byte ${i}: ${d.rgb[i]} vs ${raw[i]}`);
  });

  test('grayscale (8- and 16-bit) becomes R = G = B', async () => {
    const gray = Uint8Array.from([0, 50, 128, 255]);
    const file = await write('gray.png', gray, 2, 2, 1, (s) => s.toColourspace('b-w').png());
    assert.equal((await sharp(file).metadata()).channels, 1, 'the test file is single-channel');
    const d = await decodeImage(file);
    assert.deepEqual([...d.rgb], [0, 0, 0, 50, 50, 50, 128, 128, 128, 255, 255, 255]);
    // 16-bit: 257·v is the 16-bit form of the 8-bit v
    const g16 = join(dir, 'gray16.png');
    await sharp(Uint16Array.from([0, 257 * 100, 65535, 257 * 7]), { raw: { width: 2, height: 2, channels: 1 } }).toColourspace('grey16').png().toFile(g16);
    assert.equal((await sharp(g16).metadata()).depth, 'ushort', 'the test file is 16-bit');
    assert.deepEqual([...(await decodeImage(g16)).rgb], [0, 0, 0, 100, 100, 100, 255, 255, 255, 7, 7, 7]);
  });

  test('CMYK JPEG is converted to RGB', async () => {
    const raw = new Uint8Array(8 * 8 * 3);
    for (let i = 0; i < 64; i++) raw.set([200, 100, 50], i * 3);
    const file = join(dir, 'cmyk.jpg');
    await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).toColourspace('cmyk').jpeg({ quality: 100 }).toFile(file);
    const meta = await sharp(file).metadata();
    assert.equal(meta.space, 'cmyk', 'the test file is CMYK');
    assert.equal(meta.channels, 4);
    const d = await decodeImage(file);
    assert.equal(d.rgb.length, 8 * 8 * 3);
    // through the CMYK profile and back: near the source colour, not exact
    const px = [...d.rgb.subarray(0, 3)];
    px.forEach((v, c) => assert.ok(Math.abs(v - [200, 100, 50][c]!) <= 16, `channel ${c}: ${v}`));
  });

  test('alpha is composited over white by default, over a given background otherwise', async () => {
    // one pixel (200, 0, 0) at alpha 128/255, one fully transparent, one opaque
    const raw = Uint8Array.from([200, 0, 0, 128, 10, 20, 30, 0, 10, 20, 30, 255]);
    const file = await write('alpha.png', raw, 3, 1, 4, (s) => s.png());
    const d = await decodeImage(file);
    // c·a + 255·(1 − a) with a = 128/255: R = 200·0.502 + 255·0.498 = 227.4, G = B = 127.0
    const expected = [227, 127, 127, 255, 255, 255, 10, 20, 30];
    d.rgb.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1, `byte ${i}: ${v} vs ${expected[i]}`));
    const black = await decodeImage(file, { background: [0, 0, 0] });
    // over black: R = 200·128/255 = 100.4
    assert.ok(Math.abs(black.rgb[0]! - 100) <= 1 && black.rgb[3] === 0 && black.rgb[6] === 10, `${[...black.rgb]}`);
  });

  test('EXIF orientation 6 (rotate 90° clockwise) is applied unless disabled', async () => {
    // stored 16×8: left half red, right half blue; displayed 8×16: top half red... rotated clockwise, the stored
    // left edge becomes the top edge
    const w = 16;
    const h = 8;
    const raw = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(x < 8 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
    const file = join(dir, 'rot6.jpg');
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(file);
    assert.equal((await sharp(file).metadata()).orientation, 6);
    const d = await decodeImage(file);
    assert.deepEqual([d.width, d.height], [8, 16]);
    const at = (img: typeof d, x: number, y: number) => [...img.rgb.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];
    assert.ok(at(d, 4, 2)[0]! > 200 && at(d, 4, 2)[2]! < 50, `top is red: ${at(d, 4, 2)}`);
    assert.ok(at(d, 4, 13)[2]! > 200 && at(d, 4, 13)[0]! < 50, `bottom is blue: ${at(d, 4, 13)}`);
    const raw6 = await decodeImage(file, { exifOrientation: false });
    assert.deepEqual([raw6.width, raw6.height], [16, 8]);
    // the header alone gives the same sizes
    assert.deepEqual(await readImageSize(file), { width: 8, height: 16 });
    assert.deepEqual(await readImageSize(file, { exifOrientation: false }), { width: 16, height: 8 });
    await rejectsWith(readImageSize(join(dir, 'nothing.jpg')), ImageError, /cannot read the size of image .*nothing\.jpg/);
  });
});

describe('decode errors name the file and say what to do', () => {
  /**
   * A decompression bomb: a valid PNG whose header claims width × height, with one small IDAT (a real bomb's IDAT is a
   * deflate stream of zeros that inflates to the claimed size) and IEND.
   */
  function bombPng(width: number, height: number): Buffer {
    const chunk = (type: string, data: Buffer): Buffer => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(data.length, 0);
      head.write(type, 4, 'latin1');
      const crc = Buffer.alloc(4);
      crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0);
      return Buffer.concat([head, data, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(4096))), chunk('IEND', Buffer.alloc(0))]);
  }

  test('a decompression bomb header is refused before decoding, with the size, the limit and how to raise it', async () => {
    const file = join(dir, 'bomb.png');
    writeFileSync(file, bombPng(100_000, 100_000));
    await rejectsWith(decodeImage(file), ImageTooLargeError,
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is 100000×100000 = 10000000000 pixels, over the limit of ${DEFAULT_MAX_PIXELS}.*PIXELLLM_MAX_IMAGE_PIXELS`));
    // a real image over a lowered limit
    const real = join(coco, 'val2017/000000397133.jpg');
    await rejectsWith(decodeImage(real, { maxPixels: 640 * 427 - 1 }), ImageTooLargeError, /640×427 = 273280 pixels, over the limit of 273279/);
    assert.equal((await decodeImage(real, { maxPixels: 640 * 427 })).width, 640);
  });

  test('the limit comes from PIXELLLM_MAX_IMAGE_PIXELS, and a bad value is refused', () => {
    assert.equal(maxPixelsFromEnv({}), DEFAULT_MAX_PIXELS);
    assert.equal(maxPixelsFromEnv({ PIXELLLM_MAX_IMAGE_PIXELS: '1000' }), 1000);
    assert.throws(() => maxPixelsFromEnv({ PIXELLLM_MAX_IMAGE_PIXELS: '1e9x' }), (e: Error) => e instanceof UserError && /PIXELLLM_MAX_IMAGE_PIXELS="1e9x" is not a positive integer/.test(e.message));
  });

  test('truncated JPEG and PNG files', async () => {
    const jpeg = readFileSync(join(coco, 'val2017/000000397133.jpg'));
    const tj = join(dir, 'truncated.jpg');
    writeFileSync(tj, jpeg.subarray(0, Math.floor(jpeg.length / 2)));
    await rejectsWith(decodeImage(tj), ImageError, new RegExp(`cannot decode image .*truncated\\.jpg: .*premature end.*damaged or truncated`, 'i'));
    const png = await sharp(Buffer.alloc(64 * 64 * 3, 7), { raw: { width: 64, height: 64, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    const tp = join(dir, 'truncated.png');
    writeFileSync(tp, png.subarray(0, Math.floor(png.length / 2)));
    await rejectsWith(decodeImage(tp), ImageError, /cannot decode image .*truncated\.png: /);
  });

  test('unsupported, empty, garbage and missing files', async () => {
    const gif = join(dir, 'a.gif');
    await sharp(Buffer.alloc(4 * 4 * 3), { raw: { width: 4, height: 4, channels: 3 } }).gif().toFile(gif);
    await rejectsWith(decodeImage(gif), ImageError, /a\.gif: GIF is not supported \(supported: JPEG, PNG, WebP/);
    const empty = join(dir, 'empty.jpg');
    writeFileSync(empty, '');
    await rejectsWith(decodeImage(empty), ImageError, /empty\.jpg: the file is empty/);
    const junk = join(dir, 'junk.jpg');
    writeFileSync(junk, 'not an image at all');
    await rejectsWith(decodeImage(junk), ImageError, /junk\.jpg: not a JPEG, PNG or WebP file/);
    await rejectsWith(decodeImage(join(dir, 'missing.jpg')), ImageError, /cannot read image .*missing\.jpg: no such file/);
  });
});

describe('resize, pad, normalise', () => {
  test('the longer side goes to S, the shorter is rounded', () => {
    assert.deepEqual(fitLonger(640, 427, 384), [384, 256]); // 427 · 0.6 = 256.2 (the reference's floor-then-truncate gives 383 × 256)
    assert.deepEqual(fitLonger(480, 640, 384), [288, 384]);
    assert.deepEqual(fitLonger(612, 612, 384), [384, 384]);
    assert.deepEqual(fitLonger(1000, 1, 384), [384, 1]);
  });

  test('a 4×2 image at S = 2: hand-computed values, padding and mask', async () => {
    // R = [[0, 40, 80, 120], [40, 80, 120, 160]], G = 255 − R, B = 0.
    // Height 2 → 1 (scale ½, antialiased): the sample at 0.5 takes both rows with triangle weights ¾, ¾ → the mean,
    //   R columns [20, 60, 100, 140].
    // Width 4 → 2: triangle of half-width 2 centred at 0.5 and 2.5 (in input pixel centres 0..3):
    //   out0 = (¾·20 + ¾·60 + ¼·100) / 1.75 = 85 / 1.75 = 48.571428…, out1 = (¼·60 + ¾·100 + ¾·140) / 1.75 = 111.428571…
    // G = 255 − R by linearity. The canvas is 2×2: row 0 valid, row 1 padding (zeros after normalisation).
    const R = [0, 40, 80, 120, 40, 80, 120, 160];
    const raw = new Uint8Array(8 * 3);
    R.forEach((r, i) => raw.set([r, 255 - r, 0], i * 3));
    const file = await write('tiny.png', raw, 4, 2, 3, (s) => s.png());
    const p = await prepareImage(file, { size: 2 });
    assert.deepEqual([p.validWidth, p.validHeight], [2, 1]);
    assert.deepEqual(p.scale, [0.5, 0.5]);
    assert.deepEqual([...p.paddingMask.values()], [1, 1, 0, 0]);
    const r = [85 / 1.75, 195 / 1.75];
    const rgb = [r, r.map((v) => 255 - v), [0, 0]];
    for (const n of ['clip', 'sam'] as Normalization[]) {
      const { mean, std } = NORMALIZATIONS[n];
      const expected = rgb.flatMap((ch, c) => [(ch[0]! - mean[c]!) / std[c]!, (ch[1]! - mean[c]!) / std[c]!, 0, 0]);
      assertClose(p.pixels[n]!, new Tensor(Float32Array.from(expected), [3, 2, 2]), 1e-6, n);
    }
    // CLIP's mean in 0–255 units, as the reference multiplies it
    assert.ok(Math.abs(NORMALIZATIONS.clip.mean[0] - 122.7709383) < 1e-6 && Math.abs(NORMALIZATIONS.clip.std[2] - 70.3231630) < 1e-6);
  });

  test('resize, crop and flip equal the tensor library jax resize followed by slicing and mirroring', () => {
    const rng = new Generator(3);
    const W = 97;
    const H = 61;
    const rgb = Uint8Array.from({ length: W * H * 3 }, () => Math.floor(rng.next() * 256));
    // reference: planar float image, jax bilinear antialiased resize to the geometry's resized size
    const planar = new Float32Array(3 * H * W);
    for (let i = 0; i < H * W; i++) for (let c = 0; c < 3; c++) planar[c * H * W + i] = rgb[i * 3 + c]!;
    const cases: Geometry[] = [
      fitGeometry(W, H, 40), // downscale, no crop
      fitGeometry(W, H, 150), // upscale
      cropGeometry(W, H, 40, 70, [0.37, 0.81], false), // scaled past S, cropped
      cropGeometry(W, H, 40, 70, [0.9, 0.2], true), // and flipped
    ];
    for (const g of cases) {
      const full = resize(new Tensor(planar, [3, H, W]), [g.resizedHeight, g.resizedWidth], { method: 'bilinear', convention: 'jax', antialias: true });
      const window = slice(slice(full, 1, g.cropY, g.cropY + g.validHeight), 2, g.cropX, g.cropX + g.validWidth).contiguous().values();
      const S = g.canvas;
      const canvas = new Float32Array(3 * S * S);
      resampleRgb(rgb, g, canvas);
      const got = new Float32Array(3 * g.validHeight * g.validWidth);
      for (let c = 0; c < 3; c++) for (let y = 0; y < g.validHeight; y++) for (let x = 0; x < g.validWidth; x++) {
        const xs = g.flip ? g.validWidth - 1 - x : x;
        got[(c * g.validHeight + y) * g.validWidth + xs] = canvas[c * S * S + y * S + x]!;
      }
      const label = `${JSON.stringify(g)}`;
      assertClose(new Tensor(got, [3, g.validHeight, g.validWidth]), new Tensor(Float32Array.from(window), [3, g.validHeight, g.validWidth]), 1e-5, label);
      // nothing written outside the valid region
      for (let c = 0; c < 3; c++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
        if (y >= g.validHeight || x >= g.validWidth) assert.equal(canvas[c * S * S + y * S + x], 0, `${label}: padding at ${c},${y},${x}`);
      }
    }
  });
});

describe('augmentation moves boxes, points and masks with the pixels', () => {
  // a red rectangle on gray; the box covers exactly the red pixels (pixel i spans [i, i + 1))
  const W = 160;
  const H = 120;
  const box: Box = [37, 22, 101, 71];
  const rgb = new Uint8Array(W * H * 3);
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const inside = x >= box[0] && x < box[2] && y >= box[1] && y < box[3];
    rgb.set(inside ? [230, 20, 20] : [110, 110, 110], (y * W + x) * 3);
    mask[y * W + x] = inside ? 1 : 0;
  }

  test('over many random scale/crop/flip draws, the red pixels, the mask and the mapped box agree', () => {
    const S = 96;
    const rng = new Generator(11);
    let flipped = 0;
    let cropped = 0;
    let hidden = 0;
    for (let trial = 0; trial < 60; trial++) {
      const g = drawGeometry(rng, { scale: [0.75, 2.0], flip: 0.5, swapLeftRight: true }, W, H, S);
      flipped += +g.flip;
      cropped += +(g.resizedWidth > S);
      const canvas = new Float32Array(3 * S * S);
      resampleRgb(rgb, g, canvas);
      const m = new Uint8Array(S * S);
      resampleMask(mask, g, m);
      const b = mapBox(g, box);
      const label = `trial ${trial} ${JSON.stringify(g)} box ${b.map((v) => v.toFixed(2))}`;
      if (!boxVisible(g, box)) hidden++;
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
        const red = canvas[y * S + x]! - canvas[S * S + y * S + x]!; // R − G: 210 inside, 0 outside
        const cx = x + 0.5;
        const cy = y + 0.5;
        // centres more than a pixel inside the box are red and masked; more than a pixel outside are neither
        const inside = cx > b[0] + 1 && cx < b[2] - 1 && cy > b[1] + 1 && cy < b[3] - 1;
        const outside = cx < b[0] - 1 || cx > b[2] + 1 || cy < b[1] - 1 || cy > b[3] + 1;
        if (inside) assert.ok(red > 150 && m[y * S + x] === 1, `${label}: (${x}, ${y}) inside but red ${red} mask ${m[y * S + x]}`);
        if (outside) assert.ok(red < 60 && m[y * S + x] === 0, `${label}: (${x}, ${y}) outside but red ${red} mask ${m[y * S + x]}`);
      }
      // a trace over the rectangle, in fractions of the image, lands on the same box
      const u = mapUtterance(g, { utterance: 'a red box', box: [box[0] / W, box[1] / H, box[2] / W, box[3] / H], center: [(box[0] + box[2]) / 2 / W, (box[1] + box[3]) / 2 / H] });
      u.box.forEach((v, k) => assert.ok(Math.abs(v - b[k]!) < 1e-9, `${label}: utterance box ${u.box}`));
      // the box centre stays the centre
      const c = mapPoint(g, [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]);
      assert.ok(Math.abs(u.center[0] - c[0]) < 1e-9 && Math.abs(u.center[1] - c[1]) < 1e-9, `${label}: utterance centre ${u.center} vs ${c}`);
      if (boxVisible(g, box) && b[0] > 0 && b[2] < g.validWidth && b[1] > 0 && b[3] < g.validHeight) {
        assert.ok(Math.abs(c[0] - (b[0] + b[2]) / 2) < 1e-9 && Math.abs(c[1] - (b[1] + b[3]) / 2) < 1e-9, `${label}: centre ${c}`);
      }
    }
    // the draws exercised every path
    assert.ok(flipped > 10 && flipped < 50, `flipped ${flipped}`);
    assert.ok(cropped > 10, `cropped ${cropped}`);
    assert.ok(hidden < 60);
  });

  test('flip mirrors continuous coordinates inside the valid region', () => {
    const g = cropGeometry(200, 100, 64, 64, [0, 0], true); // 64 × 32, mirrored
    assert.deepEqual(mapBox(g, [0, 0, 50, 100]), [64 - 16, 0, 64, 32]);
    assert.deepEqual(mapPoint(g, [200, 50]), [0, 16]);
  });

  test('left/right words swap with case kept, whole words only', () => {
    assert.equal(swapLeftRight('Left of the man, the rightmost cup on the left-hand side; bright light'),
      'Right of the man, the leftmost cup on the right-hand side; bright light');
    assert.equal(swapLeftRight('LEFT Right lefty'), 'RIGHT Left lefty');
  });
});
