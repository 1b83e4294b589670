// Backend choice at load: PIXELLLM_BACKEND=js or =native, and the fallback to TypeScript with a single warning
// when the addon cannot load. Each case runs in a child process, since the choice is made once per process.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));

const probe = `
import { backendName, tensor, softmax } from './src/tensor/index.ts';
softmax(tensor([[1, 2, 3]])).matmul(tensor([[1], [1], [1]]));
softmax(tensor([[1, 2, 3]]));
console.log('backend=' + backendName);
`;

function run(env: Record<string, string | undefined>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    env: { ...process.env, PIXELLLM_BACKEND: undefined, PIXELLLM_ADDON: undefined, ...env },
    encoding: 'utf8',
    cwd: repo,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('a missing addon falls back to the TypeScript backend with exactly one warning', () => {
  const r = run({ PIXELLLM_ADDON: '/nonexistent/pixelllm_native.node' });
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /backend=js/);
  assert.equal(r.err.match(/native kernels unavailable/g)?.length, 1, `stderr: ${r.err}`);
});

test('PIXELLLM_BACKEND=js selects the TypeScript backend silently', () => {
  const r = run({ PIXELLLM_BACKEND: 'js' });
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /backend=js/);
  assert.doesNotMatch(r.err, /unavailable/);
});

test('PIXELLLM_BACKEND=native without the addon fails with a message that says how to build it', () => {
  const r = run({ PIXELLLM_BACKEND: 'native', PIXELLLM_ADDON: '/nonexistent/pixelllm_native.node' });
  assert.notEqual(r.status, 0);
  assert.match(r.err, /PIXELLLM_BACKEND=native but the addon did not load.*npm run build:addon/);
});

test('an unknown PIXELLLM_BACKEND is an error naming the value', () => {
  const r = run({ PIXELLLM_BACKEND: 'cuda' });
  assert.notEqual(r.status, 0);
  assert.match(r.err, /PIXELLLM_BACKEND=cuda is not a backend/);
});
