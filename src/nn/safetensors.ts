// safetensors files in Node: the header is read on its own and each tensor is read straight into its own buffer, so a
// multi-GB checkpoint is never held twice or as one buffer; writes go to a temporary file that is fsynced and renamed
// over the target, so a crash never leaves a half-written file in place of a good one.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Tensor } from '../tensor/index.ts';
import {
  SafetensorsError, decodeTensor, encodeHeader, encodeTensor, headerLength, parseHeader, storedType, type FloatStorageType, type Header,
} from './safetensors_format.ts';

export { SafetensorsError, readSafetensorsBuffer, type FloatStorageType, type Header, type Entry } from './safetensors_format.ts';

function readAt(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

function withFile<T>(path: string, use: (fd: number, size: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return use(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

function headerOf(fd: number, size: number, path: string): Header {
  const n = headerLength(readAt(fd, 8, 0), path, size);
  return parseHeader(readAt(fd, n, 8), path, size);
}

/** Keys, dtypes, shapes and metadata without reading any tensor data. */
export function readSafetensorsHeader(path: string): Header {
  return withFile(path, (fd, size) => headerOf(fd, size, path));
}

/** The tensors of a file (those whose key passes `filter`): floats as float32 (F64 stays float64), integers as int32, BOOL as bool. */
export function readSafetensors(path: string, filter: (key: string) => boolean = () => true): Map<string, Tensor> {
  return withFile(path, (fd, size) => {
    const header = headerOf(fd, size, path);
    const out = new Map<string, Tensor>();
    for (const [name, e] of header.entries) {
      if (!filter(name)) continue;
      const [start, end] = e.data_offsets;
      out.set(name, decodeTensor(readAt(fd, end - start, header.dataStart + start), e, name, path));
    }
    return out;
  });
}

/**
 * Writes tensors (sorted by key) and optional string metadata; float32 tensors may be stored as F16 or BF16.
 * Written beside the target, fsynced, then renamed over it.
 */
export function writeSafetensors(
  path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>,
  { floatType = 'F32' as FloatStorageType } = {},
): void {
  const sorted = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // encode lazily, one tensor at a time, so only one converted copy exists at once
  const sizes = sorted.map(([name, t]): [string, { dtype: string; shape: readonly number[]; byteLength: number }] => {
    const { dtype, width } = storedType(t, floatType);
    return [name, { dtype, shape: t.shape, byteLength: t.size * width }];
  });
  const head = encodeHeader(sizes, metadata, path);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeAll(fd, head);
    for (const [, t] of sorted) writeAll(fd, encodeTensor(t, floatType).bytes);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}
