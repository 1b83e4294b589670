// Streamed, atomic output files: every file is written under a temporary name and renamed into place only when it is
// complete, so a reader never sees half a file and an interrupted run leaves the previous files as they were.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';

const temporary = (path: string): string => `${path}.tmp-${process.pid}`;

/** Marks a field of a JsonObjectFile as an array streamed with `push`. */
export const STREAMED = Symbol('streamed');

/** A file written in pieces, put in place by `commit` (or removed by `abort`). */
export class StagedFile {
  private stream: WriteStream;
  readonly temp: string;

  constructor(readonly path: string) {
    this.temp = temporary(path);
    this.stream = createWriteStream(this.temp);
  }

  async write(chunk: string | Buffer): Promise<void> {
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  /** Finishes writing; the file stays under its temporary name until `commit`. */
  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }

  async commit(): Promise<void> {
    if (!this.stream.writableFinished) await this.close();
    await rename(this.temp, this.path);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.temp, { force: true });
  }
}

/**
 * A JSON object whose large arrays are streamed: `push(key, item)` appends to that array as items come, and `commit`
 * writes `{"k1": v1, "array1": [...], ...}` in the field order given. Arrays are staged in files of their own.
 */
export class JsonObjectFile {
  private arrays = new Map<string, { file: StagedFile; count: number }>();

  constructor(readonly path: string, private fields: [string, unknown][]) {
    for (const [key, value] of fields) {
      if (value === STREAMED) this.arrays.set(key, { file: new StagedFile(`${path}.${key}`), count: 0 });
    }
  }

  async push(key: string, item: unknown): Promise<void> {
    const a = this.arrays.get(key)!;
    await a.file.write((a.count++ === 0 ? '' : ',') + JSON.stringify(item));
  }

  async commit(): Promise<void> {
    const out = new StagedFile(this.path);
    await out.write('{');
    for (const [i, [key, value]] of this.fields.entries()) {
      await out.write(`${i === 0 ? '' : ','}${JSON.stringify(key)}:`);
      const a = this.arrays.get(key);
      if (!a) {
        await out.write(JSON.stringify(value));
        continue;
      }
      await a.file.close();
      await out.write('[');
      for await (const chunk of createReadStream(a.file.temp)) await out.write(chunk as Buffer);
      await out.write(']');
      await a.file.abort(); // the staged part is copied: drop it
    }
    await out.write('}');
    await out.commit();
  }

  async abort(): Promise<void> {
    for (const a of this.arrays.values()) await a.file.abort();
  }
}
