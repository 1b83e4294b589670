// Streaming JSON Lines: one record per line, read a chunk at a time so a multi-GB file is never held whole.
// Each record carries its file:line so a reader can name it when it is malformed.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { At, BadRecords, DataError, readFailure } from './records.ts';

export interface JsonlRecord {
  value: unknown;
  /** `path:line` (1-based), for messages about this record */
  at: At;
}

/** A line's text for JSON.parse: the first line loses a UTF-8 byte-order mark (Windows tools write one; readline keeps it). */
export const jsonLine = (text: string, line: number): string => (line === 1 ? text.replace(/^\uFEFF/, '') : text);

/**
 * The records of a .jsonl file in order. Blank lines are skipped; a line that is not JSON is a DataError reported
 * to `bad` (thrown under 'stop', counted under 'skip').
 */
export async function* readJsonl(path: string, bad = new BadRecords()): AsyncGenerator<JsonlRecord> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      const at = new At(`${path}:${line}`);
      let value: unknown;
      try {
        value = JSON.parse(jsonLine(text, line));
      } catch (e) {
        bad.report(new DataError(`${at}: not valid JSON (${(e as Error).message}); each line of a .jsonl file must be one JSON record`));
        continue;
      }
      yield { value, at };
    }
  } catch (e) {
    throw readFailure(path, e);
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** Parses each record of a .jsonl file with `parse`; records whose parse throws a DataError go to `bad`. */
export async function* parseJsonl<T>(path: string, parse: (value: unknown, at: At) => T, bad = new BadRecords()): AsyncGenerator<T> {
  for await (const { value, at } of readJsonl(path, bad)) {
    const parsed = bad.guard(() => parse(value, at));
    if (parsed !== undefined) yield parsed;
  }
}
