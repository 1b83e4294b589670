// `pixelllm data stats PATH`: what a dataset file or folder holds, read by the same readers training uses.
import { UserError } from '../../errors.ts';
import { FORMAT_NAMES, findDatasets } from '../../data/formats.ts';
import { BadRecords } from '../../data/records.ts';
import { DatasetStats, type Distribution, type Summary } from '../../data/stats.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: pixelllm data stats PATH [--json] [--strict] [--depth N]

Counts and distributions (images, examples per task and split, words per text, boxes per image, box sizes,
utterances per narrative, masks) of a dataset file or of every dataset in a folder. Reads Localized Narratives and
Video Localized Narratives (.jsonl), RefCOCO/+/g (refs(*).p beside instances.json, or refs with embedded anns),
Visual Genome region descriptions v1.0/v1.2 (with image_data and densecap splits beside them), COCO captions and
instances.

  --json      print one JSON object instead of text
  --strict    stop at the first malformed record (default: skip malformed records, count them, show the first few)
  --depth N   folder levels to search (default 3)`;

interface DatasetReport {
  path: string;
  format: string;
  with: string[];
  summary: Summary;
  malformed: { skipped: number; examples: string[] };
  dropped: Record<string, number>;
}

export const command: Command = {
  async run(args) {
    const [sub, ...rest] = args;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      console.log(USAGE);
      return sub === undefined ? 2 : 0;
    }
    if (sub !== 'stats') throw new UserError(`unknown sub-command '${sub}' (expected: stats)\n${USAGE}`);
    const { path, json, strict, depth } = parseArgs(rest);
    const { datasets, skipped } = await findDatasets(path, depth);
    if (datasets.length === 0) throw new UserError(`${path}: no supported dataset files found (searched ${depth} levels)`);
    const reports: DatasetReport[] = [];
    for (const d of datasets) {
      const bad = new BadRecords(strict ? 'stop' : 'skip');
      const stats = new DatasetStats();
      for await (const ex of d.read(bad)) stats.add(ex);
      reports.push({
        path: d.path, format: FORMAT_NAMES[d.format], with: d.with, summary: stats.summary(),
        malformed: { skipped: bad.skipped, examples: bad.examples }, dropped: Object.fromEntries(bad.dropped),
      });
    }
    if (json) console.log(JSON.stringify({ datasets: reports, skipped }, null, 2));
    else console.log([...reports.map(formatReport), ...(skipped.length ? [`not read:\n${skipped.map((s) => `  ${s}`).join('\n')}`] : [])].join('\n\n'));
    return 0;
  },
};

function parseArgs(args: string[]): { path: string; json: boolean; strict: boolean; depth: number } {
  let path: string | undefined;
  let json = false;
  let strict = false;
  let depth = 3;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--json') json = true;
    else if (a === '--strict') strict = true;
    else if (a === '--depth') {
      depth = Number(args[++i]);
      if (!Number.isInteger(depth) || depth < 0) throw new UserError(`--depth needs a whole number ≥ 0, got '${args[i]}'`);
    } else if (a.startsWith('-')) throw new UserError(`unknown option '${a}'\n${USAGE}`);
    else if (path === undefined) path = a;
    else throw new UserError(`one PATH only (got '${path}' and '${a}')`);
  }
  if (path === undefined) throw new UserError(`missing PATH\n${USAGE}`);
  return { path, json, strict, depth };
}

/** where values start in the text report (after the longest label, 'utterances per narrative') */
const INDENT = 28;

const pairs = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', ');

function distribution(d: Distribution): string {
  return `min ${d.min}  median ${d.median}  mean ${d.mean}  max ${d.max}\n${' '.repeat(INDENT)}${Object.entries(d.histogram).map(([k, v]) => `${k}: ${v}`).join('  ')}`;
}

function formatReport(r: DatasetReport): string {
  const s = r.summary;
  const rows: [string, string][] = [
    ['examples', `${s.examples} (${pairs(s.tasks)})`],
    ['images', `${s.images}${s.imagesWithSize < s.images ? ` (${s.imagesWithSize} with a size in the files)` : ''}`],
    ['splits', pairs(s.sources)],
  ];
  if (s.textWords) rows.push(['words per text', distribution(s.textWords)]);
  if (s.referencesPerExample) rows.push(['references per example', distribution(s.referencesPerExample)]);
  if (s.utterancesPerNarrative) rows.push(['utterances per narrative', distribution(s.utterancesPerNarrative)]);
  if (s.validUtteranceFraction !== undefined) rows.push(['matchable utterances', `${(s.validUtteranceFraction * 100).toFixed(1)}%`]);
  if (s.boxesPerImage) rows.push(['boxes per image', distribution(s.boxesPerImage)]);
  if (s.boxArea) rows.push(['box area (COCO classes)', pairs(s.boxArea)]);
  if (s.boxRelativeSide) rows.push(['box side / image side', distribution(s.boxRelativeSide)]);
  if (s.boxProblems && s.boxProblems.empty + s.boxProblems.outside > 0) rows.push(['box problems', pairs(s.boxProblems)]);
  if (s.masks) rows.push(['masks', pairs(s.masks)]);
  if (Object.keys(r.dropped).length) rows.push(['left out', pairs(r.dropped)]);
  rows.push(['malformed records', `${r.malformed.skipped}${r.malformed.examples.map((e) => `\n${' '.repeat(INDENT)}${e}`).join('')}`]);
  const head = `${r.path}  [${r.format}]${r.with.length ? `\n  read with ${r.with.join(', ')}` : ''}`;
  return [head, ...rows.map(([k, v]) => `  ${k.padEnd(INDENT - 2)}${v}`)].join('\n');
}
