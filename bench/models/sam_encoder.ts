// SAM-B image encoder forward (no grad) with random weights: width 768, 12 layers, 12 heads, window 14, global
// attention at 2, 5, 8, 11, neck 256, at 1024 (the checkpoint's size) or 384 (PixelLLM's size, where pos_embed
// and the global tables are resized). Validates one forward, warms up, times the median of --reps runs and prints
// one JSON line {"name", "ms", "peak_rss_mb"}; bench/models/sam_encoder_peer.py does the same in PyTorch eager.
// Usage: tsx bench/models/sam_encoder.ts --size 1024|384 [--reps N]   (threads: env PIXELLLM_THREADS)
import { Generator, noGrad } from '../../src/tensor/index.ts';
import { manualSeed } from '../../src/nn/index.ts';
import { SAM_VIT_B, SamVisionEncoder } from '../../src/models/sam/index.ts';
import { medianMs } from '../common.ts';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const size = arg('--size', 1024);
const reps = arg('--reps', 3);
if (size !== 1024 && size !== 384) throw new Error(`--size must be 1024 or 384, got ${size}`);

manualSeed(0);
const config = SAM_VIT_B.vision_config;
const encoder = new SamVisionEncoder(config).eval();
const pixels = new Generator(1).normal([1, 3, size, size]);
const forward = () => noGrad(() => encoder.forward(pixels));

const out = forward();
const grid = size / config.patch_size;
const shape = [1, config.output_channels, grid, grid];
if (out.shape.join() !== shape.join()) throw new Error(`SAM encoder output [${out.shape}] should be [${shape}]`);
if (!out.toArray().every(Number.isFinite)) throw new Error('SAM encoder output has non-finite values');

const ms = medianMs(forward, reps, 1);
const peak = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
console.log(JSON.stringify({ name: `sam_b_encoder_${size}`, ms: Math.round(ms * 10) / 10, peak_rss_mb: Math.round(peak) }));
