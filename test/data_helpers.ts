// Shared by the dataset reader tests: the real samples' folder, collecting async streams, scratch files, and a check
// that a read fails with a DataError naming the place and the reason.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataError } from '../src/data/records.ts';

/** ../shared/data beside the repository: the real public samples (read-only). */
export const SHARED = resolve(fileURLToPath(import.meta.url), '../../../shared/data');

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

/** Writes `files` (name → text) into a fresh temporary folder and returns its path. */
export function scratch(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pixelllm-data-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Asserts `run` rejects with a DataError whose message contains every one of `parts`. */
export async function rejectsNaming(run: () => Promise<unknown>, ...parts: string[]): Promise<void> {
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} does not mention ${JSON.stringify(p)}`);
    return true;
  });
}
