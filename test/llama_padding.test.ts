// Left-padded batches on the llama fixture model: prompts of different lengths in one batch give, row by row, what
// each prompt gives alone (the full forward at the real positions, greedy and beam search sequences, a prefix of
// embeddings ahead of padded text), and masks that cannot work are named. Sizes come from the fixture. Rotary
// attention depends only on position differences, so only the prefix case tells mask-derived positions from plain
// indices; the padding record's own test checks them by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, concat, noGrad } from '../src/tensor/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import { LlamaForCausalLM, type LlamaConfig } from '../src/models/llama.ts';
import { beamSearch, greedy } from '../src/models/generate.ts';
import { PaddingMaskError, PaddingRecord } from '../src/models/left_padding.ts';
import { assertClose, fixturesDir, loadFixture, need } from './helpers.ts';

const dir = join(fixturesDir(), 'llama');
const config = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')).config as LlamaConfig;
const fx = loadFixture('llama');
const ids = need(fx, 'input_ids');
const [B0, T0] = ids.shape as [number, number];
const eos = config.eos_token_id as number;
const pad = config.pad_token_id ?? eos;

function loadModel(c: LlamaConfig = config): LlamaForCausalLM {
  const model = new LlamaForCausalLM(c);
  model.loadStateDict(readSafetensors(join(dir, 'model.safetensors')), { source: 'llama/model.safetensors' });
  return model.eval();
}

// prompts of 1, 3 and 5 tokens (at most the fixture's length), taken from the fixture's rows
const prompts = [1, 3, 5].map((n, r) => {
  const row = Array.from(ids.values().subarray((r % B0) * T0, (r % B0) * T0 + T0));
  return row.slice(0, Math.min(n, T0));
});
const T = Math.max(...prompts.map((p) => p.length));

/** The prompts left-padded to T: ids (R, T) and the attention mask (R, T). */
function leftPadded(rows: number[][]): { ids: Tensor; mask: Tensor } {
  const width = Math.max(...rows.map((p) => p.length));
  const gap = (p: number[]): number[] => new Array<number>(width - p.length).fill(0);
  return {
    ids: new Tensor(Int32Array.from(rows.flatMap((p) => [...gap(p).fill(pad), ...p])), [rows.length, width]),
    mask: new Tensor(Int32Array.from(rows.flatMap((p) => [...gap(p), ...p.map(() => 1)])), [rows.length, width]),
  };
}

const alone = (p: number[]): Tensor => new Tensor(Int32Array.from(p), [1, p.length]);

test('forward with a padding mask: each row equals that prompt alone at its real positions', () => {
  // the fixture's grouped key/value heads, and one key/value head per query head (the fused attention path)
  for (const c of [config, { ...config, num_key_value_heads: config.num_attention_heads }]) {
    const model = c === config ? loadModel() : new LlamaForCausalLM(c).eval();
    const batch = leftPadded(prompts);
    noGrad(() => {
      const out = model.forward(batch.ids, { attentionMask: batch.mask });
      prompts.forEach((p, r) => {
        const solo = model.forward(alone(p));
        const real = out.logits.slice(0, r, r + 1).slice(1, T - p.length); // (1, n, V)
        assertClose(real, solo.logits, 1e-5, `kv heads ${c.num_key_value_heads}: row ${r} logits`);
        assertClose(out.lastHiddenState.slice(0, r, r + 1).slice(1, T - p.length), solo.lastHiddenState, 1e-5, `row ${r} hidden`);
      });
      // a mask of ones is the unmasked forward
      const ones = new Tensor(new Int32Array(batch.ids.size).fill(1), batch.ids.shape);
      assertClose(model.forward(batch.ids, { attentionMask: ones }).logits, model.forward(batch.ids).logits, 0, 'all-real mask');
    });
  }
});

/** The row of a batched result with its left padding dropped equals `solo`, and anything after it is padding. */
function assertRowMatches(batched: number[], padCount: number, solo: number[], label: string): void {
  const rest = batched.slice(padCount);
  assert.deepEqual(rest.slice(0, solo.length), solo, label);
  assert.ok(rest.slice(solo.length).every((x) => x === pad), `${label}: after the solo sequence only padding`);
}

test('greedy over left-padded prompts equals each prompt decoded alone', () => {
  const model = loadModel();
  const batch = leftPadded(prompts);
  const maxNewTokens = 8;
  const opts = { maxNewTokens, eosTokenId: eos, padTokenId: pad };
  const session = model.startDecoding({ batch: prompts.length, maxLength: T + maxNewTokens, attentionMask: batch.mask });
  const { sequences, scores } = greedy(session, batch.ids, opts);
  const rows = sequences.tolist() as number[][];
  prompts.forEach((p, r) => {
    const solo = greedy(model.startDecoding({ batch: 1, maxLength: p.length + maxNewTokens }), alone(p), opts);
    assertRowMatches(rows[r]!, T - p.length, (solo.sequences.tolist() as number[][])[0]!, `row ${r}`);
    assert.ok(Math.abs(scores[r]! - solo.scores[0]!) < 1e-5, `row ${r} score ${scores[r]} vs ${solo.scores[0]}`);
  });
});

test('beam search over left-padded prompts equals each prompt searched alone (padding follows select)', () => {
  const model = loadModel();
  const batch = leftPadded(prompts);
  const opts = { maxNewTokens: 6, eosTokenId: eos, padTokenId: pad, numBeams: 3 };
  const got = beamSearch(model.startDecoding({ batch: prompts.length, attentionMask: batch.mask }), batch.ids, opts);
  const seqs = got.sequences.tolist() as number[][][];
  prompts.forEach((p, r) => {
    const solo = beamSearch(model.startDecoding({ batch: 1 }), alone(p), opts);
    (solo.sequences.tolist() as number[][][])[0]!.forEach((beam, k) => {
      assertRowMatches(seqs[r]![k]!, T - p.length, beam, `row ${r} beam ${k}`);
      assert.ok(Math.abs(got.scores[r * opts.numBeams + k]! - solo.scores[k]!) < 1e-5, `row ${r} beam ${k} score`);
    });
  });
});

test('a prefix of embeddings ahead of left-padded text: each row as alone, step by step', () => {
  const model = loadModel();
  const prefix = need(fx, 'prefix_embeds');
  const rows = prompts.map((_, r) => prefix.slice(0, r % B0, (r % B0) + 1)); // (1, P, C) each
  const batch = leftPadded(prompts);
  noGrad(() => {
    const session = model.startDecoding({ batch: prompts.length, prefixEmbeds: concat(rows, 0), attentionMask: batch.mask });
    const solos = prompts.map((_, r) => model.startDecoding({ batch: 1, prefixEmbeds: rows[r]! }));
    const first = session.step(batch.ids);
    prompts.forEach((p, r) => assertClose(first.slice(0, r, r + 1), solos[r]!.step(alone(p)), 1e-5, `row ${r} after the prompt`));
    // two more tokens, the same in every row
    for (const tok of prompts[0]!.slice(0, 1).concat(prompts[2]!.slice(-1))) {
      const next = session.step(new Tensor(new Int32Array(prompts.length).fill(tok), [prompts.length, 1]));
      prompts.forEach((_, r) => assertClose(next.slice(0, r, r + 1), solos[r]!.step(alone([tok])), 1e-5, `row ${r} token ${tok}`));
    }
  });
});

test('padding record: positions count the real tokens before them, padded keys stay hidden through select', () => {
  const record = new PaddingRecord(2);
  // row 0 = [pad, pad, a, b]: cumsum − 1 = [−1, −1, 0, 1], padded set to 1; row 1 = [a, b, c, d]: 0..3
  const first = record.extend(4, [0, 0, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(first.positions), [1, 1, 0, 1, 0, 1, 2, 3]);
  const m = -3.4028234663852886e38; // float32 minimum
  assert.deepEqual(first.keyBias!.toArray(), [m, m, 0, 0, 0, 0, 0, 0]);
  record.select([1, 0, 0]);
  const next = record.extend(1, null);
  assert.deepEqual(Array.from(next.positions), [4, 2, 2]);
  assert.deepEqual(next.keyBias!.shape, [3, 1, 1, 5]);
  assert.deepEqual(next.keyBias!.toArray(), [0, 0, 0, 0, 0, m, m, 0, 0, 0, m, m, 0, 0, 0]);
  assert.equal(new PaddingRecord(1).extend(2, [1, 1]).keyBias, null);
});

test('masks that cannot work are named', () => {
  const model = loadModel();
  const batch = leftPadded(prompts);
  const rightPadded = new Tensor(Int32Array.from(batch.mask.toArray().reverse()), batch.mask.shape);
  assert.throws(() => model.startDecoding({ batch: prompts.length, attentionMask: rightPadded }).step(batch.ids),
    (e: Error) => e instanceof PaddingMaskError && /ends in padding.*pad prompts on the left/.test(e.message));
  assert.throws(() => model.forward(batch.ids, { attentionMask: new Tensor(new Int32Array(batch.ids.size).fill(2), batch.ids.shape) }), /holds 2 at \[0, 0\]/);
  assert.throws(() => model.forward(batch.ids, { attentionMask: batch.mask.slice(1, 1).contiguous() }), /attention mask must be \(3, \d+\)/);
});
