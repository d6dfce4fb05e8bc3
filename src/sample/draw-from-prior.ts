// The arrow prior → sampler (here, beside the samplers: models never import samplers), browser-safe: a loaded Prior as the logits functions the samplers of
// src/sample/ take (plain, or guided: conditional and unconditional rows in one 2B-row batch, see
// src/sample/guidance.ts), and new token grids from a prior of any kind with no figure. Shared by
// the CLI (`sample`, `eval-samples`, `compare`) and the web page, so that both draw the same tokens
// for the same seed. AR: one KV-cached pass; diffusion/mask: their step samplers on the full logits;
// D3PM diffusion priors (config.noise 'd3pm'): the D3PM sampler on the timed logits, with the
// prior's own schedule.

import { concat } from '../ops/layout.js';
import { argmax } from '../ops/reduce.js';
import { keep } from '../tensor/scope.js';
import { sampleAR, type CachedLogits } from './ar.js';
import { D3PM_SAMPLER_DEFAULTS, sampleD3PM, type TimedLogits } from './d3pm.js';
import { DIFFUSION_SAMPLER_DEFAULTS, sampleDiffusion, sampleMask, type DiffusionSampleOptions, type FullLogits, type MaskSampleOptions } from './diffusion.js';
import { guideCached, guideFull, type ConditionedLogits, type GuidanceOptions } from './guidance.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { disposeCache } from '../models/transformer/transformer.js';
import { isD3PM, maskToken, nullToken, timeToken } from '../models/prior/config.js';
import { alphaBars } from '../models/prior/d3pm.js';
import type { Prior } from '../models/prior/prior.js';

/** The bidirectional prior as a logits function of content tokens and per-row conditioning tokens. */
export function priorConditionedLogits(prior: Prior): ConditionedLogits {
  return (x: Tensor, cond: Int32Array) => prior.contentLogits(concat([tensor(cond, [cond.length, 1]), x], 1));
}

/** Diffusion/mask logits for conditioning tokens `start` [B], guided when `g` is given. */
export function fullLogitsOf(prior: Prior, start: Int32Array, g: GuidanceOptions | null, steps: number): FullLogits {
  const f = priorConditionedLogits(prior);
  if (!g) return (x: Tensor) => f(x, start);
  return guideFull(f, { ...g, cond: start, uncond: new Int32Array(start.length).fill(nullToken(prior.config)), steps });
}

/**
 * The D3PM prior as a logits function of content tokens x_t [R, L], per-row conditioning tokens and
 * the noise level t: inputs [cond, time token of t, x_t] ([R, L+2]). A self-conditioned prior reads
 * the argmax of its previous call's prediction per row (none at the first call): the function keeps
 * it between calls, so it belongs to one chain; `dispose` frees it.
 */
export function priorTimedLogits(prior: Prior): { logits: ConditionedLogits<[number]>; dispose: () => void } {
  let estimate: Tensor | null = null; // [R, L] i32
  const dispose = () => {
    estimate?.dispose();
    estimate = null;
  };
  const logits = (x: Tensor, cond: Int32Array, t: number) => {
    const R = cond.length;
    const time = new Int32Array(R).fill(timeToken(prior.config, t));
    const lg = prior.contentLogits(concat([tensor(cond, [R, 1]), tensor(time, [R, 1]), x], 1), estimate?.shape[0] === R ? estimate : undefined);
    if (prior.config.selfCondition) {
      dispose();
      estimate = keep(argmax(lg, -1));
    }
    return lg;
  };
  return { logits, dispose };
}

/**
 * D3PM logits for conditioning tokens `start` [B], guided when `g` is given (`calls`: the sampler's
 * evaluations, for a schedule). Call `dispose` when the chain is done.
 */
export function timedLogitsOf(prior: Prior, start: Int32Array, g: GuidanceOptions | null, calls: number): { logits: TimedLogits; dispose: () => void } {
  const { logits: f, dispose } = priorTimedLogits(prior);
  if (!g) return { logits: (x: Tensor, t: number) => f(x, start, t), dispose };
  return { logits: guideFull(f, { ...g, cond: start, uncond: new Int32Array(start.length).fill(nullToken(prior.config)), steps: calls }), dispose };
}

/**
 * The AR prior's cached logits for a batch of B (guided: a KV cache of 2B rows, conditional and
 * unconditional in one batch). Call `dispose` when sampling is done.
 */
export function cachedLogitsOf(prior: Prior, B: number, g: GuidanceOptions | null): { logits: CachedLogits; dispose: () => void } {
  const rows = g ? 2 * B : B;
  const cache = prior.net.newCache(rows);
  const plain: CachedLogits = (inputs, pos) => prior.net.forwardCached(inputs, cache, pos);
  const L = prior.config.grid ** 2;
  const logits = g ? guideCached(plain, { ...g, batch: B, length: L, uncond: new Int32Array(B).fill(nullToken(prior.config)) }) : plain;
  return { logits, dispose: () => disposeCache(cache) };
}

export interface DrawOptions {
  /** conditioning token per grid [n] */
  start: Int32Array;
  guidance: GuidanceOptions | null;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  /** diffusion/mask: denoising steps */
  steps: number;
  /**
   * diffusion/mask: the samplers' further options (default: DIFFUSION_SAMPLER_DEFAULTS; D3PM:
   * D3PM_SAMPLER_DEFAULTS, of which it reads correctorSteps, finalArgmax, fixedMask/given, onStep)
   */
  diffusion?: Partial<MaskSampleOptions & DiffusionSampleOptions> & { correctorSteps?: number };
}

/** n grids [n, L] row-major, and the network evaluations it took (per batch row). */
export async function drawTokens(prior: Prior, n: number, o: DrawOptions): Promise<{ tokens: Int32Array; evals: number }> {
  const config = prior.config;
  const L = config.grid ** 2;
  const filter = { temperature: o.temperature, topK: o.topK, topP: o.topP };
  if (config.prior === 'ar') {
    const lf = cachedLogitsOf(prior, n, o.guidance);
    try {
      return { tokens: await sampleAR(lf.logits, { batch: n, length: L }, { ...filter, seed: o.seed, start: o.start }), evals: L };
    } finally {
      lf.dispose();
    }
  }
  const shape = { batch: n, length: L };
  if (isD3PM(config)) {
    const d = o.diffusion ?? {};
    const correctorSteps = d.correctorSteps ?? D3PM_SAMPLER_DEFAULTS.correctorSteps;
    const fn = timedLogitsOf(prior, o.start, o.guidance, o.steps + correctorSteps);
    try {
      return await sampleD3PM(fn.logits, shape, {
        ...filter, steps: o.steps, seed: o.seed, codebook: config.codebook, alphaBar: alphaBars(config.timesteps!),
        correctorSteps, finalArgmax: d.finalArgmax ?? D3PM_SAMPLER_DEFAULTS.finalArgmax, fixedMask: d.fixedMask, given: d.given, onStep: d.onStep,
      });
    } finally {
      fn.dispose();
    }
  }
  const fn = fullLogitsOf(prior, o.start, o.guidance, o.steps + (config.prior === 'mask' ? 0 : (o.diffusion?.correctorSteps ?? 0)));
  const { steps: _s, temperature: _t, ...chain } = DIFFUSION_SAMPLER_DEFAULTS;
  const common = { ...chain, ...o.diffusion, ...filter, steps: o.steps, seed: o.seed, codebook: config.codebook };
  return config.prior === 'mask' ? sampleMask(fn, shape, { ...common, maskToken: maskToken(config) }) : sampleDiffusion(fn, shape, common);
}
