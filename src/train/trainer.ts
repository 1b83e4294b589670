// The training loop: task-pure batches from weighted sources, AdamW with a cosine schedule after warm-up, weight-decay
// exemptions, layer-wise decay for a trainable EVA02, frozen-parameter patterns, gradient accumulation and clipping,
// evaluation every N steps, atomic checkpoints every M steps and an exact resume from the latest one (sampler,
// optimizer, generator and history restored, so the loss trajectory continues as if never stopped), a progress line,
// and the loss/metric curves as JSON and PNG.
import { join } from 'node:path';
import { Generator, Tensor, setThreads, withStepScope } from '../tensor/index.ts';
import { manualSeed } from '../nn/init.ts';
import { AdamW, clipGradNorm } from '../nn/optim.ts';
import { cosineWithWarmup } from '../nn/schedule.ts';
import { readSafetensors } from '../nn/safetensors.ts';
import { BatchLoader, textTokenizer, type SamplerState, type TextTokenizer } from '../data/batch/index.ts';
import { loadTokenizer, type Tokenizer } from '../data/tokenizers/index.ts';
import { ConfigError } from './overrides.ts';
import { PixelLLM } from '../models/pixelllm/pixelllm.ts';
import { saveModelFolder } from '../models/pixelllm/files.ts';
import type { PixelLLMConfig } from '../models/pixelllm/config.ts';
import { CheckpointError, loadLatestCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { Progress } from './progress.ts';
import { drawCurves, writeHistory, type HistoryRecord } from './curves.ts';
import { batchLosses } from './step.ts';
import { buildSources, objectBoxes } from './data_sources.ts';
import type { TrainConfig } from './train_config.ts';

/** Parameters that take no weight decay: biases, norms, embeddings and learned tokens. */
export const NO_DECAY = ['*.bias', '*norm*.weight', '*LayerNorm.weight', '*embed*', '*_embed', '*.query_embed', '*pos_embed*', '*rel_pos*', '*gate', '*token*', '*.cls_token'];

/** EVA02 block i of L gets decay^(L + 1 − (i + 1)); its embeddings decay^(L + 1); everything else 1. */
export function layerDecayScale(model: PixelLLM, decay: number): (key: string) => number {
  const L = model.config.eva?.depth ?? 0;
  return (key) => {
    if (!key.startsWith('git_backbone.') || decay === 1) return 1;
    const m = /^git_backbone\.blocks\.(\d+)\./.exec(key);
    const layer = m ? Number(m[1]) + 1 : /^git_backbone\.(norm|fc_norm|head)/.test(key) ? L + 1 : 0;
    return decay ** (L + 1 - layer);
  };
}

/**
 * The batcher's tokenizer with the special ids the model was built with (T5 has no BOS, Llama no pad: the model's
 * config supplies them); a tokenizer whose own ids disagree with the model's is refused.
 */
function modelTokenizer(tok: Tokenizer, model: PixelLLM, path: string): TextTokenizer {
  const t = model.textual;
  const own = { bos: tok.bosId, eos: tok.eosId, pad: tok.padId };
  const want = { bos: t.bosId, eos: t.eosId, pad: t.padId };
  for (const k of ['bos', 'eos', 'pad'] as const) {
    // T5 starts its decoder from the pad id: the tokenizer's BOS (if any) is not the model's
    if (own[k] !== null && own[k] !== want[k] && !(k === 'bos' && model.config.text.kind === 't5')) {
      throw new ConfigError(`${path}: the tokenizer's ${k} id is ${own[k]} but the model's config says ${want[k]}; use the tokenizer the model was built for`);
    }
  }
  return textTokenizer(tok, want);
}

/** The latest checkpoint's weights as the run's model folder (OUT/model); returns its path. */
export function exportLatest(cfg: TrainConfig): string {
  const ckptDir = join(cfg.out, 'checkpoints');
  const latest = loadLatestCheckpoint(ckptDir);
  if (!latest) throw new CheckpointError(`${ckptDir} holds no checkpoint to export`);
  const model = new PixelLLM(cfg.model);
  model.loadStateDict(latest.model, { source: `${ckptDir} step ${latest.step}` });
  const out = join(cfg.out, 'model');
  saveModelFolder(out, model, cfg.tokenizer, { half: cfg.half });
  return `${out} (step ${latest.step})`;
}

/** What a model config keeps fixed: the paper's SAM, its image encoder and its prompt encoder, unless it is trained. */
export function frozenByConfig(config: PixelLLMConfig): string[] {
  return config.sam_trainable ? [] : ['sam_backbone.*', 'prompt_encoder.*'];
}

export interface TrainHooks {
  /** metrics of the model at `step` (the evaluation of pixelllm eval on the config's eval sources) */
  evaluate?: (model: PixelLLM, step: number) => Promise<Record<string, number>>;
  log?: (line: string) => void;
  /** stop after this many updates (a checkpoint is written there; the run resumes from it later) */
  stopAfter?: number;
}

export interface TrainResult {
  model: PixelLLM;
  history: HistoryRecord[];
  /** the summed loss of each update, in order, from step 1 (after a resume: those of this run only) */
  losses: number[];
}

export async function train(cfg: TrainConfig, hooks: TrainHooks = {}): Promise<TrainResult> {
  const log = hooks.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  setThreads(cfg.threads);
  manualSeed(cfg.seed);
  const rng = new Generator(cfg.seed);
  const model = new PixelLLM(cfg.model, rng);
  if (cfg.init) {
    // a model folder from before a module was added (region tokens, the grid point head) starts those from random
    const { missing, unexpected } = model.loadStateDict(readSafetensors(join(cfg.init, 'model.safetensors')), { source: cfg.init, strict: false });
    const modules = (keys: string[]) => [...new Set(keys.map((k) => k.split('.').slice(0, 2).join('.')))].join(', ');
    if (missing.length > 0) log(`init ${cfg.init}: ${missing.length} weights not in the folder start from random (${modules(missing)})`);
    if (unexpected.length > 0) log(`init ${cfg.init}: ${unexpected.length} weights of the folder have no place in this model and are not used (${modules(unexpected)})`);
  }
  const frozen = [...cfg.freeze, ...frozenByConfig(cfg.model)];
  if (frozen.length > 0) model.freeze(frozen);
  model.train();
  const params = model.namedParameters().filter(([, t]) => t.requiresGrad);
  const optimizer = new AdamW(params, { lr: cfg.lr, weightDecay: cfg.weight_decay, noDecay: NO_DECAY, lrScale: layerDecayScale(model, cfg.layer_decay) });

  const ckptDir = join(cfg.out, 'checkpoints');
  const resumed = loadLatestCheckpoint(ckptDir);
  let start = 0;
  let history: HistoryRecord[] = [];
  let sampler: SamplerState | undefined;
  // the loss values since the last history record (saved with a checkpoint, so the next record is the same after a resume)
  const window: Record<string, number[]> = {};
  if (resumed) {
    model.loadStateDict(resumed.model, { source: `${ckptDir} model` });
    optimizer.loadStateDict(resumed.optimizer, `${ckptDir} optimizer`);
    start = resumed.step;
    history = resumed.state.history as HistoryRecord[];
    sampler = resumed.state.sampler as SamplerState;
    Object.assign(window, resumed.state.window ?? {});
    rng.setState(resumed.state.rng as number[]);
    log(`resuming from ${ckptDir} at step ${start}`);
  }

  const tok = loadTokenizer(cfg.tokenizer);
  const { sources, examples } = await buildSources(cfg.data_root, cfg.sources);
  const objects = objectBoxes(examples.values());
  log(`training ${params.length} tensors (${params.reduce((n, [, t]) => n + t.size, 0)} parameters) on ${sources.map((s) => `${s.name} ${(s.examples as unknown[]).length}`).join(', ')}; proposal boxes for ${objects.size} images`);
  const loader = new BatchLoader({
    sources, batchSize: cfg.batch_size, imageSize: cfg.model.image_size, tokenizer: modelTokenizer(tok, model, cfg.tokenizer), seed: cfg.seed,
    maxTokens: cfg.model.max_text_tokens, maxPromptTokens: cfg.model.max_prompt_tokens, workers: cfg.workers,
    normalizations: model.normalizations, masks: true, resume: sampler,
  });
  const progress = new Progress(cfg.steps, start, { label: 'train' });
  const losses: number[] = [];
  try {
    for (let step = start; step < cfg.steps; step++) {
      let total = 0;
      for (let a = 0; a < cfg.accumulate; a++) {
        const next = await loader.next();
        if (next.done) throw new Error('the training loader ended');
        // the step's buffers go back to the pool when it ends (the gradients stay): read the losses as numbers inside
        withStepScope(() => {
          const parts = batchLosses(model, next.value, cfg.loss, objects);
          let sum: Tensor | null = null;
          for (const [name, t] of Object.entries(parts)) {
            const v = t.item();
            (window[`${next.value.task}/${name}`] ??= []).push(v);
            total += v / cfg.accumulate;
            sum = sum === null ? t : sum.add(t);
          }
          sum!.div(cfg.accumulate).backward();
        }, () => params.map(([, t]) => t.grad?.data));
      }
      const norm = cfg.grad_clip > 0 ? clipGradNorm(params.map(([, t]) => t), cfg.grad_clip) : NaN;
      optimizer.lr = cfg.lr * cosineWithWarmup(step, cfg.warmup_steps, cfg.steps, cfg.min_lr_ratio);
      optimizer.update();
      optimizer.zeroGrad();
      losses.push(total);
      (window.loss ??= []).push(total);
      const done = step + 1;
      progress.update(done, { loss: total, lr: optimizer.lr });
      if (done % cfg.log_every === 0 || done === cfg.steps) {
        const values: Record<string, number> = { lr: optimizer.lr, grad_norm: norm };
        for (const [k, vs] of Object.entries(window)) values[k] = vs.reduce((s, v) => s + v, 0) / vs.length;
        for (const k of Object.keys(window)) delete window[k];
        history.push({ step: done, values });
      }
      if (hooks.evaluate && cfg.eval_every > 0 && (done % cfg.eval_every === 0 || done === cfg.steps)) {
        model.eval();
        const metrics = await hooks.evaluate(model, done);
        model.train();
        history.push({ step: done, values: metrics });
        log(`\nstep ${done}: ${Object.entries(metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join('  ')}`);
      }
      const stopping = hooks.stopAfter !== undefined && done >= hooks.stopAfter && done < cfg.steps;
      if (done % cfg.checkpoint_every === 0 || done === cfg.steps || stopping) {
        saveCheckpoint(ckptDir, {
          step: done, model: model.stateDict(), optimizer: optimizer.stateDict(),
          state: { history, window, sampler: loader.state(), rng: rng.getState(), config: cfg },
        });
        writeHistory(join(cfg.out, 'history.json'), history);
        await drawCurves(join(cfg.out, 'curves.png'), history);
      }
      if (stopping) return { model, history, losses };
    }
  } finally {
    progress.done();
    await loader.close();
  }
  model.eval();
  saveModelFolder(join(cfg.out, 'model'), model, cfg.tokenizer, { half: cfg.half });
  return { model, history, losses };
}
