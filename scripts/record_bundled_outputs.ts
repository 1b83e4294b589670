// Records what the bundled pixelllm-tiny says about the example image, for test/pixelllm_bundled.test.ts (run it again
// after retraining the bundled model):  npx tsx scripts/record_bundled_outputs.ts
import { writeFileSync, renameSync } from 'node:fs';
import { PixelLLMPipeline } from '../src/infer/pipeline.ts';
import { BUNDLED_OUTPUT_INPUTS as I } from '../test/pixelllm_bundled_inputs.ts';

const p = PixelLLMPipeline.load('models/pixelllm-tiny');
const [caption] = await p.caption([I.image], { beams: 1 });
const [locate] = await p.locate([I.image], [I.expression]);
const [segment] = await p.segment([I.image], [I.expression]);
const [describe] = await p.describe([I.image], [{ box: I.box }]);
const out = 'test/data/pixelllm_tiny_outputs.json';
writeFileSync(`${out}.tmp`, `${JSON.stringify({ caption, locate, segment, describe }, null, 1)}\n`);
renameSync(`${out}.tmp`, out);
console.log(`wrote ${out}: "${caption!.text}"; ${I.expression} → ${locate!.box.join(', ')}; region → "${describe!.text}"`);
