// A prior's training run, browser-safe: the run config `vqgpu train-prior` stores in its checkpoints
// (made here from a token cache and the flags' values) and the draw of one training batch from the
// cache's training split. The CLI (src/node/commands/train-prior.ts) and the page's Train view
// (examples/web/train/prior-session.ts) both use them, so a prior trained in the page is the CLI's
// run, step for step, for the same cache, flags and seed.

import { splitTokens, type TokenCache } from '../data/token-cache.js';
import { makePriorConfig, MASK_DEFAULTS, type DiffusionNoise, type PriorConfig, type PriorKind } from '../models/prior/config.js';
import type { NoiseRng } from '../models/prior/noise.js';
import { classCounts, DEFAULT_LABEL_DROP, dropLabels, PRIOR_DEFAULTS, PriorTrainer } from './prior-trainer.js';
import { restoreCheckpoint, type LoadedCheckpoint } from '../io/checkpoint.js';
import { hasEMA } from '../io/run-loader.js';
import type { Prior } from '../models/prior/prior.js';

/** The run config in a prior's checkpoints (metadata "config"). */
export interface PriorRunConfig {
  prior: PriorConfig;
  batch: number;
  lr: number;
  warmup: number;
  totalSteps: number;
  /** the schedule ends where the time budget does (--minutes without --steps or --schedule-steps) */
  scheduleAuto?: boolean;
  seed: number;
  /** absent in runs from before it existed (trained without smoothing) */
  labelSmoothing?: number;
  /** decay of the weight average kept for sampling (src/nn/ema.ts); absent or 0: none */
  ema?: number;
}

/** What a new run is made of: train-prior's flags (undefined: the flag's default). */
export interface PriorRunOptions {
  kind: PriorKind;
  classCond: boolean;
  dim?: number;
  layers?: number;
  heads?: number;
  dropout?: number;
  extraNoise?: number;
  labelDrop?: number;
  minMaskRatio?: number;
  noise?: DiffusionNoise;
  timesteps?: number;
  /** d3pm: self-conditioning on the network's previous x_0 estimate */
  selfCondition?: boolean;
  labelSmoothing?: number;
  batch?: number;
  lr?: number;
  warmup?: number;
  /** the schedule's length; 0/undefined: PRIOR_DEFAULTS.scheduleSteps, re-targeted to the time budget (scheduleAuto) */
  totalSteps?: number;
  seed?: number;
  /** decay of a weight average for sampling (0: none; default PRIOR_DEFAULTS.ema) */
  ema?: number;
}

/** train-prior --extra-noise's default. */
export const DEFAULT_EXTRA_NOISE = 0.1;

/** A new run's config on `cache` (its codebook, grid, labels and tokenizer). */
export function newPriorRun(cache: TokenCache, o: PriorRunOptions): PriorRunConfig {
  const h = cache.header, classCond = o.classCond;
  const totalSteps = o.totalSteps ?? 0;
  return {
    prior: makePriorConfig({
      prior: o.kind, codebook: h.codebook, grid: h.grid,
      classes: classCond ? h.labels.length : 0, tokenizerChecksum: h.tokenizer.checksum,
      dim: o.dim ?? PRIOR_DEFAULTS.dim, layers: o.layers ?? PRIOR_DEFAULTS.layers, heads: o.heads ?? PRIOR_DEFAULTS.heads,
      dropout: o.dropout ?? PRIOR_DEFAULTS.dropout, extraNoise: o.extraNoise ?? DEFAULT_EXTRA_NOISE,
      classNames: classCond ? [...h.labels] : undefined,
      classCounts: classCond ? classCounts(splitTokens(cache, 'train').labels, h.labels.length) : undefined,
      labelDrop: classCond ? o.labelDrop ?? DEFAULT_LABEL_DROP : undefined,
      minMaskRatio: o.minMaskRatio,
      noise: o.noise ?? 'seed', timesteps: o.timesteps, selfCondition: o.selfCondition,
    }),
    labelSmoothing: o.labelSmoothing ?? (o.kind === 'mask' ? MASK_DEFAULTS.labelSmoothing : 0),
    batch: o.batch ?? PRIOR_DEFAULTS.batch, lr: o.lr ?? PRIOR_DEFAULTS.lr, warmup: o.warmup ?? PRIOR_DEFAULTS.warmup,
    totalSteps: totalSteps || PRIOR_DEFAULTS.scheduleSteps, seed: o.seed ?? 0,
    scheduleAuto: !totalSteps || undefined,
    ema: (o.ema ?? PRIOR_DEFAULTS.ema) || undefined,
  };
}

/**
 * One training batch: B grids drawn uniformly (with replacement) from the training split into x
 * [B, L] and their labels into `labels` [B], then the labels dropped to the null class with
 * probability labelDrop (classifier-free guidance). Draws from `rng` in the CLI's order.
 */
export function drawPriorBatch(train: { tokens: Int32Array; labels: Int32Array; count: number }, rng: NoiseRng, x: Int32Array, labels: Int32Array, labelDrop: number): void {
  const B = labels.length, L = x.length / B;
  for (let b = 0; b < B; b++) {
    const i = rng.int(train.count);
    x.set(train.tokens.subarray(i * L, (i + 1) * L), b * L);
    labels[b] = train.labels[i];
  }
  dropLabels(labels, labelDrop, rng);
}

/** The trainer of a run: its optimizer, learning-rate schedule, label smoothing and weight average. */
export function priorTrainerFor(prior: Prior, run: PriorRunConfig): PriorTrainer {
  return new PriorTrainer(prior, { lr: run.lr, totalSteps: run.totalSteps, warmup: run.warmup, labelSmoothing: run.labelSmoothing ?? 0, ema: run.ema });
}

/**
 * A checkpoint restored into a run's model, optimizer, step count and weight average (as saved; a
 * checkpoint without one starts the average from the restored weights). The RNG states are the
 * caller's (the CLI's and the page's loops own them).
 */
export function restorePriorTraining(ckpt: LoadedCheckpoint, trainer: PriorTrainer): void {
  restoreCheckpoint(ckpt, { model: trainer.prior, optimizer: trainer.opt });
  trainer.step = ckpt.step;
  if (!trainer.ema) return;
  if (hasEMA(ckpt.decoded)) restoreCheckpoint(ckpt, { ema: trainer.ema.shadow });
  else trainer.ema.copyFromSource();
  trainer.ema.updates = ckpt.step;
}
