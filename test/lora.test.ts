// LoRA: a wrapped model starts equal to its base, merging changes no output, only adapters train and save,
// peft's key names load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Module, Linear, StateDictError } from '../src/nn/index.ts';
import { applyLora, mergeLora, loraStateDict, loadLora, fromPeftKey, LoraLinear } from '../src/nn/lora.ts';
import { Generator, Tensor } from '../src/tensor/index.ts';
import { assertClose } from './helpers.ts';

class Attn extends Module {
  q = new Linear(6, 6);
  k = new Linear(6, 6, { bias: false });
  v = new Linear(6, 6);
  forward(x: Tensor): Tensor {
    return this.q.forward(x).add(this.k.forward(x)).mul(this.v.forward(x));
  }
}
class Net extends Module {
  layer = [new Attn(), new Attn()];
  forward(x: Tensor): Tensor {
    return this.layer[1].forward(this.layer[0].forward(x));
  }
}
const x = new Generator(1).normal([3, 6]);

test('wrapping: step 0 equals the base, only adapters train', () => {
  const net = new Net();
  const before = net.forward(x);
  const keys = applyLora(net, { targets: ['q', 'v'], r: 2, alpha: 4 });
  assert.deepEqual(keys, ['layer.0.q', 'layer.0.v', 'layer.1.q', 'layer.1.v']);
  assert.ok(net.layer[0].q instanceof LoraLinear && net.layer[0].q.scale === 2);
  assertClose(net.forward(x), before, 0, 'B = 0 at init');
  assert.deepEqual(net.trainableParameters().map(([k]) => k).sort(), [...loraStateDict(net).keys()].sort());
  assert.equal(loraStateDict(net).size, 8);
  // base keys are unchanged, so a base checkpoint still loads
  assert.ok(net.stateDict().has('layer.0.q.weight') && net.stateDict().has('layer.1.v.lora_B.weight'));
  net.forward(x).sum().backward();
  assert.ok(net.layer[0].q instanceof LoraLinear && net.layer[0].q.lora_B.weight.grad !== null);
  assert.equal(net.layer[0].k.weight.grad, null, 'frozen base gets no gradient');
});

test('a wrapped layer keeps the activation its caller fuses into Linear.forward', () => {
  class Mlp extends Module {
    fc1 = new Linear(6, 8);
    forward(t: Tensor): Tensor {
      return this.fc1.forward(t, 'gelu');
    }
  }
  const m = new Mlp();
  const before = m.forward(x);
  applyLora(m, { targets: ['fc1'], r: 2, alpha: 2 });
  assertClose(m.forward(x), before, 1e-6, 'GELU kept after wrapping');
});

test('merging folds W + scale·B·A and changes no output', () => {
  const net = new Net();
  applyLora(net, { targets: [/\.v$/], r: 3, alpha: 3 });
  for (const [, t] of loraStateDict(net)) t.data.set(new Generator(t.size).normal([...t.shape]).values());
  const y = net.forward(x);
  assert.deepEqual(mergeLora(net), ['layer.0.v', 'layer.1.v']);
  assert.ok(!(net.layer[0].v instanceof LoraLinear));
  assertClose(net.forward(x), y, 1e-5, 'merged');
});

test('adapters save and load alone, in our names and in peft\'s', () => {
  const a = new Net();
  applyLora(a, { targets: ['q'], r: 2, alpha: 2 });
  for (const [, t] of loraStateDict(a)) t.data.set(new Generator(7).normal([...t.shape]).values());
  const b = new Net();
  b.loadStateDict(new Map([...a.stateDict()].filter(([k]) => !k.includes('lora_'))));
  applyLora(b, { targets: ['q'], r: 2, alpha: 2 });
  const peft = new Map([...loraStateDict(a)].map(([k, t]) => [`base_model.model.${k.replace(/\.weight$/, '.default.weight')}`, t]));
  loadLora(b, peft);
  assertClose(b.forward(x), a.forward(x), 1e-6, 'peft-named adapter');
  assert.equal(fromPeftKey('base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight'), 'encoder.block.0.layer.0.SelfAttention.q.lora_A.weight');
  const short = new Map(loraStateDict(a));
  short.delete('layer.1.q.lora_B.weight');
  assert.throws(() => loadLora(b, short, 'adapter.safetensors'), /adapter\.safetensors does not fit Net:[\s\S]*missing keys \(1\): layer\.1\.q\.lora_B\.weight/);
  assert.throws(() => applyLora(new Net(), { targets: ['query'], r: 2, alpha: 2 }), StateDictError);
});

test('a second applyLora keeps the first adapters trainable', () => {
  const net = new Net();
  applyLora(net, { targets: ['q'], r: 2, alpha: 2 });
  applyLora(net, { targets: ['v'], r: 2, alpha: 2 });
  assert.deepEqual(net.trainableParameters().map(([k]) => k).sort(), [...loraStateDict(net).keys()].sort());
  assert.equal(loraStateDict(net).size, 8);
});
