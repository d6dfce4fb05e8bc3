// New token grids from a prior of any kind, with no figure: the arrow prior → sampler shared by
// `sample`, `eval-samples` and `compare`. AR: one KV-cached pass (conditional and unconditional
// rows in one batch when guided); diffusion/mask: their step samplers on the (guided) full logits.

import { maskToken } from '../models/prior/config.js';
import type { Prior } from '../models/prior/prior.js';
import { sampleAR } from '../sample/ar.js';
import { DIFFUSION_SAMPLER_DEFAULTS, sampleDiffusion, sampleMask, type MaskSampleOptions } from '../sample/diffusion.js';
import type { GuidanceOptions } from '../sample/guidance.js';
import { cachedLogitsOf, fullLogitsOf } from './prior-guidance.js';

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
  /** diffusion/mask: the samplers' further options (default: DIFFUSION_SAMPLER_DEFAULTS) */
  diffusion?: Partial<MaskSampleOptions>;
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
  const fn = fullLogitsOf(prior, o.start, o.guidance, o.steps);
  const { steps: _s, temperature: _t, ...chain } = DIFFUSION_SAMPLER_DEFAULTS;
  const common = { ...chain, ...o.diffusion, ...filter, steps: o.steps, seed: o.seed, codebook: config.codebook };
  const shape = { batch: n, length: L };
  return config.prior === 'mask' ? sampleMask(fn, shape, { ...common, maskToken: maskToken(config) }) : sampleDiffusion(fn, shape, common);
}
