// One training step of a prior (browser-safe): builds the inputs/targets of its kind from a batch
// of token grids, runs the fused cross-entropy, and steps AdamW. Loss sums stay on the GPU until
// `takeLoss()` (log time).

import { backward } from '../autograd/tape.js';
import { conditionToken, isD3PM, maskToken, timeToken, type PriorConfig } from '../models/prior/config.js';
import { d3pmNoise } from '../models/prior/d3pm.js';
import { diffusionPair, maskBatch, NoiseRng } from '../models/prior/noise.js';
import { Prior } from '../models/prior/prior.js';
import { WeightEMA } from '../nn/ema.js';
import { AdamW } from '../optim/adam.js';
import { warmupCosine } from '../optim/schedule.js';
import { LossMeter } from './loss-meter.js';
import { reshape } from '../ops/layout.js';
import { crossEntropy } from '../ops/xent.js';
import { tidy } from '../tensor/scope.js';
import { tensor, type Tensor } from '../tensor/tensor.js';

export const IGNORE = -100;

export interface PriorBatch {
  /** [B, L+1] (AR: [B, L]) */
  inputs: Int32Array;
  /** [B, L] with IGNORE where no loss applies */
  targets: Int32Array;
  B: number;
  /**
   * a self-conditioned prior's batch that first predicts x_0 without an estimate (no gradient) and
   * then learns with that prediction's argmax as the estimate (half the batches; the other half
   * learns without one, as the sampler's first step runs)
   */
  selfCondition?: boolean;
}

/** Share of a self-conditioned prior's batches that learn with an estimate (Chen et al.'s 50%). */
export const SELF_CONDITION_RATE = 0.5;

/** `train-prior --label-drop`'s default for class-conditional priors. */
export const DEFAULT_LABEL_DROP = 0.1;

/**
 * Classifier-free guidance training: replaces each label by −1 (the null class: the start token)
 * with probability p, in place; draws from `rng` only when p > 0 (so runs without label drop keep
 * their noise stream). Returns how many labels were dropped.
 */
export function dropLabels(labels: Int32Array, p: number, rng: NoiseRng): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`label drop must be in [0, 1], got ${p}.`);
  if (p === 0) return 0;
  let dropped = 0;
  for (let b = 0; b < labels.length; b++) {
    if (rng.next() < p) {
      labels[b] = -1;
      dropped++;
    }
  }
  return dropped;
}

/** Items per class (labels outside [0, classes) are not counted). */
export function classCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0 && labels[i] < classes) counts[labels[i]]++;
  return counts;
}

/**
 * The D3PM objective's batch for grids x_0 [B, L] with labels [B]: a level t per item (drawn
 * uniformly from 1..T, or `levels` [B]), x_t ~ q(x_t | x_0) (uniform noise at ᾱ_t, cosine), inputs
 * [cond, time token of t, x_t] ([B, L+2]), targets x_0 at every position: the cross-entropy on
 * x_0 alone (D3PM's auxiliary loss; no variational-bound term: its hybrid loss weights the bound by
 * 0.001 and needs the K-way posterior in the graph, and the plain x_0 cross-entropy is what MaskGIT-
 * style and later uniform-noise models train with).
 */
export function d3pmBatch(c: PriorConfig, x: Int32Array, labels: Int32Array, rng: NoiseRng, levels?: Int32Array): PriorBatch & { t: Int32Array } {
  const B = labels.length, L = x.length / B;
  const { xt, t } = d3pmNoise(x, B, c.codebook, c.timesteps!, rng, levels);
  const inputs = new Int32Array(B * (L + 2));
  for (let b = 0; b < B; b++) {
    inputs[b * (L + 2)] = conditionToken(c, labels[b]);
    inputs[b * (L + 2) + 1] = timeToken(c, t[b]);
    inputs.set(xt.subarray(b * L, (b + 1) * L), b * (L + 2) + 2);
  }
  return { inputs, targets: Int32Array.from(x), B, t };
}

/** The inputs and targets of a prior's objective for token grids x [B, L] with labels [B]. */
export function makeBatch(c: PriorConfig, x: Int32Array, labels: Int32Array, rng: NoiseRng): PriorBatch {
  const B = labels.length, L = x.length / B;
  if (isD3PM(c)) {
    const { inputs, targets } = d3pmBatch(c, x, labels, rng);
    return { inputs, targets, B, ...(c.selfCondition ? { selfCondition: rng.next() < SELF_CONDITION_RATE } : {}) };
  }
  const cond = (b: number) => conditionToken(c, labels[b]);
  if (c.prior === 'ar') {
    const inputs = new Int32Array(B * L);
    for (let b = 0; b < B; b++) {
      inputs[b * L] = cond(b);
      inputs.set(x.subarray(b * L, b * L + L - 1), b * L + 1);
    }
    return { inputs, targets: x, B };
  }
  const withCond = (body: Int32Array) => {
    const inputs = new Int32Array(B * (L + 1));
    for (let b = 0; b < B; b++) {
      inputs[b * (L + 1)] = cond(b);
      inputs.set(body.subarray(b * L, (b + 1) * L), b * (L + 1) + 1);
    }
    return inputs;
  };
  if (c.prior === 'diffusion') {
    const { xa, xb } = diffusionPair(x, B, c.codebook, c.extraNoise, rng);
    return { inputs: withCond(xb), targets: xa, B };
  }
  const { input, target } = maskBatch(x, B, maskToken(c), rng, IGNORE, c.minMaskRatio ?? 0);
  return { inputs: withCond(input), targets: target, B };
}

/**
 * Mean cross-entropy (nats) of a batch, as a GPU scalar (with the autograd graph). labelSmoothing ε:
 * training's smoothed target, (1−ε)·nll + ε·mean over codes of −log p (evaluation leaves it at 0).
 */
export function batchLoss(prior: Prior, batch: PriorBatch, labelSmoothing = 0): Tensor {
  const L = batch.targets.length / batch.B;
  const inputs = tensor(batch.inputs, [batch.B, batch.inputs.length / batch.B]);
  const logits = batch.selfCondition ? prior.selfConditionedLogits(inputs) : prior.contentLogits(inputs); // [B, L, K]
  return crossEntropy(reshape(logits, [batch.B * L, -1]), tensor(batch.targets, [batch.B * L]), { ignoreIndex: IGNORE, labelSmoothing });
}

/**
 * The default prior and its training (the defaults of `vqgpu train-prior`, and the model the
 * train-ar bench measures). scheduleSteps: the schedule's length when only --minutes is given.
 */
export const PRIOR_DEFAULTS = {
  layers: 4, dim: 128, heads: 4, dropout: 0.1, batch: 32, lr: 1e-3, warmup: 100, scheduleSteps: 5000, ema: 0,
} as const;

export class PriorTrainer {
  readonly opt: AdamW;
  private readonly meter = new LossMeter();
  step = 0;

  /** ε of the training cross-entropy (the logged loss is the smoothed one) */
  readonly labelSmoothing: number;

  private decayTarget: number;

  /** the average of the weights kept for sampling (`ema` > 0), in a second Prior; null without */
  readonly ema: WeightEMA | null;

  /** ema: the decay of an average of the weights for sampling (0 or absent: none) */
  constructor(readonly prior: Prior, private readonly o: { lr: number; totalSteps: number; warmup: number; weightDecay?: number; labelSmoothing?: number; ema?: number }) {
    this.labelSmoothing = o.labelSmoothing ?? 0;
    this.decayTarget = o.totalSteps;
    this.opt = new AdamW(prior.parameters(), { lr: this.schedule(o.totalSteps), weightDecay: o.weightDecay ?? 0.01, clipNorm: 1 });
    this.ema = o.ema ? new WeightEMA(prior, new Prior(prior.config), o.ema) : null;
  }

  /** Warm-up, then a cosine to lr/10 at `totalSteps`. */
  private schedule(totalSteps: number) {
    const { lr, warmup } = this.o;
    return warmupCosine({ base: lr, warmupSteps: warmup, totalSteps: Math.max(Math.round(totalSteps), warmup + 1), min: lr / 10 });
  }

  /**
   * Re-targets the cosine to end at step `steps`: a run with a time budget (train-prior --minutes
   * without --steps) passes the step its budget will end at, re-estimated as it goes, so the
   * learning rate has decayed when the time runs out on any machine.
   */
  setDecaySteps(steps: number): void {
    if (Math.round(steps) !== this.decayTarget) this.opt.lr = this.schedule(steps);
    this.decayTarget = Math.round(steps);
  }

  train(batch: PriorBatch): void {
    this.prior.train();
    tidy(() => {
      const loss = batchLoss(this.prior, batch, this.labelSmoothing);
      backward(loss);
      this.opt.step();
      this.opt.zeroGrad();
      this.meter.add(loss);
    });
    this.ema?.update();
    this.step++;
  }

  /** Mean training loss (nats per token) since the last call; reads back. */
  takeLoss(): Promise<number> {
    return this.meter.take();
  }

  /** Frees the optimizer state, the weight average and the loss accumulator (the model belongs to the caller). */
  dispose(): void {
    this.meter.dispose();
    this.opt.dispose();
    this.ema?.shadow.dispose();
  }
}
