// An exponential moving average of a model's weights, for sampling: after each optimizer step,
//   ema ← ema + (1 − d_t)·(w − ema),   d_t = min(decay, (1 + t)/(10 + t))
// (the warm-up of d_t lets the average forget the random initialisation within the first few dozen
// steps, as in TensorFlow's ExponentialMovingAverage with num_updates). The average lives in a
// second instance of the same model (`shadow`), so it is saved, loaded and sampled like any model:
// checkpoints store it under "ema." beside "model." (src/io/checkpoint.ts). Parameters only: a
// model's buffers (none in the priors) are copied as they are.

import { noGrad } from '../autograd/tape.js';
import { add, mulScalar, sub } from '../ops/elementwise.js';
import { copyInto } from '../ops/layout.js';
import { tidy } from '../tensor/scope.js';
import type { Module } from './module.js';

export class WeightEMA {
  /** updates applied (the t of the warm-up) */
  updates = 0;

  /**
   * @param source the model being trained
   * @param shadow a second instance of the same architecture, which holds the average; it is set to
   *   the source's current weights here
   * @param decay d, e.g. 0.999 (the average's horizon is about 1 / (1 − d) steps)
   */
  constructor(readonly source: Module, readonly shadow: Module, readonly decay: number) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`EMA decay must be in [0, 1), got ${decay}.`);
    const a = source.namedParameters(), b = shadow.namedParameters();
    if (a.length !== b.length || a.some(([n, t], i) => n !== b[i][0] || t.shape.join() !== b[i][1].shape.join())) {
      throw new Error('WeightEMA: the shadow model must have the same parameters as the source (names and shapes).');
    }
    this.copyFromSource();
  }

  /** The decay of the next update. */
  get currentDecay(): number {
    return Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
  }

  /** One update from the source's current weights (call after each optimizer step). */
  update(): void {
    const d = this.currentDecay;
    const src = this.source.parameters(), dst = this.shadow.parameters();
    noGrad(() => tidy(() => {
      // ema + (1 − d)·(w − ema): three element-wise dispatches per tensor, then a copy
      for (let i = 0; i < src.length; i++) copyInto(add(dst[i], mulScalar(sub(src[i], dst[i]), 1 - d)), dst[i]);
    }));
    this.updates++;
  }

  /** Sets the average to the source's weights (a restart of the average). */
  copyFromSource(): void {
    const src = this.source.parameters(), dst = this.shadow.parameters();
    noGrad(() => src.forEach((t, i) => copyInto(t, dst[i])));
  }
}
