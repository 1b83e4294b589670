// The browser entry (src/browser.ts) bundled for the browser with esbuild has no Node import, and runs in a bare
// JavaScript context (no process, require or Buffer): T5 loaded from safetensors bytes reproduces the fixture's logits
// and greedy ids, and backward runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { assertClose, fixturesDir, loadFixture, need } from './helpers.ts';
import { Tensor } from '../src/tensor/index.ts';

test('the browser bundle has no Node import and runs T5 from ArrayBuffer bytes in a bare context', async () => {
  const out = await build({ entryPoints: ['src/browser.ts'], bundle: true, platform: 'browser', format: 'iife', globalName: 'pixelllm', write: false, logLevel: 'silent' });
  const code = out.outputFiles[0].text;
  assert.deepEqual(code.match(/["']node:[a-z_/]+["']/g) ?? [], [], 'no node: module in the bundle');
  const dir = join(fixturesDir(), 't5');
  const fx = loadFixture('t5');
  const input = (key: string) => ({ data: Array.from(need(fx, key).values()), shape: [...need(fx, key).shape] });
  // what a page has: the web globals the code uses (no process, require or Buffer), the checkpoint's bytes, the config
  const context = {
    TextDecoder, TextEncoder, console, performance,
    bytes: new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
    config: JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).config,
    inputs: { embeds: input('inputs_embeds'), mask: input('attention_mask'), dec: input('decoder_input_ids') },
    greedyLength: need(fx, 'greedy_ids').shape[1],
    result: null as unknown,
  };
  runInNewContext(`${code}
    const p = pixelllm;
    const model = new p.T5ForConditionalGeneration(config);
    model.loadStateDict(p.t5StateDict(p.readSafetensorsBuffer(bytes), model));
    model.eval();
    const t = (x, dtype) => p.tensor(x.data, { dtype }).reshape(...x.shape);
    const out = model.forward(t(inputs.embeds, 'float32'), t(inputs.mask, 'int32'), t(inputs.dec, 'int32'));
    out.logits.sum().backward();
    const greedyIds = p.greedy(model.startDecoding({ inputsEmbeds: t(inputs.embeds, 'float32'), attentionMask: t(inputs.mask, 'int32') }),
      p.full([inputs.embeds.shape[0], 1], 0, 'int32'), { maxNewTokens: greedyLength - 1, eosTokenId: config.eos_token_id, padTokenId: config.pad_token_id }).sequences;
    result = { backend: p.backendName, logits: Array.from(out.logits.values()), shape: out.logits.shape,
      gradSize: model.shared.weight.grad.size, greedy: Array.from(greedyIds.values()) };
  `, context);
  const r = context.result as { backend: string; logits: number[]; shape: number[]; gradSize: number; greedy: number[] };
  assert.equal(r.backend, 'js', 'the TypeScript kernels run in the bundle');
  assertClose(new Tensor(Float32Array.from(r.logits), Array.from(r.shape)), need(fx, 'logits'), 1e-4, 'logits in the bundle');
  assert.ok(r.gradSize > 0);
  assert.deepEqual(Array.from(r.greedy), Array.from(need(fx, 'greedy_ids').values())); // copied out of the context's realm
});
