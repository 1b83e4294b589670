// N worker threads running image jobs: each job goes to the first idle worker, each result resolves its own job's
// promise (so callers see results in the order they asked, whatever order the workers finish in). A worker holds the
// process open only while it has a job, so a pool nobody closed does not keep Node alive. A crashed worker fails its
// job and the pool; close() stops them all.
import { Worker } from 'node:worker_threads';
import { errorFromData, type ErrorData, type ImageJob, type ImageJobResult } from './image_job.ts';

const ENTRY = new URL('./image_worker_entry.mjs', import.meta.url);

interface Pending {
  id: number;
  job: ImageJob;
  resolve: (r: ImageJobResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | null;
}

export class ImageWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 0;
  private failure: Error | null = null;
  private closed = false;

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(i));
  }

  run(job: ImageJob): Promise<ImageJobResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('image worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new Error('image worker pool closed before the job finished'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(index: number): Slot {
    // No inherited Node flags: the entry registers tsx itself, and flags such as --input-type break a worker's start.
    const worker = new Worker(ENTRY, { name: `pixelllm-image-${index}`, execArgv: [] });
    worker.unref();
    const slot: Slot = { worker, busy: null };
    worker.on('message', (msg: { id: number; result?: ImageJobResult; error?: ErrorData }) => {
      const p = slot.busy;
      if (!p || p.id !== msg.id) return;
      this.release(slot);
      if (msg.error) p.reject(errorFromData(msg.error));
      else p.resolve(msg.result!);
      this.dispatch();
    });
    const crash = (why: string): void => {
      if (this.closed) return;
      const files = slot.busy ? ` while preparing ${slot.busy.job.items.map((it) => it.file).join(', ')}` : '';
      this.fail(new Error(`image worker ${index} ${why}${files}`));
    };
    worker.on('error', (e) => crash(`crashed: ${e.stack ?? e.message}`));
    worker.on('exit', (code) => crash(`exited with code ${code}`));
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy) continue;
      const p = this.queue.shift()!;
      slot.busy = p;
      slot.worker.ref();
      slot.worker.postMessage({ id: p.id, job: p.job });
    }
  }

  private release(slot: Slot): void {
    slot.busy = null;
    slot.worker.unref();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.failAll(e);
    for (const s of this.slots) void s.worker.terminate();
  }

  private failAll(e: Error): void {
    for (const s of this.slots) {
      if (s.busy) s.busy.reject(e);
      this.release(s);
    }
    for (const p of this.queue.splice(0)) p.reject(e);
  }
}
