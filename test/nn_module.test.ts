// Module: keys from property paths, strict loading with every problem named, freezing, modes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Module, Linear, LayerNorm, MLP, StateDictError, Dropout, matchesKey } from '../src/nn/index.ts';
import { Tensor, zeros, tensor } from '../src/tensor/index.ts';

class Block extends Module {
  attn = new Linear(4, 12);
  norm = new LayerNorm(4);
  drop = new Dropout(0.1);
  constructor() {
    super();
    this.registerBuffer('rel_pos', zeros([3]));
    this.registerBuffer('cache', zeros([2]), { persistent: false });
  }
}
class Net extends Module {
  blocks = [new Block(), new Block()];
  head = new MLP([4, 8, 2]);
  nothing: Linear | null = null;
}

test('keys are property paths; buffers saved unless transient', () => {
  const net = new Net();
  const keys = [...net.stateDict().keys()];
  assert.deepEqual([...keys].sort(), ['blocks.0.rel_pos', 'blocks.0.attn.weight', 'blocks.0.attn.bias', 'blocks.0.norm.weight', 'blocks.0.norm.bias',
    'blocks.1.rel_pos', 'blocks.1.attn.weight', 'blocks.1.attn.bias', 'blocks.1.norm.weight', 'blocks.1.norm.bias',
    'head.layers.0.weight', 'head.layers.0.bias', 'head.layers.1.weight', 'head.layers.1.bias'].sort());
  assert.equal(net.namedParameters().length, 12);
  assert.deepEqual(net.namedBuffers().map(([k]) => k), ['blocks.0.rel_pos', 'blocks.0.cache', 'blocks.1.rel_pos', 'blocks.1.cache']);
  assert.equal(net.numParameters(), 2 * (48 + 12 + 8) + 40 + 18);
});

test('loading copies in place and names every problem', () => {
  const a = new Net();
  const b = new Net();
  const w = b.blocks[0].attn.weight;
  b.loadStateDict(a.stateDict());
  assert.equal(b.blocks[0].attn.weight, w, 'the same tensor object keeps its identity');
  assert.deepEqual(w.toArray(), a.blocks[0].attn.weight.toArray());
  const bad = a.stateDict();
  bad.delete('head.layers.1.bias');
  bad.set('extra.weight', zeros([1]));
  bad.set('blocks.0.norm.weight', zeros([5]));
  assert.throws(() => b.loadStateDict(bad, { source: 'x.safetensors' }), (e: Error) => {
    assert.ok(e instanceof StateDictError);
    assert.match(e.message, /x\.safetensors does not fit Net/);
    assert.match(e.message, /blocks\.0\.norm\.weight: expected \[4\], got \[5\]/);
    assert.match(e.message, /missing keys \(1\): head\.layers\.1\.bias/);
    assert.match(e.message, /unexpected keys \(1\): extra\.weight/);
    return true;
  });
  bad.set('blocks.0.norm.weight', zeros([4]));
  const report = b.loadStateDict(bad, { strict: false });
  assert.deepEqual(report, { missing: ['head.layers.1.bias'], unexpected: ['extra.weight'] });
});

test('freeze by pattern; train and eval reach every sub-module', () => {
  const net = new Net();
  const frozen = net.freeze(['blocks.*.attn.*', /^head\.layers\.1\./]);
  assert.equal(frozen.length, 6);
  assert.equal(net.trainableParameters().length, 6);
  net.unfreeze(['blocks.1.*']);
  assert.equal(net.trainableParameters().length, 8);
  net.eval();
  assert.ok(net.namedModules().every(([, m]) => !m.training));
  const x = tensor([[1, 2, 3, 4]]);
  assert.deepEqual(net.blocks[0].drop.forward(x).toArray(), [1, 2, 3, 4]);
  assert.ok(matchesKey('a.b.c', 'a.*') && !matchesKey('xa.b', 'a.*'));
});

test('Linear and MLP compute x·Wᵀ + b', () => {
  const l = new Linear(2, 3);
  l.weight.data.set([1, 2, 3, 4, 5, 6]);
  l.bias!.data.set([0.5, 0, -1]);
  // [1, 1]·Wᵀ = [1+2, 3+4, 5+6] + b
  assert.deepEqual(l.forward(tensor([[1, 1]])).toArray(), [3.5, 7, 10]);
  const y = new MLP([2, 3, 1], 'relu', true).forward(new Tensor(new Float32Array([1, -1]), [1, 2]));
  assert.ok(y.item() > 0 && y.item() < 1);
});

test('a checkpoint refused for a wrong dtype leaves the module untouched', () => {
  const net = new Net();
  const before = net.blocks[0].attn.weight.toArray();
  const state = new Net().stateDict();
  state.set('head.layers.1.bias', new Tensor(new Int32Array(2), [2]));
  assert.throws(() => net.loadStateDict(state), /wrong type \(1\): head\.layers\.1\.bias: int32 into float32/);
  assert.deepEqual(net.blocks[0].attn.weight.toArray(), before, 'no key was copied');
});
