// One runner per task: read the ground truth and the predictions, match them by key, score, and build the report.
// Missing predictions are scored as failures where the metric allows (IoU 0, an empty caption) and always counted;
// predictions for keys the ground truth does not have are reported and not scored.
import type { Point } from '../data/types.ts';
import { intersectionUnion, rleArea, segmentationToRle } from '../data/mask.ts';
import { bleu } from './bleu.ts';
import { ciderD } from './cider.ts';
import { rouge } from './rouge.ts';
import { meteor, meteorScore, meteorStats } from './meteor/meteor.ts';
import { tokenizeCaption } from './ptb_tokenizer.ts';
import { assignImage, densecapMap, type DenseRecord } from './densecap_map.ts';
import { boxArea, boxIntersectionUnion, OverlapStats, tokenPointL1 } from './localization.ts';
import { Problems, readPredictions, type EvalTask, type Prediction } from './predictions.ts';
import { readGroundTruth, type GroundTruth, type GroundTruthItem, type GroundTruthOptions } from './ground_truth.ts';
import type { EvalReport } from './report.ts';

export interface EvalOptions extends GroundTruthOptions {
  /** METEOR with WordNet synonyms (default) or exact + stem only */
  synonyms?: boolean;
}

type Scored = Pick<EvalReport, 'metrics' | 'notes'> & { breakdown?: Record<string, number>; counts?: Record<string, number> };
type Pairs = { item: GroundTruthItem; prediction: Prediction[] | undefined }[];

/** Scores the predictions file of `task` against the ground-truth file. */
export async function evaluate(task: EvalTask, predictionsPath: string, groundTruthPath: string, opts: EvalOptions = {}): Promise<EvalReport> {
  const gt = await readGroundTruth(task, groundTruthPath, { split: opts.split, imageDir: opts.imageDir });
  const problems = new Problems();
  const predictions = await readPredictions(predictionsPath, task, problems);
  return scorePredictions(gt, predictions, problems, { predictionsPath, groundTruthPath }, opts);
}

/** Scores parsed predictions against ground truth (the part of `evaluate` after reading files). */
export function scorePredictions(gt: GroundTruth, predictions: Map<string, Prediction[]>, problems: Problems, paths: { predictionsPath: string; groundTruthPath: string }, opts: EvalOptions = {}): EvalReport {
  const keyName = gt.task === 'caption' || gt.task === 'densecap' ? 'image_id' : 'id';
  for (const [key, ps] of predictions) {
    if (gt.items.has(key)) continue;
    for (const p of ps) problems.add('unknown', `${paths.predictionsPath}:${p.line}: ${keyName} ${JSON.stringify(key)} is not in the ground truth; not scored`);
  }
  const pairs: Pairs = [...gt.items.values()].map((item) => ({ item, prediction: predictions.get(item.key) }));
  const missing = pairs.filter((p) => p.prediction === undefined).map((p) => p.item.key);
  // a densecap image without predictions is not an error: it simply detects nothing
  if (gt.task !== 'densecap') for (const k of missing) problems.add('missing', `no prediction for ${keyName} ${JSON.stringify(k)}`);
  const scored = SCORERS[gt.task](pairs, problems, paths.predictionsPath, opts);
  return {
    task: gt.task,
    predictions: paths.predictionsPath,
    groundTruth: paths.groundTruthPath,
    metrics: scored.metrics,
    counts: {
      groundTruth: gt.items.size,
      predicted: pairs.length - missing.length,
      missing: missing.length,
      malformed: problems.counts.malformed ?? 0,
      duplicate: problems.counts.duplicate ?? 0,
      unknown: problems.counts.unknown ?? 0,
      ...scored.counts,
    },
    problems: problems.messages,
    notes: scored.notes,
    ...(scored.breakdown !== undefined ? { breakdown: scored.breakdown } : {}),
  };
}

function scoreRefer(pairs: Pairs): Scored {
  const stats = new OverlapStats();
  for (const { item, prediction } of pairs) {
    const gtBox = item.box!;
    if (prediction === undefined) stats.addMissing(boxIntersectionUnion(gtBox, gtBox).union);
    else {
      const { intersection, union } = boxIntersectionUnion(prediction[0]!.box!, gtBox);
      stats.add(intersection, union);
    }
  }
  return { metrics: { 'P@0.5': stats.precisionAt(0.5), mIoU: stats.meanIou, cIoU: stats.cumulativeIou }, notes: ['boxes in original-image pixels; P@0.5 counts IoU > 0.5; a missing prediction scores IoU 0'] };
}

function scoreRefseg(pairs: Pairs, problems: Problems, path: string): Scored {
  const masks = new OverlapStats();
  const boxes = new OverlapStats();
  const anyBox = pairs.some(({ prediction }) => prediction?.[0]?.box !== undefined);
  for (const { item, prediction } of pairs) {
    const gtRle = segmentationToRle(item.segmentation!, item.height, item.width);
    const p = prediction?.[0];
    // box P@0.5 (reported when the file gives boxes) counts every expression: a missing box scores IoU 0
    if (anyBox && item.box !== undefined) {
      if (p?.box === undefined) boxes.addMissing(boxArea(item.box));
      else {
        const { intersection, union } = boxIntersectionUnion(p.box, item.box);
        boxes.add(intersection, union);
      }
    }
    if (p !== undefined && (p.mask!.size[0] !== item.height || p.mask!.size[1] !== item.width)) {
      problems.add('malformed', `${path}:${p.line}: mask size ${JSON.stringify(p.mask!.size)} is not the image's [h, w] = [${item.height}, ${item.width}]; scored as a miss`);
      masks.addMissing(rleArea(gtRle));
      continue;
    }
    if (p === undefined) masks.addMissing(rleArea(gtRle));
    else {
      const { intersection, union } = intersectionUnion(p.mask!, gtRle);
      masks.add(intersection, union);
    }
  }
  const metrics: Record<string, number> = { cIoU: masks.cumulativeIou, mIoU: masks.meanIou };
  for (const t of [0.5, 0.6, 0.7, 0.8, 0.9]) metrics[`P@${t}`] = masks.precisionAt(t);
  if (boxes.count > 0) metrics['box P@0.5'] = boxes.precisionAt(0.5);
  return { metrics, notes: ['cIoU = Σ intersection / Σ union over the set (the paper\'s mask metric); mIoU is the mean per-expression IoU; a missing mask scores IoU 0'] };
}

const METEOR_NOTE = "METEOR 1.5 without its paraphrase table (not available here): it can only add matches, so scores can be slightly below the Java jar's (README: 'METEOR and the Java original')";

function scoreCaptions(pairs: Pairs, _problems: Problems, _path: string, opts: EvalOptions): Scored {
  const candidates = pairs.map((p) => tokenizeCaption(p.prediction?.[0]!.caption ?? ''));
  const references = pairs.map((p) => p.item.references.map(tokenizeCaption));
  const b = bleu(candidates, references);
  const m = meteor(candidates, references, { synonyms: opts.synonyms !== false });
  const metrics: Record<string, number> = {};
  b.bleu.forEach((v, k) => (metrics[`Bleu_${k + 1}`] = v));
  metrics.METEOR = m.score;
  metrics.ROUGE_L = rouge(candidates, references).score;
  metrics.CIDEr = ciderD(candidates, references).score;
  const notes = ['captions PTB-tokenised and scored as pycocoevalcap does; CIDEr is CIDEr-D with document frequencies from these references; a missing caption is scored as the empty string',
    METEOR_NOTE];
  if (opts.synonyms === false) notes.push('METEOR without WordNet synonyms (exact and stem matches only)');
  return { metrics, notes };
}

function scoreTrace(pairs: Pairs, problems: Problems, path: string): Scored {
  const perImage: number[] = [];
  let tokens = 0;
  let unpredicted = 0;
  let valid = 0; // valid utterances of every narrative, predicted or not: the denominator of coverage
  // the reference's valid utterances: non-empty, with a trace centre inside the image
  const isValid = (u: { utterance: string; center: Point }): boolean => u.utterance.trim() !== '' && u.center[0] > 1e-5 && u.center[1] > 1e-5;
  for (const { item, prediction } of pairs) {
    valid += item.utterances!.filter(isValid).length;
    if (prediction === undefined) continue;
    const p = prediction[0]!;
    const utterances = item.utterances!;
    if (p.points!.length !== utterances.length) {
      problems.add('malformed', `${path}:${p.line}: "points" has ${p.points!.length} entries but narrative ${item.key} has ${utterances.length} utterances; not scored`);
      continue;
    }
    const values: number[] = [];
    utterances.forEach((u, k) => {
      if (!isValid(u)) return;
      const predicted = p.points![k];
      if (predicted === null || predicted === undefined || predicted.length === 0) return void unpredicted++;
      const clip = (v: number): number => Math.min(1, Math.max(0, v));
      const targets: Point[] = [[clip(u.box[0]) * item.width, clip(u.box[1]) * item.height], [clip(u.box[2]) * item.width, clip(u.box[3]) * item.height]];
      values.push(tokenPointL1(predicted, targets, item.width, item.height));
    });
    tokens += values.length;
    if (values.length > 0) perImage.push(values.reduce((a, b) => a + b, 0) / values.length);
  }
  const mean = perImage.length === 0 ? NaN : perImage.reduce((a, b) => a + b, 0) / perImage.length;
  return {
    // point_l1 averages only what was predicted, so coverage stands beside it: a partial file must not look better
    metrics: { point_l1: mean, coverage: valid === 0 ? NaN : tokens / valid },
    counts: { scoredTokens: tokens, unpredictedTokens: unpredicted },
    notes: ["point_l1: target points are each utterance's trace-box corners (clipped to the image), distances in fractions of (w, h); lower is better; it averages only predicted utterances, so read it with coverage (scored / valid utterances of the ground truth)"],
  };
}

function scoreDensecap(pairs: Pairs, _problems: Problems, _path: string, opts: EvalOptions): Scored {
  const records: DenseRecord[] = [];
  let numGroundTruth = 0;
  for (const { item, prediction } of pairs) {
    const preds = (prediction ?? []).map((p) => ({ box: p.box!, text: p.caption!, score: p.score! }));
    const r = assignImage(preds, item.regions!);
    records.push(...r.records);
    numGroundTruth += r.numGroundTruth;
  }
  const scores = records.map((r) => (r.references.length === 0 ? 0 : meteorScore(meteorStats(r.candidate, r.references, { synonyms: opts.synonyms !== false }))));
  const result = densecapMap(records, scores, numGroundTruth);
  return {
    metrics: { mAP: result.map, detection_mAP: result.detMap },
    counts: { regions: result.numPredictions, mergedGroundTruth: numGroundTruth },
    breakdown: { ...result.apBreakdown, ...result.detBreakdown },
    notes: ['DenseCap mAP: ground truth merged at IoU 0.7, AP averaged over IoU 0.3-0.7 x METEOR 0-0.25; detection_mAP ignores the captions',
      "as densecap's eval_utils.lua, a prediction that overlaps no ground truth marks the image's last merged box as used (Lua's used[-1])", METEOR_NOTE],
  };
}

const SCORERS: Record<EvalTask, (pairs: Pairs, problems: Problems, path: string, opts: EvalOptions) => Scored> = {
  refer: scoreRefer, refseg: scoreRefseg, regioncap: scoreCaptions, caption: scoreCaptions, trace: scoreTrace, densecap: scoreDensecap,
};
