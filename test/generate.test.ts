// Greedy and beam search on hand-built models whose best sequences are worked out by hand, and beam search with
// one beam against greedy on the t5 and llama fixture models; the KV cache's growth and row selection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, full, tensor } from '../src/tensor/index.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import { beamSearch, greedy, lengthPenalty, GenerateError, type DecodeSession } from '../src/models/generate.ts';
import { KVCache, KVCacheError } from '../src/models/kv_cache.ts';
import { LlamaForCausalLM, type LlamaConfig } from '../src/models/llama.ts';
import { T5ForConditionalGeneration, t5StateDict, type T5Config } from '../src/models/t5.ts';
import { fixturesDir, loadFixture, need } from './helpers.ts';

const BOS = 0;
const EOS = 1;
const PAD = 9;

/**
 * A bigram model: the next token's probabilities depend only on the last token, from a table of
 * {last: {next: p}} (each row sums to 1; missing entries get 1e-9). Records how many positions each step fed.
 */
function bigramSession(table: Record<number, Record<number, number>>, batch: number, V = 6): DecodeSession & { fed: number[] } {
  let last: number[] = [];
  const fed: number[] = [];
  return {
    fed,
    get batch() {
      return last.length || batch;
    },
    step(ids: Tensor): Tensor {
      const [B, t] = ids.shape as [number, number];
      fed.push(t);
      const v = ids.values();
      last = Array.from({ length: B }, (_, b) => v[b * t + t - 1]!);
      const out = new Float32Array(B * V).fill(Math.log(1e-9));
      last.forEach((tok, b) => Object.entries(table[tok] ?? {}).forEach(([next, p]) => (out[b * V + Number(next)] = Math.log(p))));
      return new Tensor(out, [B, V]);
    },
    select(rows: ArrayLike<number>): void {
      last = Array.from(rows, (r) => last[r]!);
    },
  };
}

const prompt = (rows: number[][]): Tensor => tensor(rows, { dtype: 'int32' });

// From BOS, A (2) is likelier than B (3), but A's continuations are flat while B is almost surely followed by EOS:
// greedy takes A then A's best, P = 0.6 · 0.35 · …; the best complete sequence is B EOS with P = 0.4 · 0.95 = 0.38.
const GARDEN: Record<number, Record<number, number>> = {
  [BOS]: { 2: 0.6, 3: 0.4 },
  2: { 4: 0.35, 5: 0.35, [EOS]: 0.3 },
  3: { [EOS]: 0.95, 4: 0.05 },
  4: { [EOS]: 1 },
  5: { [EOS]: 1 },
};

test('greedy: argmax each step, rows that ended are padded, stops when all have ended', () => {
  const session = bigramSession(GARDEN, 2);
  // row 0 from BOS: A (0.6), then 4 (0.35, the lower id wins the tie with 5), then EOS. Row 1 from B: EOS at once.
  const { sequences, scores } = greedy(session, prompt([[BOS], [3]]), { maxNewTokens: 10, eosTokenId: EOS, padTokenId: PAD });
  assert.deepEqual(sequences.tolist(), [[BOS, 2, 4, EOS], [3, EOS, PAD, PAD]]);
  assert.deepEqual(session.fed, [1, 1, 1], 'the prompt once, then one position per step; no step after all ended');
  // mean log-probability over the tokens before the end: (ln 0.6 + ln 0.35 + ln 1) / 2; row 1: ln 0.95 / max(1, 0)
  assert.ok(Math.abs(scores[0]! - (Math.log(0.6) + Math.log(0.35)) / 2) < 1e-6);
  assert.ok(Math.abs(scores[1]! - Math.log(0.95)) < 1e-6);
  // max length: stops after maxNewTokens without an end token
  const short = greedy(bigramSession(GARDEN, 1), prompt([[BOS]]), { maxNewTokens: 2, eosTokenId: EOS, padTokenId: PAD });
  assert.deepEqual(short.sequences.tolist(), [[BOS, 2, 4]]);
});

test('beam search finds the likelier sequence greedy misses', () => {
  const { sequences, scores } = beamSearch(bigramSession(GARDEN, 2), prompt([[BOS], [3]]), {
    maxNewTokens: 10, eosTokenId: EOS, padTokenId: PAD, numBeams: 2, lengthPenalty: 0,
  });
  // row 0 finished: B EOS (0.38), then A 4 EOS and A 5 EOS (0.21 each; the lower id first), ahead of A EOS (0.18);
  // row 1 (from B) ends first, EOS (0.95) and 4 EOS (0.05), and waits padded while row 0 searches on
  assert.deepEqual(sequences.tolist(), [[[BOS, 3, EOS, PAD], [BOS, 2, 4, EOS]], [[3, EOS, PAD, PAD], [3, 4, EOS, PAD]]]);
  assert.ok(Math.abs(scores[2]! - Math.log(0.95)) < 1e-6);
  assert.ok(Math.abs(scores[0]! - Math.log(0.38)) < 1e-6);
  assert.ok(Math.abs(scores[1]! - Math.log(0.6 * 0.35)) < 1e-6);
});

test('beam search divides by the T5X length penalty ((5 + len) / 6)^α', () => {
  // a short and a long way to the end, of probabilities 0.5 · 0.6 = 0.3 and 0.5 · 1 · 1 · 0.5 = 0.25 (7 never ends)
  const table = { [BOS]: { 2: 0.5, 3: 0.5 }, 2: { [EOS]: 0.6, 4: 0.4 }, 3: { 5: 1 }, 5: { 4: 1 }, 4: { [EOS]: 0.5, 7: 0.5 }, 7: { 7: 1 } };
  const run = (alpha: number) => beamSearch(bigramSession(table, 1, 8), prompt([[BOS]]), { maxNewTokens: 6, eosTokenId: EOS, padTokenId: PAD, numBeams: 3, lengthPenalty: alpha });
  const plain = run(0);
  assert.deepEqual((plain.sequences.tolist() as number[][][])[0]!.slice(0, 2), [[BOS, 2, EOS, PAD, PAD], [BOS, 3, 5, 4, EOS]]);
  assert.ok(Math.abs(plain.scores[0]! - Math.log(0.3)) < 1e-6);
  // α = 2: ln 0.3 / (7/6)² = −0.885 vs ln 0.25 / (9/6)² = −0.616: the long one wins; 2 4 EOS (0.1) scores −1.295
  const favoured = run(2);
  assert.deepEqual(favoured.sequences.tolist(), [[[BOS, 3, 5, 4, EOS], [BOS, 2, EOS, PAD, PAD], [BOS, 2, 4, EOS, PAD]]]);
  assert.ok(Math.abs(favoured.scores[0]! - Math.log(0.25) / lengthPenalty(4, 2)) < 1e-6);
  assert.ok(Math.abs(favoured.scores[2]! - Math.log(0.1) / lengthPenalty(3, 2)) < 1e-6);
  assert.ok(Math.abs(favoured.scores[1]! - Math.log(0.3) / lengthPenalty(2, 2)) < 1e-6);
  assert.equal(lengthPenalty(7, 0.6), 2 ** 0.6);
});

test('repeat suppression: the previous token is never chosen again (GRiT / PixelLLM)', () => {
  const loop = { [BOS]: { 2: 0.9 }, 2: { 2: 0.7, 3: 0.2, [EOS]: 0.1 }, 3: { 3: 0.9, [EOS]: 0.1 } };
  const opts = { maxNewTokens: 5, eosTokenId: EOS, padTokenId: PAD };
  assert.deepEqual(greedy(bigramSession(loop, 1), prompt([[BOS]]), opts).sequences.tolist(), [[BOS, 2, 2, 2, 2, 2]]);
  assert.deepEqual(greedy(bigramSession(loop, 1), prompt([[BOS]]), { ...opts, suppressRepeat: true }).sequences.tolist(), [[BOS, 2, 3, EOS]]);
  const beams = beamSearch(bigramSession(loop, 1), prompt([[BOS]]), { ...opts, numBeams: 2, lengthPenalty: 0, suppressRepeat: true });
  for (const seq of (beams.sequences.tolist() as number[][][])[0]!) {
    const real = seq.filter((x) => x !== PAD);
    assert.ok(real.every((x, i) => i === 0 || x !== real[i - 1]), `no token follows itself: ${seq}`);
  }
});

test('a row whose beams never finish returns its live beams; bad options are refused', () => {
  const endless = { [BOS]: { 2: 0.5, 3: 0.5, [EOS]: 0 }, 2: { 2: 1, [EOS]: 0 }, 3: { 3: 1, [EOS]: 0 } }; // EOS impossible
  const { sequences, scores } = beamSearch(bigramSession(endless, 1), prompt([[BOS]]), { maxNewTokens: 3, eosTokenId: EOS, padTokenId: PAD, numBeams: 2 });
  assert.deepEqual(sequences.tolist(), [[[BOS, 2, 2, 2], [BOS, 3, 3, 3]]]);
  assert.ok(Math.abs(scores[0]! - Math.log(0.5)) < 1e-5, 'live beams keep their summed log-probability');
  const s = bigramSession(endless, 1);
  assert.throws(() => beamSearch(s, prompt([[BOS]]), { maxNewTokens: 3, eosTokenId: EOS, padTokenId: PAD, numBeams: 0 }), GenerateError);
  assert.throws(() => greedy(s, full([1, 1], 0), { maxNewTokens: 3, eosTokenId: EOS, padTokenId: PAD }), /int32/);
  assert.throws(() => greedy(s, prompt([[BOS], [BOS]]), { maxNewTokens: 3, eosTokenId: EOS, padTokenId: PAD }), /2 rows, the decode session 1/);
});

function fixtureConfig<C>(name: string): C {
  return JSON.parse(readFileSync(join(fixturesDir(), name, 'meta.json'), 'utf8')).config as C;
}

test('beam search with one beam and no length penalty equals greedy (llama and t5 fixtures)', () => {
  const lf = loadFixture('llama');
  const llama = new LlamaForCausalLM(fixtureConfig<LlamaConfig>('llama'));
  llama.loadStateDict(readSafetensors(join(fixturesDir(), 'llama', 'model.safetensors')));
  const ids = need(lf, 'input_ids').slice(1, 0, 3).contiguous();
  const opts = { maxNewTokens: 8, eosTokenId: 2, padTokenId: 2 };
  const start = () => llama.startDecoding({ batch: ids.shape[0]! });
  const g = greedy(start(), ids, opts).sequences;
  const b = beamSearch(start(), ids, { ...opts, numBeams: 1, lengthPenalty: 0 }).sequences;
  assert.deepEqual(b.squeeze(1).tolist(), g.tolist());
  assert.deepEqual(g.tolist(), need(lf, 'greedy_ids').tolist());

  const tf = loadFixture('t5');
  const config = fixtureConfig<T5Config>('t5');
  const t5 = new T5ForConditionalGeneration(config);
  t5.loadStateDict(t5StateDict(readSafetensors(join(fixturesDir(), 't5', 'model.safetensors')), t5));
  const go = () => t5.startDecoding({ inputsEmbeds: need(tf, 'inputs_embeds'), attentionMask: need(tf, 'attention_mask') });
  const startIds = full([need(tf, 'inputs_embeds').shape[0]!, 1], config.decoder_start_token_id ?? 0, 'int32');
  const t5opts = { maxNewTokens: 8, eosTokenId: config.eos_token_id!, padTokenId: config.pad_token_id! };
  assert.deepEqual(beamSearch(go(), startIds, { ...t5opts, numBeams: 1, lengthPenalty: 0 }).sequences.squeeze(1).tolist(), greedy(go(), startIds, t5opts).sequences.tolist());
});

test('KV cache: writes in place, grows when full, selects rows', () => {
  const cache = new KVCache(1, 2, 1, 2, 1);
  const kv = (vals: number[], t: number): Tensor => new Tensor(Float32Array.from(vals), [2, 1, t, 2]);
  cache.append(0, kv([1, 1, 2, 2], 1), kv([1, 1, 2, 2], 1)); // row 0: position (1, 1); row 1: (2, 2)
  const [k] = cache.append(0, kv([3, 3, 4, 4, 5, 5, 6, 6], 2), kv([0, 0, 0, 0, 0, 0, 0, 0], 2)); // grows past capacity 1
  assert.deepEqual(k.tolist(), [[[[1, 1], [3, 3], [4, 4]]], [[[2, 2], [5, 5], [6, 6]]]]);
  assert.equal(cache.length, 3);
  cache.select([1, 1, 0]);
  assert.equal(cache.batch, 3);
  const [k2] = cache.append(0, new Tensor(new Float32Array(6).fill(9), [3, 1, 1, 2]), new Tensor(new Float32Array(6), [3, 1, 1, 2]));
  assert.deepEqual(k2.tolist(), [[[[2, 2], [5, 5], [6, 6], [9, 9]]], [[[2, 2], [5, 5], [6, 6], [9, 9]]], [[[1, 1], [3, 3], [4, 4], [9, 9]]]]);
  assert.throws(() => cache.append(0, kv([1, 1, 2, 2], 1), kv([1, 1, 2, 2], 1)), KVCacheError);
  assert.throws(() => cache.select([3]), /row 3 is not in a batch of 3/);
});

test('beam search with several EOS ids keeps K live beams (two EOS could otherwise crowd out a live hypothesis)', () => {
  // from 5: EOS ids 0, 1, 2 rank first, then 3 and 4; both 3 and 4 end with EOS 0 next.
  // α = 2: [3, 0] scores ln .18 / (7/6)² = −1.260, [4, 0] ln .17 / (7/6)² = −1.302, both above [0] at ln .22 / 1 = −1.514;
  // with only 2K candidates at the first step (0, 1, 2, 3), 4 would never be kept
  const table = { 5: { 0: 0.22, 1: 0.22, 2: 0.21, 3: 0.18, 4: 0.17 }, 3: { 0: 1 }, 4: { 0: 1 } };
  const r = beamSearch(bigramSession(table, 1), full([1, 1], 5, 'int32'), { maxNewTokens: 3, eosTokenId: [0, 1, 2], padTokenId: 0, numBeams: 2, lengthPenalty: 2 });
  assert.deepEqual(r.sequences.tolist(), [[[5, 3, 0], [5, 4, 0]]]); // (B, K, L)
  assert.ok(Math.abs(r.scores[1] - Math.log(0.17) / (7 / 6) ** 2) < 1e-6);
});
