// Install step (package.json "install"): builds the C++ addon with node-gyp. The addon is optional — the
// tensor library falls back to TypeScript kernels — so a failed build prints one warning and exits 0,
// unless PIXELLLM_REQUIRE_ADDON=1, which makes it fatal (for CI and benchmarks).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const required = process.env.PIXELLLM_REQUIRE_ADDON === '1';

/** node-gyp: npm puts its bundled copy on PATH for lifecycle scripts; otherwise look next to npm itself. */
function nodeGypCommand() {
  const pathDirs = (process.env.PATH ?? '').split(path.delimiter);
  const exe = process.platform === 'win32' ? 'node-gyp.cmd' : 'node-gyp';
  if (pathDirs.some((d) => d && existsSync(path.join(d, exe)))) return { cmd: exe, args: [] };
  const candidates = [];
  if (process.env.npm_execpath) {
    candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  try {
    const req = createRequire(import.meta.url);
    candidates.push(req.resolve('node-gyp/bin/node-gyp.js'));
  } catch { /* not installed locally */ }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const js = candidates.find((c) => existsSync(c));
  return js ? { cmd: process.execPath, args: [js] } : null;
}

function fail(reason) {
  if (required) {
    console.error(`pixelllm: native addon build failed (PIXELLLM_REQUIRE_ADDON=1): ${reason}`);
    process.exit(1);
  }
  console.warn(`pixelllm: WARNING: native addon not built (${reason}); using the slower TypeScript backend.`);
  process.exit(0);
}

const gyp = nodeGypCommand();
if (!gyp) fail('node-gyp not found');

const args = [...gyp.args, 'rebuild'];
// Build offline against the system's Node headers when npm has not been told where they are (node-gyp
// would otherwise try to download them).
if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');

const res = spawnSync(gyp.cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, shell: process.platform === 'win32' });
if (res.error) fail(`could not run node-gyp: ${res.error.message}`);
if (res.status !== 0) {
  // Only show the compiler's complaint when the build is required; otherwise keep the install quiet.
  if (required) process.stderr.write((res.stdout ?? '') + (res.stderr ?? ''));
  const lastError = `${res.stderr ?? ''}`.split('\n').find((l) => /error/i.test(l)) ?? `node-gyp exited with ${res.status}`;
  fail(lastError.trim());
}
if (!existsSync(path.join(root, 'build', 'Release', 'pixelllm_native.node'))) fail('build/Release/pixelllm_native.node missing after build');
console.log('pixelllm: native addon built (build/Release/pixelllm_native.node)');
