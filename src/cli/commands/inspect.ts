// `pixelllm inspect FILE.safetensors`: what a checkpoint holds, read from its header alone (no tensor data).
import { parseArgs } from 'node:util';
import { readSafetensorsHeader, type Entry } from '../../nn/safetensors.ts';
import { detectFamilies, groupKeys } from '../../nn/families.ts';
import { UserError } from '../../errors.ts';
import type { Command } from '../main.ts';

const HELP = `usage: pixelllm inspect FILE.safetensors [--all] [--json]

Lists the keys of a safetensors checkpoint with their shapes and dtypes (layers collapsed as {i} unless --all),
the parameter count, and which known family (sam, t5, llama, git, eva02, ...) the keys match.`;

const numel = (e: Entry) => e.shape.reduce((a, d) => a * d, 1);

function human(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : `${n}`;
}

export const command: Command = {
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { all: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    if (positionals.length !== 1) throw new UserError(`expected one safetensors file, got ${positionals.length}\n${HELP}`);
    const path = positionals[0];
    const header = readSafetensorsHeader(path);
    const entries = [...header.entries];
    const params = entries.reduce((n, [, e]) => n + numel(e), 0);
    const dtypes = new Map<string, number>();
    for (const [, e] of entries) dtypes.set(e.dtype, (dtypes.get(e.dtype) ?? 0) + numel(e));
    const families = detectFamilies(entries.map(([k]) => k));
    if (values.json) {
      console.log(JSON.stringify({
        file: path, tensors: entries.length, parameters: params, dtypes: Object.fromEntries(dtypes),
        families: families.map((f) => ({ name: f.name, source: f.source })), metadata: header.metadata,
        keys: Object.fromEntries(entries.map(([k, e]) => [k, { dtype: e.dtype, shape: e.shape }])),
      }, null, 1));
      return 0;
    }
    const rows = values.all
      ? entries.map(([k, e]) => ({ pattern: k, count: 1, first: e, indices: [] as number[] }))
      : groupKeys(entries, (a, b) => a.dtype === b.dtype && a.shape.join() === b.shape.join());
    const width = Math.min(90, Math.max(...rows.map((r) => r.pattern.length)));
    for (const r of rows) {
      const range = r.indices.length > 1 ? `  ×${r.count} (${Math.min(...r.indices)}..${Math.max(...r.indices)})` : '';
      console.log(`${r.pattern.padEnd(width)}  ${r.first.dtype.padEnd(4)} [${r.first.shape.join(', ')}]${range}`);
    }
    console.log('');
    console.log(`${path}: ${entries.length} tensors, ${human(params)} parameters (${params}); ${[...dtypes].map(([d, n]) => `${d} ${human(n)}`).join(', ')}`);
    if (Object.keys(header.metadata).length > 0) console.log(`metadata: ${JSON.stringify(header.metadata)}`);
    console.log(families.length > 0
      ? `family: ${families.map((f) => `${f.name} (${f.source})`).join('; ')}`
      : 'family: unknown (no known family\'s key pattern matches)');
    return 0;
  },
};
