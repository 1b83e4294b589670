// The presets' configs and the fused map at a canvas that is not a multiple of EVA02's patch (384 / 14, as the paper).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn } from '../src/tensor/index.ts';
import { PixelLLM } from '../src/models/pixelllm/pixelllm.ts';
import { PRESETS, checkPixelLLMConfig, fusedChannels, fusedGrid, samAt } from '../src/models/pixelllm/config.ts';
import { SMALL_VARIANTS } from './pixelllm_small.ts';

test('every preset passes its config checks; the paper models read a 27×27 grid at 384', () => {
  for (const c of Object.values(PRESETS)) checkPixelLLMConfig(c);
  assert.equal(fusedGrid(PRESETS['pixelllm-t5-xl']!), 27);
  assert.equal(fusedChannels(PRESETS['pixelllm-bert']!), 1024 + 256);
});

test('EVA02 at a canvas that is not a multiple of its patch: the floored grid, SAM resized to it', () => {
  const base = SMALL_VARIANTS.bert!; // EVA patch 14, SAM patch 16
  const S = 128; // 128 / 14 → a 9×9 grid (2 pixels unread); SAM gives 8×8, resized to 9×9
  const config = { ...base, image_size: S, sam: samAt(base.sam, S) };
  const model = new PixelLLM(config);
  const f = model.encode({ clip: randn([2, 3, S, S], 1), sam: randn([2, 3, S, S], 2) });
  assert.deepEqual(f.fused.shape, [2, 9, 9, fusedChannels(config)]);
  assert.deepEqual(f.sam.shape, [2, config.sam.vision_config.output_channels, 8, 8]);
});
