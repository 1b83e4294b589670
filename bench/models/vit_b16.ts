// ViT-B/16 at 224 (our CLIP-style tower: width 768, 12 layers, 12 heads, MLP 3072, exact GELU as torchvision's
// vit_b_16), random weights, forward without a graph. Validates one forward, warms up, times, and prints one JSON line
// {"name": "vit_b16_224_b<B>", "ms": median, "peak_rss_mb": …}; vit_b16_peer.py times torchvision's model the same way.
// Usage: tsx bench/models/vit_b16.ts --batch 1|8 [--reps N]   (threads: PIXELLLM_THREADS, default the addon's)
import { CLIPVisionTransformer, CLIP_VIT_B16 } from '../../src/models/clip_vision.ts';
import { Generator, noGrad, setThreads } from '../../src/tensor/index.ts';
import { manualSeed } from '../../src/nn/index.ts';
import { medianMs } from '../common.ts';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const v = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} needs a positive integer, got ${process.argv[at + 1]}`);
  return v;
}

const batch = arg('batch', 1);
const reps = arg('reps', batch === 1 ? 15 : 5);
if (process.env.PIXELLLM_THREADS) setThreads(Number(process.env.PIXELLLM_THREADS));

manualSeed(0);
const config = { ...CLIP_VIT_B16, hidden_act: 'gelu' as const };
const model = new CLIPVisionTransformer(config).eval();
const pixels = new Generator(1).normal([batch, 3, 224, 224]);
const run = () => noGrad(() => model.forward(pixels));

// validate: the right shape, finite, and the same values on a second run
const first = run();
const tokens = (224 / 16) ** 2 + 1;
if (first.shape.join() !== [batch, tokens, 768].join()) throw new Error(`output shape [${first.shape}] is not [${batch}, ${tokens}, 768]`);
if (!first.toArray().every(Number.isFinite)) throw new Error('output has non-finite values');
const again = run().values();
if (!first.values().every((v, i) => v === again[i])) throw new Error('two forwards of the same input differ');

const ms = medianMs(run, reps, 2);
const peak = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ name: `vit_b16_224_b${batch}`, ms: +ms.toFixed(2), peak_rss_mb: +peak.toFixed(1) }));
