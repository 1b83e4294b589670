// Learning-rate schedules as multipliers of the base rate, by optimiser step (0-based, as HF's LambdaLR schedules).

/** Linear warm-up from 0, then a half cosine down to `minRatio` (HF's get_cosine_schedule_with_warmup when minRatio = 0). */
export function cosineWithWarmup(step: number, warmupSteps: number, totalSteps: number, minRatio = 0): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress));
}
