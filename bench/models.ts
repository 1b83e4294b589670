// npm run bench:models: whole models with random weights against PyTorch eager on this CPU, in the same run.
// Each row is a pair of standalone scripts (ours in bench/models/<name>.ts, the peer in bench/models/<name>_peer.py)
// run in fresh processes, so each one's peak RSS is its own; each prints one JSON line {name, ms, peak_rss_mb}.
// Writes bench/results/models.json: [{name, threads, ms, peer_ms, ratio = ms / peer_ms, peak_rss_mb, peer_peak_rss_mb, rss_ratio}].
// Usage: npm run bench:models [-- --threads 1,2] [--only vit]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerEnv } from './common.ts';

interface Measure {
  name: string;
  ms: number;
  peak_rss_mb: number;
}

const ROWS: { script: string; args: string[] }[] = [
  { script: 'vit_b16', args: ['--batch', '1'] },
  { script: 'vit_b16', args: ['--batch', '8'] },
  { script: 'sam_encoder', args: ['--size', '1024'] },
  { script: 'sam_encoder', args: ['--size', '384'] },
  { script: 'git_decode', args: [] },
];

const root = new URL('..', import.meta.url).pathname;
const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const threadCounts = (flag('--threads') ?? '2').split(',').map(Number);
const only = flag('--only');

function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): Measure | null {
  const run = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const line = run.stdout?.trim().split('\n').at(-1) ?? '';
  if (run.status !== 0 || !line.startsWith('{')) {
    console.warn(`${what} failed (exit ${run.status}): ${(run.stderr || run.stdout).trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
  return JSON.parse(line) as Measure;
}

const results = [];
for (const threads of threadCounts) {
  for (const row of ROWS.filter((r) => !only || r.script.includes(only))) {
    const env = { ...process.env, PIXELLLM_THREADS: String(threads) };
    const ours = measure(process.execPath, ['--import', 'tsx', join('bench/models', `${row.script}.ts`), ...row.args], env, `${row.script} ${row.args.join(' ')}`);
    const peer = measure('/usr/bin/python3', [join('bench/models', `${row.script}_peer.py`), ...row.args], { ...peerEnv(), PIXELLLM_THREADS: String(threads) }, `${row.script}_peer ${row.args.join(' ')}`);
    if (!ours) continue;
    const r = {
      name: ours.name, threads, ms: +ours.ms.toFixed(2), peer_ms: peer ? +peer.ms.toFixed(2) : null,
      ratio: peer ? +(ours.ms / peer.ms).toFixed(3) : null, peak_rss_mb: Math.round(ours.peak_rss_mb),
      peer_peak_rss_mb: peer ? Math.round(peer.peak_rss_mb) : null, rss_ratio: peer ? +(ours.peak_rss_mb / peer.peak_rss_mb).toFixed(2) : null,
    };
    results.push(r);
    console.log(`${r.name.padEnd(24)} threads ${threads}  ours ${r.ms} ms  torch ${r.peer_ms ?? '-'} ms  ratio ${r.ratio ?? '-'}  rss ${r.peak_rss_mb} / ${r.peer_peak_rss_mb ?? '-'} MB`);
  }
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/models.json'), `${JSON.stringify(results, null, 1)}\n`);
console.log('wrote bench/results/models.json (ratio = ours / torch: ≤ 1 means not slower)');
