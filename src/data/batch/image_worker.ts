// The body of an image worker thread: runs ImageJobs posted by WorkerPool and posts back results (buffers
// transferred) or the error as data.
import { parentPort } from 'node:worker_threads';
import { errorToData, resultTransfer, runImageJob, type ImageJob } from './image_job.ts';

const port = parentPort!;
port.on('message', (msg: { id: number; job: ImageJob }) => {
  runImageJob(msg.job).then(
    (result) => port.postMessage({ id: msg.id, result }, resultTransfer(result)),
    (e: unknown) => port.postMessage({ id: msg.id, error: errorToData(e) }),
  );
});
