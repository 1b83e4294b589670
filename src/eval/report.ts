// Evaluation reports: a printed table, and the same numbers as JSON and Markdown files (written atomically).
import { renameSync, writeFileSync } from 'node:fs';
import type { EvalTask } from './predictions.ts';

export interface EvalReport {
  task: EvalTask;
  predictions: string;
  groundTruth: string;
  /** metric name → value (NaN when undefined, e.g. nothing scored) */
  metrics: Record<string, number>;
  /** groundTruth, predicted, scored, missing, malformed, duplicate, unknown, ... */
  counts: Record<string, number>;
  /** file:line reasons for every unusable prediction line, and the keys without a prediction */
  problems: string[];
  notes: string[];
  breakdown?: Record<string, number>;
}

const fmt = (v: number): string => (Number.isNaN(v) ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(4));

function rows(r: EvalReport): [string, string][] {
  return [...Object.entries(r.metrics).map(([k, v]): [string, string] => [k, fmt(v)]), ...Object.entries(r.counts).map(([k, v]): [string, string] => [`# ${k}`, String(v)])];
}

/** The plain-text table printed to the terminal. */
export function formatTable(r: EvalReport, maxProblems = 10): string {
  const all = rows(r);
  const w = Math.max(...all.map(([k]) => k.length));
  const lines = [`${r.task}: ${r.predictions} vs ${r.groundTruth}`, ...all.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)];
  if (r.problems.length > 0) {
    lines.push(`problems (${r.problems.length}):`, ...r.problems.slice(0, maxProblems).map((p) => `  ${p}`));
    if (r.problems.length > maxProblems) lines.push(`  ... ${r.problems.length - maxProblems} more in the JSON report`);
  }
  lines.push(...r.notes.map((n) => `note: ${n}`));
  return lines.join('\n');
}

export function formatMarkdown(r: EvalReport): string {
  const out = [`# ${r.task} evaluation`, '', `- predictions: \`${r.predictions}\``, `- ground truth: \`${r.groundTruth}\``, '', '| metric | value |', '|---|---|'];
  for (const [k, v] of rows(r)) out.push(`| ${k} | ${v} |`);
  if (r.breakdown !== undefined) {
    out.push('', '| breakdown | AP |', '|---|---|', ...Object.entries(r.breakdown).map(([k, v]) => `| ${k} | ${fmt(v)} |`));
  }
  if (r.problems.length > 0) out.push('', `## Problems (${r.problems.length})`, '', ...r.problems.map((p) => `- ${p}`));
  if (r.notes.length > 0) out.push('', '## Notes', '', ...r.notes.map((n) => `- ${n}`));
  return out.join('\n') + '\n';
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes `<prefix>.json` and `<prefix>.md`; NaN is written as null in the JSON. */
export function writeReport(r: EvalReport, prefix: string): string[] {
  const json = JSON.stringify(r, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
  writeAtomic(`${prefix}.json`, json);
  writeAtomic(`${prefix}.md`, formatMarkdown(r));
  return [`${prefix}.json`, `${prefix}.md`];
}
