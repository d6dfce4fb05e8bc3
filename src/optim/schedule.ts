// Learning-rate schedules: functions of the 0-based step index, evaluated on the host and passed
// to the update kernels as uniforms (a schedule never touches the GPU).

import type { LrSchedule } from './optimizer.js';

export interface WarmupCosineOptions {
  /** peak learning rate, reached at the end of warm-up */
  base: number;
  /** linear warm-up steps: step s < warmupSteps uses base·(s+1)/warmupSteps */
  warmupSteps: number;
  /** the cosine reaches `min` at this step and stays there */
  totalSteps: number;
  /** final learning rate (default 0) */
  min?: number;
}

/** Linear warm-up to `base`, then half a cosine down to `min` at `totalSteps`. */
export function warmupCosine(o: WarmupCosineOptions): LrSchedule {
  return warmupDecay(o, (progress) => 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/**
 * Linear warm-up to `base`, then a straight line down to `min` at `totalSteps` (with min 0, the
 * "decay to zero" schedule that beats cosine-to-10% at short budgets in recent LLM studies).
 */
export function warmupLinear(o: WarmupCosineOptions): LrSchedule {
  return warmupDecay(o, (progress) => 1 - progress);
}

/** Shared body: `shape` maps the decay's progress in [0, 1] to the fraction of (base − min) left. */
function warmupDecay({ base, warmupSteps, totalSteps, min = 0 }: WarmupCosineOptions, shape: (progress: number) => number): LrSchedule {
  if (!(warmupSteps >= 0 && Number.isInteger(warmupSteps))) throw new Error(`learning-rate schedule: warmupSteps must be a non-negative integer, got ${warmupSteps}.`);
  if (!(totalSteps >= warmupSteps && Number.isInteger(totalSteps))) {
    throw new Error(`learning-rate schedule: totalSteps (${totalSteps}) must be an integer ≥ warmupSteps (${warmupSteps}).`);
  }
  if (!(base >= min && min >= 0)) throw new Error(`learning-rate schedule: need base ≥ min ≥ 0, got base ${base}, min ${min}.`);
  return (step: number) => {
    if (step < warmupSteps) return (base * (step + 1)) / warmupSteps;
    const span = totalSteps - warmupSteps;
    const progress = span > 0 ? Math.min(1, (step - warmupSteps) / span) : 1;
    return min + (base - min) * shape(progress);
  };
}
