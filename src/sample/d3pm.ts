// The D3PM sampler (uniform noise, x0-parameterisation; the math in src/models/prior/d3pm.ts). Like
// every sampler it is a function of a logits function, a shape and options, and never sees a model:
//   logits(x i32 [B, L], t) → f32 [B, L, K]   the prediction of x_0 from x_t at noise level t ∈ 1..T
// and the schedule ᾱ_0..ᾱ_T arrives as an option (the prior's), so the sampler knows uniform noise,
// not a particular schedule.
//
// From uniformly random tokens (x_T: ᾱ_T = 0), S steps over the levels T = t_S > … > t_1 > t_0 = 0
// (t_i = round(i·T/S), so every visited level is one the network was trained at): step i draws
// x_{t_{i−1}} per position from the posterior marginalised over the prediction,
//   p(x_s = j | x_t = k) = [α δ_jk + (1−α)/K]·[ᾱ_s·w_j + (1−ᾱ_s)/K·Σ_i w_i],
//   w_i = p(x_0 = i | x_t) / q(x_t = k | x_0 = i),  α = ᾱ_t/ᾱ_s,
// computed on the GPU ([N, K] elementwise ops and one row sum; no readback of logits). The last step
// (s = 0) is the argmax of x̂_0 (`finalArgmax`, default) or a draw from it. Temperature, top-k and
// top-p filter the x̂_0 logits (a guided logits function mixes them before that).
// Corrector steps (optional): at the lowest level t_1, before the last step, C times: re-noise x
// forward to t_2 (q(x_{t_2} | x_{t_1}), uniform replacement with probability 1 − ᾱ_{t_2}/ᾱ_{t_1}), then
// one reverse step back to t_1. With an exact network this Markov kernel leaves q(x_{t_1}) invariant,
// so it can only fix inconsistencies that the coarse S-step chain left (one evaluation each).
// Completion (fixedMask/given): the given positions are set to a draw of q(x_s | x_0 = given) at
// every level (RePaint's replacement; exact given tokens at s = 0), so the network sees them noised
// like everything else, as in training.

import { noGrad } from '../autograd/tape.js';
import { affine, add, clamp, div, log, mulScalar } from '../ops/elementwise.js';
import { embedding } from '../ops/embedding.js';
import { reshape } from '../ops/layout.js';
import { Generator, randInt, sampleCategorical } from '../ops/random.js';
import { argmax, sum } from '../ops/reduce.js';
import { softmax } from '../ops/softmax.js';
import { tidy } from '../tensor/scope.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import type { DiffusionSample, DiscreteSampleOptions } from './diffusion.js';
import { hostUniform } from './host-random.js';
import { checkFilterOptions, filterLogits } from './filter.js';
import type { SampleShape } from './ar.js';

/** (x [B, L] at level t, t ∈ 1..T) → x̂_0 logits [B, L, K]. */
export type TimedLogits = (x: Tensor, t: number) => Tensor;

export interface D3PMSampleOptions extends DiscreteSampleOptions {
  /** ᾱ_t for t = 0..T ([T + 1]; ᾱ_0 = 1, ᾱ_T = 0, decreasing): the prior's schedule */
  alphaBar: ArrayLike<number>;
  /** corrector steps at the lowest noise level before the last step (default 0) */
  correctorSteps?: number;
  /** the last step takes the argmax of x̂_0 instead of a draw (default true) */
  finalArgmax?: boolean;
}

/** `vqgpu sample`'s defaults for D3PM priors (steps: the same --steps as the other samplers). */
export const D3PM_SAMPLER_DEFAULTS = { steps: 32, correctorSteps: 0, finalArgmax: true } as const;

/** The levels t_0 = 0 < t_1 < … < t_S = T visited by S steps ([S + 1]); S must be in 1..T. */
export function d3pmLevels(S: number, T: number): number[] {
  if (!Number.isInteger(S) || S < 1 || S > T) throw new Error(`d3pm sampler: steps must be an integer in 1..${T} (the prior's noise levels), got ${S}.`);
  return Array.from({ length: S + 1 }, (_, i) => Math.round((i * T) / S));
}

/**
 * log p(x_s | x_t) up to a constant per row ([N, K]) from x̂_0 logits [N, K] (already filtered) and the
 * current tokens x_t [N]; `eye` is the [K, K] identity (one-hot rows by lookup). aS = ᾱ_s > aT = ᾱ_t.
 */
export function posteriorLogits(logits: Tensor, current: Tensor, eye: Tensor, aS: number, aT: number): Tensor {
  const K = logits.shape[1];
  if (!(aS > aT && aS <= 1 && aT >= 0)) throw new Error(`posteriorLogits: needs 1 ≥ ᾱ_s > ᾱ_t ≥ 0, got ${aS}, ${aT}.`);
  const alpha = aT / aS;
  const p = softmax(logits); // p(x_0 = i | x_t)
  const onehot = embedding(current, eye); // δ(i, x_t)
  const w = div(p, affine(onehot, aT, (1 - aT) / K)); // p_i / q(x_t | x_0 = i)
  const W = sum(w, -1, true); // [N, 1]
  const m = add(mulScalar(w, aS), mulScalar(W, (1 - aS) / K)); // Σ_i w_i q(x_s = j | x_0 = i)
  const f = affine(onehot, alpha, (1 - alpha) / K); // q(x_t | x_s = j)
  return add(log(f), log(clamp(m, 1e-30, 3e38)));
}

/** [K, K] identity. */
function identity(K: number): Tensor {
  const eye = new Float32Array(K * K);
  for (let k = 0; k < K; k++) eye[k * K + k] = 1;
  return tensor(eye, [K, K]);
}

async function readInts(t: Tensor): Promise<Int32Array> {
  const v = (await t.toArray()) as Int32Array;
  t.dispose();
  return v;
}

export async function sampleD3PM(logits: TimedLogits, shape: SampleShape, o: D3PMSampleOptions): Promise<DiffusionSample> {
  checkFilterOptions(o);
  const bars = o.alphaBar, T = bars.length - 1, K = o.codebook;
  if (!(T >= 1 && bars[0] === 1 && bars[T] === 0)) throw new Error(`sampleD3PM: alphaBar must run from ᾱ_0 = 1 to ᾱ_T = 0, got ${bars[0]} … ${bars[T]}.`);
  for (let t = 1; t <= T; t++) if (!(bars[t] < bars[t - 1])) throw new Error(`sampleD3PM: alphaBar must decrease (ᾱ_${t} = ${bars[t]} ≥ ᾱ_${t - 1}).`);
  const levels = d3pmLevels(o.steps, T);
  const C = o.correctorSteps ?? D3PM_SAMPLER_DEFAULTS.correctorSteps;
  if (!Number.isInteger(C) || C < 0) throw new Error(`sampleD3PM: correctorSteps must be a non-negative integer, got ${C}.`);
  if (C > 0 && o.steps < 2) throw new Error('sampleD3PM: corrector steps need at least 2 steps (they re-noise from t_1 to t_2).');
  const finalArgmax = o.finalArgmax ?? D3PM_SAMPLER_DEFAULTS.finalArgmax;
  const { batch: B, length: L } = shape;
  const gen = new Generator(o.seed ?? 0);
  const uniform = hostUniform(o.seed ?? 0);
  // Given positions at level s: a draw of q(x_s | x_0 = given).
  const holdGiven = (x: Int32Array, s: number) => {
    if (!o.fixedMask || !o.given) return;
    for (let i = 0; i < x.length; i++) if (o.fixedMask[i]) x[i] = uniform() < bars[s] ? o.given[i] : Math.floor(uniform() * K);
  };
  let x = await readInts(noGrad(() => randInt([B * L], gen, K)));
  holdGiven(x, T);
  let frame = 0, evals = 0;
  await o.onStep?.(frame++, x);
  const eye = identity(K);
  /** One reverse step x_t → x_s (s < t). */
  const step = async (t: number, s: number) => {
    const next = noGrad(() =>
      tidy(() => {
        const lg = filterLogits(reshape(logits(tensor(x, [B, L]), t), [B * L, K]), o);
        if (s > 0) return sampleCategorical(posteriorLogits(lg, tensor(x, [B * L]), eye, bars[s], bars[t]), gen, 1).keepAlive();
        return (finalArgmax ? argmax(lg, -1) : sampleCategorical(lg, gen, 1)).keepAlive();
      }),
    );
    x = await readInts(next);
    evals++;
    holdGiven(x, s);
    await o.onStep?.(frame++, x);
  };
  try {
    for (let i = o.steps; i >= 1; i--) {
      if (i === 1) {
        for (let c = 0; c < C; c++) {
          // forward t_1 → t_2: replace with probability 1 − ᾱ_{t_2}/ᾱ_{t_1} (a uniform code, maybe itself)
          const keepP = bars[levels[2]] / bars[levels[1]];
          for (let j = 0; j < x.length; j++) if (uniform() >= keepP) x[j] = Math.floor(uniform() * K);
          holdGiven(x, levels[2]);
          await step(levels[2], levels[1]);
        }
      }
      await step(levels[i], levels[i - 1]);
    }
  } finally {
    eye.dispose();
  }
  return { tokens: x, evals };
}
