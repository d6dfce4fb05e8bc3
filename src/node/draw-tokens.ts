// New token grids from a prior of any kind, with no figure: the arrow prior → sampler shared by
// `sample`, `eval-samples` and `compare`. AR: one KV-cached pass (conditional and unconditional
// rows in one batch when guided); diffusion/mask: their step samplers on the (guided) full logits;
// D3PM diffusion priors (config.noise 'd3pm'): the D3PM sampler on the (guided) timed logits, with
// the prior's own schedule.

import { isD3PM, maskToken } from '../models/prior/config.js';
import { alphaBars } from '../models/prior/d3pm.js';
import type { Prior } from '../models/prior/prior.js';
import { sampleAR } from '../sample/ar.js';
import { D3PM_SAMPLER_DEFAULTS, sampleD3PM } from '../sample/d3pm.js';
import { DIFFUSION_SAMPLER_DEFAULTS, sampleDiffusion, sampleMask, type DiffusionSampleOptions, type MaskSampleOptions } from '../sample/diffusion.js';
import type { GuidanceOptions } from '../sample/guidance.js';
import { cachedLogitsOf, fullLogitsOf, timedLogitsOf } from './prior-guidance.js';

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
    return sampleD3PM(fn, shape, {
      ...filter, steps: o.steps, seed: o.seed, codebook: config.codebook, alphaBar: alphaBars(config.timesteps!),
      correctorSteps, finalArgmax: d.finalArgmax ?? D3PM_SAMPLER_DEFAULTS.finalArgmax, fixedMask: d.fixedMask, given: d.given, onStep: d.onStep,
    });
  }
  const fn = fullLogitsOf(prior, o.start, o.guidance, o.steps);
  const { steps: _s, temperature: _t, ...chain } = DIFFUSION_SAMPLER_DEFAULTS;
  const common = { ...chain, ...o.diffusion, ...filter, steps: o.steps, seed: o.seed, codebook: config.codebook };
  return config.prior === 'mask' ? sampleMask(fn, shape, { ...common, maskToken: maskToken(config) }) : sampleDiffusion(fn, shape, common);
}
