// npm run bench:pixelllm: PixelLLM end to end on this CPU. For each model (default pixelllm-tiny, the bundled trained
// one when models/pixelllm-tiny/ holds its weights, and pixelllm-cpu with random weights) and each thread count: the
// latency of every task on one image (examples/scene.jpg by default; caption = greedy with per-word points, locate, segment, describe, dense), the
// throughput of caption and locate at batch --batch, training steps per second (batchLosses + backward + clipping +
// AdamW on a trace batch of T = max_text_tokens and a referring batch with masks), and peak RSS, each phase in a
// fresh process (bench/pixelllm/worker.ts). For pixelllm-tiny the PyTorch peer (bench/pixelllm_peer.py, the same
// architecture with the same parameter count) runs the same training batches and the same caption work (from decoded
// pixels, where the peer starts) in the same run; ratio = ours / torch (≤ 1: not slower). Writes
// bench/results/pixelllm.json and prints README-ready tables.
// Usage: see USAGE in bench/pixelllm/args.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { synthImage, encodeJpeg } from '../src/data/synth/generate.ts';
import { peerEnv } from './common.ts';
import { parseBenchArgs, workerArgs, type BenchOptions } from './pixelllm/args.ts';
import { runWorker } from './pixelllm/worker.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const root = new URL('..', import.meta.url).pathname;
const PEER_MODEL = 'pixelllm-tiny';

function lastJsonLine(what: string, run: ReturnType<typeof spawnSync>): Json | null {
  const out = String(run.stdout ?? '').trim().split('\n').at(-1) ?? '';
  if (run.status !== 0 || !out.startsWith('{')) {
    console.warn(`${what} failed (exit ${run.status}): ${String(run.stderr || run.stdout).trim().split('\n').slice(-4).join(' | ')}`);
    return null;
  }
  return JSON.parse(out) as Json;
}

function ours(o: BenchOptions, model: string, phase: 'infer' | 'train', threads: number, peerBatch: string | null): Json | null {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/pixelllm.ts'), ...workerArgs(o, model, phase, threads, peerBatch)],
    { cwd: root, encoding: 'utf8', env: { ...process.env, PIXELLLM_THREADS: String(threads) }, maxBuffer: 1 << 26 });
  return lastJsonLine(`${model} ${phase} (threads ${threads})`, run);
}

function peer(args: string[], threads: number): Json | null {
  const run = spawnSync('/usr/bin/python3', [join(root, 'bench/pixelllm_peer.py'), ...args],
    { cwd: root, encoding: 'utf8', env: { ...peerEnv(), PIXELLLM_THREADS: String(threads) }, maxBuffer: 1 << 26 });
  return lastJsonLine(`PyTorch peer ${args.filter((a) => a.startsWith('--')).join(' ')} (threads ${threads})`, run);
}

/**
 * The image, expression and region every task asks about: --image, else the bundled example (with the demo's
 * expression), else a synthetic scene with one of its own referring expressions and that object's box.
 */
async function prepareImage(o: BenchOptions, tmp: string): Promise<BenchOptions> {
  const example = join(root, 'examples/scene.jpg');
  if (!o.image && existsSync(example)) o = { ...o, image: example };
  if (o.image) {
    const { width = 1, height = 1 } = await sharp(o.image).metadata();
    return { ...o, box: o.box ?? [width / 4, height / 4, (3 * width) / 4, (3 * height) / 4] };
  }
  const scene = synthImage(0, { seed: 1, width: 320, height: 240 });
  const file = join(tmp, 'scene.jpg');
  writeFileSync(file, await encodeJpeg(scene.layout));
  const i = Math.max(0, scene.refs.findIndex((r) => r.length > 0));
  return { ...o, image: file, expression: scene.refs[i]?.[0]?.text ?? o.expression, box: o.box ?? scene.layout.things[i]!.box };
}

const ratio = (a: number | undefined, b: number | undefined) => (a && b ? Math.round((a / b) * 1000) / 1000 : null);
const fmt = (v: unknown) => (v === null || v === undefined ? '–' : typeof v === 'number' ? String(v) : String(v));

async function main(): Promise<void> {
  let o = parseBenchArgs(process.argv.slice(2));
  if (o.worker) {
    console.log(JSON.stringify(await runWorker(o)));
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'pixelllm-bench-'));
  try {
    o = await prepareImage(o, tmp);
    console.log(`image ${o.image}, expression "${o.expression}", region [${o.box!.join(', ')}]`);
    const rows: Json[] = [];
    const comparisons: Json[] = [];
    for (const model of o.models) {
      for (const threads of o.threads) {
        const withPeer = o.peer && model === PEER_MODEL;
        const batchFile = withPeer ? join(tmp, 'batches.json') : null;
        const infer = ours(o, model, 'infer', threads, null);
        const train = ours(o, model, 'train', threads, batchFile);
        if (!infer && !train) continue;
        const row: Json = {
          model, threads, backend: (infer ?? train)!.backend, weights: (infer ?? train)!.weights, params: (infer ?? train)!.params,
          latency_ms: infer?.latency_ms ?? null, throughput_batch: o.batch, throughput_images_per_s: infer?.throughput_images_per_s ?? null,
          caption_tokens: infer?.caption_tokens ?? null, dense_regions: infer?.dense_regions ?? null,
          train_ms: train?.train_ms ?? null, train_steps_per_s: train?.train_steps_per_s ?? null, train_batch: train?.train_batch ?? null,
          peak_rss_mb: { infer: infer?.peak_rss_mb ?? null, train: train?.peak_rss_mb ?? null },
        };
        rows.push(row);
        console.log(`${model} threads ${threads}: ${JSON.stringify({ latency_ms: row.latency_ms, images_per_s: row.throughput_images_per_s, train_ms: row.train_ms, rss: row.peak_rss_mb })}`);
        if (!withPeer || !infer || !train) continue;
        const configFile = join(tmp, 'config.json');
        writeFileSync(configFile, JSON.stringify(infer.config));
        const batches = JSON.parse(readFileSync(batchFile!, 'utf8')) as Json;
        batches.caption = { prompt: infer.caption_prompt_ids, new_tokens: infer.caption_tokens };
        writeFileSync(batchFile!, JSON.stringify(batches));
        const p = peer(['--config', configFile, '--batch', batchFile!, '--train', '--caption', '--expect-params', String(row.params), '--reps', String(Math.max(o.trainReps, 3))], threads);
        if (!p) continue;
        console.log(`parameters: ours ${row.params}, torch ${p.params}`);
        comparisons.push({
          model, threads, params: row.params, peer_params: p.params,
          train_trace_ms: row.train_ms.trace, peer_train_trace_ms: Math.round(p.train_trace_ms * 100) / 100, train_trace_ratio: ratio(row.train_ms.trace, p.train_trace_ms),
          train_refer_ms: row.train_ms.refer, peer_train_refer_ms: Math.round(p.train_refer_ms * 100) / 100, train_refer_ratio: ratio(row.train_ms.refer, p.train_refer_ms),
          caption_ms: infer.caption_from_pixels_ms, peer_caption_ms: Math.round(p.caption_ms * 100) / 100, caption_ratio: ratio(infer.caption_from_pixels_ms, p.caption_ms),
          caption_tokens: row.caption_tokens, peak_rss_mb: Math.max(row.peak_rss_mb.infer, row.peak_rss_mb.train), peer_peak_rss_mb: p.peak_rss_mb,
        });
      }
    }
    const out = resolve(root, o.out);
    mkdirSync(dirname(out), { recursive: true });
    const result = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, image: o.image, expression: o.expression, box: o.box, rows, comparisons };
    writeFileSync(`${out}.tmp`, `${JSON.stringify(result, null, 1)}\n`);
    renameSync(`${out}.tmp`, out);
    printTables(rows, comparisons, o);
    console.log(`wrote ${o.out}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function printTables(rows: Json[], comparisons: Json[], o: BenchOptions): void {
  console.log(`\n| model (weights) | threads | caption ms | locate ms | segment ms | describe ms | dense ms | caption img/s @${o.batch} | locate img/s @${o.batch} | train steps/s trace / refer | peak RSS MB infer / train |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const l = r.latency_ms ?? {};
    const t = r.throughput_images_per_s ?? {};
    const s = r.train_steps_per_s ?? {};
    console.log(`| ${r.model} (${r.weights}) | ${r.threads} | ${fmt(l.caption)} | ${fmt(l.locate)} | ${fmt(l.segment)} | ${fmt(l.describe)} | ${fmt(l.dense)} | ${fmt(t.caption)} | ${fmt(t.locate)} | ${fmt(s.trace)} / ${fmt(s.refer)} | ${fmt(r.peak_rss_mb.infer)} / ${fmt(r.peak_rss_mb.train)} |`);
  }
  if (comparisons.length === 0) return;
  console.log('\n| pixelllm-tiny vs PyTorch | threads | ours ms | torch ms | ratio |');
  console.log('|---|---|---|---|---|');
  for (const c of comparisons) {
    const b = rows.find((r) => r.model === c.model && r.threads === c.threads)?.train_batch ?? {};
    console.log(`| training step, trace batch ${b.trace?.rows}×${b.trace?.tokens} | ${c.threads} | ${c.train_trace_ms} | ${c.peer_train_trace_ms} | ${fmt(c.train_trace_ratio)} |`);
    console.log(`| training step, refer batch ${b.refer?.rows}×${b.refer?.tokens} + masks | ${c.threads} | ${c.train_refer_ms} | ${c.peer_train_refer_ms} | ${fmt(c.train_refer_ratio)} |`);
    console.log(`| caption from pixels, greedy ${c.caption_tokens} tokens + points | ${c.threads} | ${c.caption_ms} | ${c.peer_caption_ms} | ${fmt(c.caption_ratio)} |`);
  }
}

main().catch((e: Error) => {
  console.error(e.name === 'BenchArgsError' ? e.message : e.stack);
  process.exit(1);
});
