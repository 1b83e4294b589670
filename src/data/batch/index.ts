// Batching's public API: weighted task-pure sources, a resumable seeded sampler, collation into padded tensors and a
// loader that decodes images in worker threads.
export { BatchLoader, type LoaderOptions } from './loader.ts';
export { BatchSampler, DEFAULT_PROMPTS, type SamplerState, type BatchPlan, type PlannedExample, type SamplerOptions } from './sampler.ts';
export { BatchError, SourceStream, reopening, type Source, type SourcePosition } from './source.ts';
export { collateText, textTokenizer, type TokenizerWithIds, type Batch, type TextBatch, type TextTokenizer, type CollateOptions } from './collate.ts';
export { runImageJob, type ImageJob, type ImageJobItem, type ImageJobResult } from './image_job.ts';
export { ImageWorkerPool } from './worker_pool.ts';
