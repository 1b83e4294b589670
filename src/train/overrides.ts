// `--key=value` overrides of a typed config: each key must exist (dots reach nested fields) and each value is
// parsed as the type the field already has, so a typo or a wrong type is an error, not a silently ignored flag.
import { UserError } from '../errors.ts';

export class ConfigError extends UserError {
  override name = 'ConfigError';
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** Every leaf key of a config object, dotted. */
export function configKeys(config: object, prefix = ''): string[] {
  return Object.entries(config).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? configKeys(v, `${prefix}${k}.`) : [`${prefix}${k}`]);
}

function parseAs(current: unknown, raw: string, key: string): unknown {
  const bad = (want: string): never => {
    throw new ConfigError(`--${key}=${raw}: expected ${want}`);
  };
  if (typeof current === 'number') {
    const n = Number(raw);
    return raw.trim() !== '' && Number.isFinite(n) ? n : bad('a number');
  }
  if (typeof current === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : bad('true or false');
  if (typeof current === 'string') return raw;
  if (Array.isArray(current)) {
    const items = raw === '' ? [] : raw.split(',');
    return typeof current[0] === 'number' ? items.map((s) => parseAs(0, s, key)) : items;
  }
  try {
    return JSON.parse(raw); // a null (optional) field takes any JSON value
  } catch {
    return raw;
  }
}

/** A copy of `config` with the overrides applied; `args` are `--a.b=value` (or `a.b=value`). */
export function applyOverrides<T extends object>(config: T, args: string[]): T {
  const out = structuredClone(config);
  const known = configKeys(config);
  for (const arg of args) {
    const m = /^(?:--)?([A-Za-z0-9_.]+)=(.*)$/s.exec(arg);
    if (!m) throw new ConfigError(`override '${arg}' is not of the form --key=value`);
    const [, key, raw] = m;
    if (!known.includes(key)) {
      const near = known.map((k) => [k, editDistance(k, key)] as const).sort((a, b) => a[1] - b[1]).slice(0, 3).map(([k]) => k);
      throw new ConfigError(`unknown config key '${key}'; did you mean ${near.join(', ')}? (all keys: pixelllm train CONFIG --print-config)`);
    }
    const path = key.split('.');
    let node = out as Record<string, unknown>;
    for (const p of path.slice(0, -1)) node = node[p] as Record<string, unknown>;
    node[path.at(-1)!] = parseAs(node[path.at(-1)!], raw, key);
  }
  return out;
}
