// METEOR 1.5 pieces: the Snowball stemmer, WordNet synonym lookup, the -norm normaliser, and scores worked by hand
// from MeteorScorer.computeMetrics (alpha 0.85, beta 0.2, gamma 0.6, delta 0.75; weights exact 1, stem 0.6, synonym 0.8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stem } from '../src/eval/meteor/stemmer.ts';
import { morph, wordnet } from '../src/eval/meteor/wordnet.ts';
import { meteorNormalize } from '../src/eval/meteor/normalize.ts';
import { meteor, meteorScore, meteorStats, sumStats } from '../src/eval/meteor/meteor.ts';

const close = (a: number, b: number, label: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${label}: ${a} vs ${b}`);

test('Snowball English stems (from the algorithm\'s published vocabulary)', () => {
  const cases: Record<string, string> = {
    consign: 'consign', consigned: 'consign', consignment: 'consign', consolatory: 'consolatori', conspicuously: 'conspicu',
    constancy: 'constanc', knackeries: 'knackeri', kneeling: 'kneel', knightly: 'knight', knitting: 'knit', knives: 'knive',
    generously: 'generous', skies: 'sky', dying: 'die', caresses: 'caress', communism: 'communism', arsenal: 'arsenal',
    relational: 'relat', happily: 'happili', troubled: 'troubl', playing: 'play', eyes: 'eye', cries: 'cri', ties: 'tie',
  };
  for (const [w, s] of Object.entries(cases)) assert.equal(stem(w), s, w);
});

test('WordNet 3.0: synsets, exception lists and the suffix rules', () => {
  const wn = wordnet();
  const shared = (a: ReadonlySet<number>, b: ReadonlySet<number>): boolean => [...a].some((s) => b.has(s));
  assert.ok(shared(wn.synsets('kid'), wn.synsets('child')), 'kid ~ child');
  assert.ok(!shared(wn.synsets('dog'), wn.synsets('table')), 'dog !~ table');
  // "children" is irregular: found through noun.exc, not the suffix rules
  assert.ok(shared(wn.stemSynsets('children'), wn.synsets('kid')), 'children → child ~ kid');
  assert.equal(morph('boxes', (w) => w === 'box'), 'box');
  assert.equal(morph('glass', () => true), 'glass'); // words ending in "ss" are left alone
  assert.equal(morph('xyzzies', () => false), '');
});

test('the -norm normaliser splits punctuation and clitics, drops dashes between words, keeps abbreviations', () => {
  assert.deepEqual(meteorNormalize("It's a frost-covered hill, Mr. Smith."), ['it', "'s", 'a', 'frost', 'covered', 'hill', ',', 'mr.', 'smith', '.']);
  assert.deepEqual(meteorNormalize('the U.S. team'), ['the', 'us', 'team']);
});

test('METEOR by hand: identical, reordered, stem-only and synonym-only alignments', () => {
  close(meteorScore(meteorStats('dog runs fast', ['dog runs fast'])), 1, 'identical');
  // hyp "fast dog runs" vs ref "dog runs fast": 3 exact content matches, P = R = 1, chunks "dog runs" + "fast" = 2,
  // frag = 2 / 3 → score = 1 · (1 − 0.6 · (2/3)^0.2)
  close(meteorScore(meteorStats('fast dog runs', ['dog runs fast'])), 1 - 0.6 * (2 / 3) ** 0.2, 'reordered');
  // "dogs running" vs "dog runs" without WordNet: two stem matches (weight 0.6), each the only one at its position so
  // both are fixed; one chunk covering both sentences: frag 0, P = R = 0.6 · 0.75 · 2 / (0.75 · 2) = 0.6
  close(meteorScore(meteorStats('dogs running', ['dog runs'], { synonyms: false })), 0.6, 'stem');
  // "kid" vs "child": one synonym match (weight 0.8) → 0.8; without WordNet nothing matches → 0
  close(meteorScore(meteorStats('kid', ['child'])), 0.8, 'synonym');
  close(meteorScore(meteorStats('kid', ['child'], { synonyms: false })), 0, 'no synonyms');
  // function words weigh 1 − delta = 0.25: "the cat" vs "a cat" matches only "cat" (content):
  // P = R = 0.75 / (0.75 + 0.25) = 0.75, one chunk but not every word matched → frag = 1 / 1
  close(meteorScore(meteorStats('the cat', ['a cat'])), 0.75 * (1 - 0.6), 'function words');
});

test('the aligner keeps METEOR 1.5\'s integer search score: ambiguous non-exact matches only survive inside a chunk', () => {
  // With WordNet, "dogs"/"dog" and "running"/"runs" match twice each (stem and synonym), so nothing is fixed and the
  // beam search decides. Its int score gains (int)(0.5) = 0 for non-exact matches, so the empty alignment (0 chunks)
  // beats matching both (1 chunk) and the score is 0, as in the Java original.
  close(meteorScore(meteorStats('dogs running', ['dog runs'])), 0, 'ambiguous, isolated');
  // After a fixed exact match the stem match continues its chunk: skipping would close the chunk too, so the tie
  // goes to the match (tried first, stable sort). "the" is a function word: P = R = (0.25 + 0.6·0.75) / (0.25 + 0.75)
  close(meteorScore(meteorStats('the dogs', ['the dog'])), 0.7, 'inside a chunk');
});

test('the best reference is kept, and the corpus score comes from summed statistics, not the mean', () => {
  const s = meteorStats('dog runs fast', ['a cat sleeps', 'dog runs fast']);
  close(meteorScore(s), 1, 'best reference');
  const r = meteor(['dog runs fast', 'fast dog runs'], [['dog runs fast'], ['dog runs fast']]);
  // summed: 6 matches of 6 words each side, 1 + 2 = 3 chunks → frag = 3 / 6
  close(r.score, 1 - 0.6 * 0.5 ** 0.2, 'corpus');
  close(meteorScore(sumStats([])), 0, 'no statistics');
  close(meteorScore(meteorStats('', ['a dog'])), 0, 'empty hypothesis');
});
