// Classifier-free guidance as a wrapper around a logits function: the wrapped function runs the
// conditional and the unconditional rows in ONE batch of 2B rows (rows 0..B−1 conditional, rows
// B..2B−1 unconditional) and mixes their logits per position,
//   guided = uncond + S·(cond − uncond)   computed as S·cond + (1 − S)·uncond,
// which is exactly `cond` at S = 1 and exactly `uncond` at S = 0. The samplers never know: they get
// a logits function of B rows like any other, so every sampler (AR with its KV cache, diffusion, mask,
// D3PM, whose logits function also takes the noise level) is guided without a change to its body.
// Like the samplers, nothing here imports a model.
//
// Schedules of S over the sampling steps (u = progress in [0, 1]):
//   constant: S at every step;  linear: 1 + (S − 1)·u, a ramp from plain conditional to S.
// AR: u = (index of the content token predicted) / (L − 1). Diffusion/mask/D3PM: u = (call index) /
// (steps − 1), one call per step (a sampler that stops early simply never reaches S).

import { add, mulScalar } from '../ops/elementwise.js';
import { concat, slice } from '../ops/layout.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { CachedLogits } from './ar.js';

export const GUIDANCE_SCHEDULES = ['constant', 'linear'] as const;
export type GuidanceSchedule = (typeof GUIDANCE_SCHEDULES)[number];

export interface GuidanceOptions {
  /** S: 1 = plain conditional, 0 = unconditional, > 1 = guided */
  scale: number;
  schedule?: GuidanceSchedule;
}

export function checkGuidance(o: GuidanceOptions): void {
  if (!Number.isFinite(o.scale)) throw new Error(`guidance scale must be a finite number, got ${o.scale}.`);
  if (o.schedule !== undefined && !GUIDANCE_SCHEDULES.includes(o.schedule)) {
    throw new Error(`guidance schedule must be one of ${GUIDANCE_SCHEDULES.join(', ')}, got '${o.schedule}'.`);
  }
}

/** S at progress u ∈ [0, 1] of the sampling. */
export function guidanceScaleAt(o: GuidanceOptions, u: number): number {
  const v = Math.min(1, Math.max(0, u));
  return (o.schedule ?? 'constant') === 'linear' ? 1 + (o.scale - 1) * v : o.scale;
}

/** S·cond + (1 − S)·uncond (same shapes). */
export function mixGuidance(cond: Tensor, uncond: Tensor, s: number): Tensor {
  return add(mulScalar(cond, s), mulScalar(uncond, 1 - s));
}

/** Logits [2B, …] of the stacked conditional and unconditional rows → mixed logits [B, …]. */
export function mixStacked(logits: Tensor, B: number, s: number): Tensor {
  if (logits.shape[0] !== 2 * B) throw new Error(`guidance: expected logits for ${2 * B} rows (conditional + unconditional), got [${logits.shape}].`);
  return mixGuidance(slice(logits, 0, 0, B), slice(logits, 0, B, 2 * B), s);
}

function checkRows(what: string, t: Int32Array, B: number): void {
  if (t.length !== B) throw new Error(`guidance: ${t.length} ${what} tokens for a batch of ${B}.`);
}

/**
 * Guided AR logits. `logits` is the model's cached forward over 2B rows (a KV cache of 2B rows);
 * the result is a cached logits function of B rows for `sampleAR`. At position 0 the first input
 * column holds the conditioning tokens (the sampler's `start`); the unconditional rows get
 * `uncond` there instead; every later input is the same token for both halves of the batch.
 */
export function guideCached(logits: CachedLogits, o: GuidanceOptions & { batch: number; length: number; uncond: Int32Array }): CachedLogits {
  checkGuidance(o);
  const B = o.batch;
  checkRows('unconditional', o.uncond, B);
  return (inputs: Tensor, pos: number): Tensor => {
    if (inputs.shape[0] !== B) throw new Error(`guidance: inputs for ${inputs.shape[0]} rows, expected ${B}.`);
    const n = inputs.shape[1];
    let other = inputs;
    if (pos === 0) {
      const u = tensor(o.uncond, [B, 1]);
      other = n > 1 ? concat([u, slice(inputs, 1, 1, n)], 1) : u;
    }
    const lg = logits(concat([inputs, other], 0), pos); // [2B, n, V]
    const predicted = pos + n - 1; // index of the content token the last output predicts
    return mixStacked(lg, B, guidanceScaleAt(o, o.length > 1 ? predicted / (o.length - 1) : 1));
  };
}

/**
 * A bidirectional logits function that takes its conditioning tokens per row: (x [R, L], cond [R],
 * …rest) → [R, L, K]. `rest`: further arguments passed through unchanged (D3PM: the noise level t).
 */
export type ConditionedLogits<A extends unknown[] = []> = (x: Tensor, cond: Int32Array, ...rest: A) => Tensor;

/**
 * Guided diffusion/mask/D3PM logits: one call of `logits` on 2B rows per sampler step (the same
 * tokens, conditioned on `cond` then on `uncond`; any further arguments, such as D3PM's noise level,
 * passed to both halves). `steps` spreads a schedule over the calls.
 */
export function guideFull<A extends unknown[] = []>(logits: ConditionedLogits<A>, o: GuidanceOptions & { cond: Int32Array; uncond: Int32Array; steps: number }): (x: Tensor, ...rest: A) => Tensor {
  checkGuidance(o);
  const B = o.cond.length;
  checkRows('unconditional', o.uncond, B);
  const both = new Int32Array(2 * B);
  both.set(o.cond, 0);
  both.set(o.uncond, B);
  let call = 0;
  return (x: Tensor, ...rest: A): Tensor => {
    if (x.shape[0] !== B) throw new Error(`guidance: tokens for ${x.shape[0]} rows, expected ${B}.`);
    const s = guidanceScaleAt(o, o.steps > 1 ? call / (o.steps - 1) : 1);
    call++;
    return mixStacked(logits(concat([x, x], 0), both, ...rest), B, s);
  };
}
