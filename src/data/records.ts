// What every dataset reader shares: where a value sits (file:line or file, plus the key path inside the record),
// checks that name that place and the value when a record is malformed, and the skip-or-stop policy for bad records.
import { UserError } from '../errors.ts';

/** A malformed dataset record; the message starts with the file (and line) and the key path. */
export class DataError extends UserError {
  override name = 'DataError';
}

/** A place in a dataset: `file` is `path:line` for line-based files, the path alone for json; `path` the keys inside. */
export class At {
  constructor(readonly file: string, readonly path = '') {}

  key(k: string): At {
    return new At(this.file, this.path ? `${this.path}.${k}` : k);
  }

  index(i: number): At {
    return new At(this.file, `${this.path}[${i}]`);
  }

  fail(reason: string): never {
    throw new DataError(`${this}: ${reason}`);
  }

  toString(): string {
    return this.path ? `${this.file}: ${this.path}` : this.file;
  }
}

/** What to do with a malformed record: stop at the first one (the default), or skip it and count it. */
export type OnBadRecord = 'stop' | 'skip';

/** Counts the records a read skipped, and why; under 'stop' the first malformed record ends the read. */
export class BadRecords {
  skipped = 0;
  /** the first few skipped records' messages, for the user to look at */
  readonly examples: string[] = [];
  /** records the reference itself leaves out (not malformed), by reason */
  readonly dropped = new Map<string, number>();

  constructor(readonly policy: OnBadRecord = 'stop', readonly keep = 5) {}

  report(e: DataError): void {
    if (this.policy === 'stop') throw e;
    this.skipped++;
    if (this.examples.length < this.keep) this.examples.push(e.message);
  }

  drop(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  /** Runs parse on one record: its DataError is reported (thrown under 'stop', counted under 'skip'). */
  guard<T>(parse: () => T): T | undefined {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      this.report(e);
      return undefined;
    }
  }
}

/** A failed open or read of a dataset file as a DataError (missing file, a folder, no permission); other errors pass. */
export function readFailure(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  const why: Record<string, string> = { ENOENT: 'no such file', EISDIR: 'is a folder, not a file', EACCES: 'permission denied' };
  return code && why[code] ? new DataError(`${path}: cannot read: ${why[code]}`) : e;
}

const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

export function object(at: At, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) at.fail(`expected an object, got ${show(v)}`);
  return v as Record<string, unknown>;
}

export function array(at: At, v: unknown): unknown[] {
  if (!Array.isArray(v)) at.fail(v === undefined ? 'missing (expected a list)' : `expected a list, got ${show(v)}`);
  return v;
}

export function num(at: At, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) at.fail(v === undefined ? 'missing (expected a number)' : `expected a finite number, got ${show(v)}`);
  return v;
}

export function int(at: At, v: unknown): number {
  if (!Number.isInteger(v)) at.fail(v === undefined ? 'missing (expected an integer)' : `expected an integer, got ${show(v)}`);
  return v as number;
}

export function str(at: At, v: unknown): string {
  if (typeof v !== 'string') at.fail(v === undefined ? 'missing (expected a string)' : `expected a string, got ${show(v)}`);
  return v;
}

/** An id that files write as a number or a string (image ids, annotator ids), as a string. */
export function id(at: At, v: unknown): string {
  if (typeof v === 'string' && v !== '') return v;
  if (Number.isInteger(v)) return String(v);
  return at.fail(v === undefined ? 'missing (expected an id)' : `expected an id (integer or string), got ${show(v)}`);
}

/** `n` finite numbers, e.g. a COCO bbox. */
export function numbers(at: At, v: unknown, n: number): number[] {
  const a = array(at, v);
  if (a.length !== n) at.fail(`expected ${n} numbers, got ${show(v)}`);
  return a.map((x, i) => num(at.index(i), x));
}
