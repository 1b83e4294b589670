// Runs the whole test suite once per backend (the TypeScript kernels, then the native addon) and prints one
// closing line. The native pass is skipped with a notice when the addon is not built, except under CI or
// PIXELLLM_REQUIRE_ADDON=1, where a missing addon fails the run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = readdirSync(join(root, 'test')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', f));
const only = process.argv.slice(2);
const addonBuilt = existsSync(join(root, 'build/Release/pixelllm_native.node'));
const requireAddon = process.env.CI === 'true' || process.env.PIXELLLM_REQUIRE_ADDON === '1';

let passed = 0;
let failed = 0;
for (const backend of ['js', 'native']) {
  if (backend === 'native' && !addonBuilt) {
    if (requireAddon) {
      console.error('native backend: build/Release/pixelllm_native.node is missing; run `npm run build:addon` and read its errors');
      failed++;
    } else {
      console.log('native backend: addon not built, pass skipped (run `npm run build:addon`)');
    }
    continue;
  }
  console.log(`\n=== backend ${backend} ===`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...(only.length ? only : files)], {
    cwd: root,
    env: { ...process.env, PIXELLLM_BACKEND: backend },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  process.stdout.write(run.stdout);
  process.stderr.write(run.stderr);
  const count = (what) => Number(run.stdout.match(new RegExp(`^# ${what} (\\d+)$`, 'm'))?.[1] ?? 0);
  passed += count('pass');
  failed += count('fail');
  if (run.status !== 0 && count('fail') === 0) failed++; // the runner itself failed (a file that does not load)
}
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
