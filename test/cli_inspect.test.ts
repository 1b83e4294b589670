// `pixelllm inspect` on the fixtures' checkpoints: families recognised, layers collapsed, parameter count right,
// a clear error and exit code 2 for a missing file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fixturesDir } from './helpers.ts';
import { readSafetensors } from '../src/nn/safetensors.ts';
import { detectFamilies } from '../src/nn/families.ts';

const cli = (...args: string[]) => spawnSync(process.execPath, ['bin/pixelllm.mjs', ...args], { encoding: 'utf8' });

test('inspect names the family and counts parameters', () => {
  const file = join(fixturesDir(), 't5', 'model.safetensors');
  const r = cli('inspect', file);
  assert.equal(r.status, 0, r.stderr);
  const params = [...readSafetensors(file).values()].reduce((n, t) => n + t.size, 0);
  assert.match(r.stdout, new RegExp(`${params}\\)`));
  assert.match(r.stdout, /family: t5 \(transformers T5ForConditionalGeneration\)/);
  assert.match(r.stdout, /encoder\.block\.\{i\}\.layer\.0\.SelfAttention\.q\.weight +F32 +\[\d+, \d+\] +×\d+/);
  const json = JSON.parse(cli('inspect', '--json', file).stdout);
  assert.equal(json.parameters, params);
});

test('every fixture checkpoint is recognised as its family', () => {
  const expected: Record<string, string> = { t5: 't5', t5_lora: 'peft-lora', sam: 'sam', git: 'git', eva02: 'eva02', llama: 'llama' };
  for (const [dir, family] of Object.entries(expected)) {
    const keys = [...readSafetensors(join(fixturesDir(), dir, 'model.safetensors')).keys()];
    assert.equal(detectFamilies(keys)[0]?.name, family, dir);
  }
});

test('a missing file is a one-line error with exit code 2', () => {
  const r = cli('inspect', 'no/such.safetensors');
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim(), 'pixelllm inspect: no/such.safetensors: cannot open (ENOENT)');
  assert.equal(cli('inspect').status, 2);
  assert.equal(cli('frobnicate').status, 2);
  // an unknown flag is a user mistake (one message, exit 2), not a crash
  const flag = cli('inspect', '--bogus', 'x.safetensors');
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /^pixelllm inspect: Unknown option '--bogus'/);
});
