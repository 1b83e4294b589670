// The synthetic generator's ground truth, checked on 300 generated images in memory: scene content, visible boxes
// against the label map, referring expressions read back from their text and resolved against the scene, and the
// narrative's traces by the reference LN algorithm (16 samples per utterance).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { synthImage, type SynthImage } from '../src/data/synth/generate.ts';
import { footprint, fullAreas } from '../src/data/synth/raster.ts';
import { resolve, type Frame } from '../src/data/synth/spatial.ts';
import { BACKGROUND } from '../src/data/synth/narrative.ts';
import { BACKGROUND_KINDS, COLOUR_NAMES, PLURAL, SHAPES, SIZES, TEXTURES } from '../src/data/synth/vocab.ts';
import { utteranceTargets } from '../src/data/trace_targets.ts';
import { parseExpression, utteranceTrace, type TracePoint } from './synth_helpers.ts';

const N = 300;
const images: SynthImage[] = Array.from({ length: N }, (_, i) => synthImage(i, { seed: 11 }));

const lookalikeOf = (img: SynthImage, index: number): boolean => {
  const t = img.layout.things[index]!;
  return img.layout.things.some((o) => o !== t && o.shape === t.shape && o.colour === t.colour && o.size === t.size && o.texture === t.texture);
};

describe('synthetic scenes', () => {
  test('cover the vocabulary: 1–8 objects, every shape, colour, size, texture and background kind, sizes 128–512, aspect 1:2–2:1', () => {
    const seen = { shape: new Set<string>(), colour: new Set<string>(), size: new Set<string>(), texture: new Set<string>(), bg: new Set<string>() };
    const counts = new Set<number>();
    for (const { layout } of images) {
      counts.add(layout.things.length);
      assert.ok(layout.things.length >= 1 && layout.things.length <= 8, `${layout.things.length} objects`);
      assert.ok(layout.width >= 128 && layout.width <= 512 && layout.height >= 128 && layout.height <= 512, `${layout.width}×${layout.height}`);
      const aspect = layout.width / layout.height;
      assert.ok(aspect >= 0.5 - 1e-2 && aspect <= 2 + 1e-2, `aspect ${aspect}`);
      seen.bg.add(layout.background.kind);
      for (const t of layout.things) {
        seen.shape.add(t.shape);
        seen.colour.add(t.colour);
        seen.size.add(t.size);
        seen.texture.add(t.texture);
      }
    }
    assert.equal(seen.shape.size, SHAPES.length);
    assert.equal(seen.colour.size, COLOUR_NAMES.length);
    assert.equal(seen.size.size, SIZES.length);
    assert.equal(seen.texture.size, TEXTURES.length);
    assert.equal(seen.bg.size, BACKGROUND_KINDS.length);
    assert.ok(counts.has(1) && counts.has(8), `object counts seen: ${[...counts].sort()}`);
    assert.ok(SHAPES.length >= 10 && COLOUR_NAMES.length >= 10 && TEXTURES.length - 1 >= 2);
  });

  test('objects occlude each other, and distractors share a shape or colour with another object', () => {
    let occluded = 0;
    let multi = 0;
    let sharing = 0;
    for (const { layout } of images) {
      const full = fullAreas(layout.things.map((t) => footprint(t, layout.width, layout.height)));
      for (const t of layout.things) {
        if (t.area < full[t.index]!) occluded++;
        assert.ok(t.area >= 0.6 * full[t.index]!, `an object shows ${t.area} of its ${full[t.index]} pixels`);
      }
      if (layout.things.length < 2) continue;
      multi++;
      if (layout.things.some((t) => layout.things.some((o) => o !== t && (o.shape === t.shape || o.colour === t.colour)))) sharing++;
    }
    assert.ok(occluded >= 50, `only ${occluded} partly hidden objects`);
    assert.ok(sharing / multi >= 0.6, `only ${sharing} of ${multi} multi-object scenes have objects sharing a shape or colour`);
  });

  test('each object\'s box and area are exactly the extent and size of its pixels in the label map', () => {
    for (const { layout } of images.slice(0, 60)) {
      const { width, height, labels } = layout;
      for (const t of layout.things) {
        let [x0, y0, x1, y1, area] = [Infinity, Infinity, -1, -1, 0];
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            if (labels[y * width + x] !== t.index) continue;
            [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
            area++;
          }
        }
        assert.deepEqual(t.box, [x0, y0, x1, y1]);
        assert.equal(t.area, area);
        assert.equal(labels[Math.floor(t.anchor[1]) * width + Math.floor(t.anchor[0])], t.index, 'the anchor lies on the object');
      }
    }
  });
});

describe('synthetic referring expressions', () => {
  test('every expression, read back from its words, picks out exactly its object in the scene', () => {
    let checked = 0;
    for (const img of images) {
      const frame: Frame = img.layout;
      img.refs.forEach((expressions, index) => {
        for (const e of expressions) {
          const parsed = parseExpression(e.text);
          assert.deepEqual(parsed.attrs, e.attrs, `"${e.text}" reads as ${JSON.stringify(parsed.attrs)}`);
          const picked = resolve(frame, parsed);
          assert.equal(picked?.index, index, `image ${img.id}: "${e.text}" picks ${picked?.index ?? 'nothing clearly'}, not object ${index}`);
          checked++;
        }
      });
    }
    assert.ok(checked > 1000, `${checked} expressions`);
  });

  test('expressions of an object are distinct, and no two objects of an image share an expression', () => {
    for (const img of images) {
      const texts = img.refs.flat().map((e) => e.text);
      assert.equal(new Set(texts).size, texts.length, `image ${img.id}: ${texts.join(' | ')}`);
    }
  });

  test('at least 30% of expressions need a spatial relation or an ordinal, and those have one', () => {
    let total = 0;
    let needing = 0;
    let described = 0;
    images.forEach((img) => img.refs.forEach((expressions, index) => {
      const needs = lookalikeOf(img, index); // an exact look-alike: no attribute tells them apart
      if (expressions.length > 0) described++;
      for (const e of expressions) {
        total++;
        assert.equal(e.needsSpatial, needs);
        if (!needs) continue;
        needing++;
        assert.ok(parseExpression(e.text).spatialWords, `"${e.text}" names a look-alike without position or ordinal`);
      }
    }));
    const objects = images.reduce((n, img) => n + img.layout.things.length, 0);
    assert.ok(needing / total >= 0.3, `${needing} of ${total} expressions need position (${((100 * needing) / total).toFixed(1)}%)`);
    assert.ok(described / objects >= 0.98, `only ${described} of ${objects} objects have an expression`);
  });
});

describe('synthetic narratives', () => {
  test('2–8 sentences; every object is named; every naming word\'s 16-sample trace lies on its object; background words on background', () => {
    let named = 0;
    let background = 0;
    for (const img of images) {
      const { layout, narrative } = img;
      const { width, height, labels } = layout;
      assert.ok(narrative.sentences.length >= 2 && narrative.sentences.length <= 8, `${narrative.sentences.length} sentences`);
      const mentioned = new Set(narrative.words.map((w) => w.names));
      for (const t of layout.things) assert.ok(mentioned.has(t.index), `image ${img.id}: object ${t.index} is never named`);
      const label = ([x, y]: [number, number]): number => labels[Math.floor(y * height) * width + Math.floor(x * width)]!;
      const reference = utteranceTargets(narrative.traces.flat(), narrative.words);
      for (const [k, w] of narrative.words.entries()) {
        if (w.names === undefined) continue;
        const { samples, box, centre } = utteranceTrace(narrative.traces as TracePoint[][], w.start_time, w.end_time);
        // the samples this test reads are the ones the project's LN targets summarise
        reference[k]!.box.forEach((v, i) => assert.ok(Math.abs(v - box[i]!) < 1e-9, `box ${reference[k]!.box} vs ${box}`));
        if (w.names === BACKGROUND) {
          background++;
          const on = samples.filter((s) => label(s) === BACKGROUND).length;
          assert.ok(on >= 12, `image ${img.id}: background word '${w.utterance}' has ${on} of 16 samples on background`);
          continue;
        }
        named++;
        const t = layout.things[w.names]!;
        const [bx0, by0, bx1, by1] = [box[0]! * width, box[1]! * height, box[2]! * width, box[3]! * height];
        const overlaps = bx0 < t.box[2] && bx1 > t.box[0] && by0 < t.box[3] && by1 > t.box[1];
        assert.ok(overlaps, `image ${img.id}: '${w.utterance}' trace box misses object ${t.index}`);
        assert.equal(label(centre), t.index, `image ${img.id}: '${w.utterance}' trace centre is not on object ${t.index}`);
      }
    }
    assert.ok(named > 3000 && background > 500, `${named} naming words, ${background} background words`);
  });

  test('every shape noun in a caption is a naming word, tagged with an object of that shape', () => {
    const nouns = new Map<string, string>([...SHAPES.map((s): [string, string] => [s, s]), ...SHAPES.map((s): [string, string] => [PLURAL[s], s])]);
    for (const img of images) {
      for (const w of img.narrative.words) {
        const shape = nouns.get(w.utterance.toLowerCase());
        if (!shape) continue;
        assert.ok(w.names !== undefined && w.names >= 0, `image ${img.id}: '${w.utterance}' names nothing`);
        assert.equal(img.layout.things[w.names]!.shape, shape);
      }
    }
  });

  test('timing is like the real Localized Narratives files: word lengths, back-to-back words, long pauses, ~30 Hz traces', () => {
    const real = readFileSync(new URL('../../shared/data/localized-narratives/derived_image_ln_style.jsonl', import.meta.url), 'utf8')
      .trim().split('\n').map((l) => JSON.parse(l) as { timed_caption: { start_time: number; end_time: number }[] });
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    const realWord = median(real.flatMap((r) => r.timed_caption.map((u) => u.end_time - u.start_time)));
    const words = images.flatMap((img) => img.narrative.words);
    const ours = median(words.map((w) => w.end_time - w.start_time));
    assert.ok(Math.abs(ours - realWord) / realWord < 0.35, `median word ${ours.toFixed(3)} s vs real ${realWord.toFixed(3)} s`);
    let backToBack = 0;
    let gaps = 0;
    let long = 0;
    const steps: number[] = [];
    for (const img of images) {
      const w = img.narrative.words;
      for (let i = 1; i < w.length; i++) {
        const gap = w[i]!.start_time - w[i - 1]!.end_time;
        assert.ok(gap >= -1e-9, 'utterances do not overlap');
        gaps++;
        if (gap < 1e-9) backToBack++;
        if (gap > 2) long++;
      }
      const points = img.narrative.traces.flat();
      for (let i = 1; i < points.length; i++) {
        assert.ok(points[i]!.t > points[i - 1]!.t, 'trace times increase');
        steps.push(points[i]!.t - points[i - 1]!.t);
      }
      assert.ok(points[0]!.t <= w[0]!.start_time && points[points.length - 1]!.t >= w[w.length - 1]!.end_time, 'the trace spans the speech');
    }
    assert.ok(backToBack / gaps > 0.4, `${backToBack} of ${gaps} words follow the previous one without a gap`);
    assert.ok(long / images.length > 0.5, `${long} pauses over 2 s in ${images.length} narratives`);
    const dt = median(steps);
    assert.ok(dt > 0.028 && dt < 0.04, `median trace step ${dt} s (~30 Hz expected)`);
  });
});

describe('synthetic generator determinism', () => {
  test('the same seed and index give the same image and annotations; another seed does not', () => {
    const again = synthImage(7, { seed: 11 });
    const strip = (img: SynthImage): unknown => ({ ...img, layout: { ...img.layout, rgb: Buffer.from(img.layout.rgb).toString('base64'), labels: [...img.layout.labels] } });
    assert.deepEqual(strip(again), strip(images[7]!));
    assert.notDeepEqual(strip(synthImage(7, { seed: 12 })), strip(images[7]!));
  });
});
