// The prior's one typed config (saved in its checkpoints). The token vocabulary of the transformer's
// input is laid out as: [0, K) codes | K start | K+1 mask (mask kind) | one token per class | then,
// for the D3PM diffusion prior only, one token per noise level t = 1..T.

import type { TransformerConfig } from '../transformer/config.js';

export type PriorKind = 'ar' | 'diffusion' | 'mask';
export const PRIOR_KINDS: readonly PriorKind[] = ['ar', 'diffusion', 'mask'];

/**
 * The noise scheme of a diffusion prior: 'seed' (the seed's x_a/x_b scheme, src/models/prior/noise.ts)
 * or 'd3pm' (uniform noise at a cosine-scheduled level t given to the network, x_0 predicted,
 * src/models/prior/d3pm.ts).
 */
export const DIFFUSION_NOISES = ['seed', 'd3pm'] as const;
export type DiffusionNoise = (typeof DIFFUSION_NOISES)[number];

export interface PriorConfig {
  kind: 'vqgpu-prior';
  version: 1;
  prior: PriorKind;
  /** codebook size K (the cache's) */
  codebook: number;
  /** token grid side */
  grid: number;
  /** number of class labels (0: unconditional) */
  classes: number;
  /** class-conditional: the class names (the token cache's labels), by index */
  classNames?: string[];
  /** class-conditional: items per class in the training split (for drawing classes at sampling time) */
  classCounts?: number[];
  /**
   * class-conditional: fraction of training items whose label is dropped (replaced by the
   * start token, the null class) so that the same network also learns the unconditional model
   * that classifier-free guidance needs. Absent in older checkpoints: 0.
   */
  labelDrop?: number;
  /** the token cache's tokenizer checksum (a cache from another tokenizer is refused) */
  tokenizerChecksum: string;
  /** seed scheme: the extra fraction replaced to make x_b from x_a */
  extraNoise: number;
  /**
   * mask scheme: the minimum mask ratio of training (the cosine schedule truncated there); absent
   * in checkpoints from before it existed, which trained with 0 (at least one masked position)
   */
  minMaskRatio?: number;
  /** diffusion: the noise scheme; absent: 'seed' (every checkpoint from before D3PM) */
  noise?: DiffusionNoise;
  /** d3pm: the number T of discrete noise levels t = 1..T (each one input token) */
  timesteps?: number;
  /**
   * d3pm: self-conditioning (Chen et al. 2022, "Analog Bits"): the network also reads an estimate of
   * x_0 (the argmax of its own previous prediction, one learned embedding per code plus "none",
   * added to the content positions' input embeddings); absent: false
   */
  selfCondition?: boolean;
  transformer: TransformerConfig;
}

/**
 * d3pm: the default number of noise levels T. Each level is one learned input embedding, so every
 * level must be seen often enough in a CPU-minutes run (600 steps × batch 32 = 19,200 items: 300 per
 * level at T = 64, 19 at D3PM's T = 1000); neighbouring levels of 64 differ little in ᾱ_t. 64 is
 * also a multiple of the samplers' default 32 steps, so sampling visits trained levels exactly.
 */
export const D3PM_TIMESTEPS = 64;

/** MaskGIT's training settings, the mask prior's defaults. */
export const MASK_DEFAULTS = { minMaskRatio: 0.05, labelSmoothing: 0.1 } as const;

export function startToken(c: PriorConfig): number {
  return c.codebook;
}
export function maskToken(c: PriorConfig): number {
  return c.codebook + 1;
}
/** Conditioning token of class `label` (or the start token when unconditional / label < 0). */
export function conditionToken(c: PriorConfig, label: number): number {
  return c.classes > 0 && label >= 0 && label < c.classes ? c.codebook + 2 + label : startToken(c);
}

/** The conditioning token of the unconditional (null) class: the start token. */
export function nullToken(c: PriorConfig): number {
  return startToken(c);
}

/** The diffusion noise scheme of a prior ('seed' for every non-D3PM prior, the other kinds included). */
export function noiseOf(c: PriorConfig): DiffusionNoise {
  return c.noise ?? 'seed';
}

/** True for the D3PM diffusion prior. */
export function isD3PM(c: PriorConfig): boolean {
  return c.prior === 'diffusion' && c.noise === 'd3pm';
}

/** d3pm: the input token of noise level t ∈ 1..T (after the class tokens). */
export function timeToken(c: PriorConfig, t: number): number {
  const T = c.timesteps ?? 0;
  if (!isD3PM(c) || !(Number.isInteger(t) && t >= 1 && t <= T)) throw new Error(`timeToken: noise level ${t} is not in 1..${T} of a d3pm prior.`);
  return c.codebook + 2 + c.classes + t - 1;
}

/**
 * Input positions before the content tokens: 1 (the conditioning token), or 2 for D3PM
 * ([conditioning token, noise-level token, content…]).
 */
export function prefixLength(c: PriorConfig): number {
  return isD3PM(c) ? 2 : 1;
}

/**
 * A prior as printed, reported and picked: its kind, with the diffusion kind's D3PM variant
 * (`--noise d3pm`) apart from the seed's scheme, since the two sample differently.
 */
export type PriorVariant = PriorKind | 'diffusion-d3pm';
export const PRIOR_VARIANTS: readonly PriorVariant[] = ['ar', 'diffusion', 'diffusion-d3pm', 'mask'];

/** The variant of a prior: 'ar', 'diffusion', 'diffusion-d3pm' or 'mask'. */
export function kindLabel(c: PriorConfig): PriorVariant {
  return isD3PM(c) ? 'diffusion-d3pm' : c.prior;
}

/** A variant as `train-prior` flags: its --kind, and --noise for the diffusion kind. */
export function variantKind(v: PriorVariant): { kind: PriorKind; noise?: DiffusionNoise } {
  return v === 'diffusion-d3pm' ? { kind: 'diffusion', noise: 'd3pm' } : { kind: v };
}

export function makePriorConfig(o: {
  prior: PriorKind; codebook: number; grid: number; classes: number; tokenizerChecksum: string;
  dim: number; layers: number; heads: number; dropout?: number; extraNoise?: number; minMaskRatio?: number;
  classNames?: string[]; classCounts?: number[]; labelDrop?: number; noise?: DiffusionNoise; timesteps?: number; selfCondition?: boolean;
}): PriorConfig {
  const L = o.grid * o.grid;
  const noise = o.noise ?? 'seed';
  if (!DIFFUSION_NOISES.includes(noise)) throw new Error(`prior config: noise must be one of ${DIFFUSION_NOISES.join(', ')}, got '${noise}'.`);
  if (noise === 'd3pm' && o.prior !== 'diffusion') throw new Error(`prior config: the d3pm noise applies to the diffusion prior only, not '${o.prior}'.`);
  const d3pm = noise === 'd3pm';
  if (o.selfCondition && !d3pm) throw new Error('prior config: self-conditioning applies to the d3pm diffusion prior only.');
  const T = o.timesteps ?? D3PM_TIMESTEPS;
  if (d3pm && !(Number.isInteger(T) && T >= 2)) throw new Error(`prior config: d3pm timesteps must be an integer ≥ 2, got ${T}.`);
  const cls = o.classes > 0 ? { classNames: o.classNames, classCounts: o.classCounts, labelDrop: o.labelDrop ?? 0 } : {};
  return {
    kind: 'vqgpu-prior', version: 1, prior: o.prior, codebook: o.codebook, grid: o.grid, classes: o.classes, ...cls,
    tokenizerChecksum: o.tokenizerChecksum, extraNoise: o.extraNoise ?? 0.1,
    ...(o.prior === 'mask' ? { minMaskRatio: o.minMaskRatio ?? MASK_DEFAULTS.minMaskRatio } : {}),
    ...(d3pm ? { noise, timesteps: T } : {}),
    ...(o.selfCondition ? { selfCondition: true } : {}),
    transformer: {
      kind: 'vqgpu-transformer', version: 1,
      vocabIn: o.codebook + 2 + o.classes + (d3pm ? T : 0), vocabOut: o.codebook,
      // position 0 holds the conditioning token (d3pm: position 1 the noise-level token); content follows
      seqLen: L + (d3pm ? 2 : 1),
      dim: o.dim, layers: o.layers, heads: o.heads, mlpRatio: 4, dropout: o.dropout ?? 0,
      causal: o.prior === 'ar',
    },
  };
}

export function checkPriorConfig(c: unknown, source: string): PriorConfig {
  const p = c as PriorConfig;
  if (!p || p.kind !== 'vqgpu-prior') {
    const kind = (c as { kind?: string } | null)?.kind ?? 'unknown';
    throw new Error(`${source} is not a prior checkpoint (its config says kind '${kind}', expected 'vqgpu-prior').`);
  }
  if (p.version !== 1) throw new Error(`${source}: prior config version ${p.version} is not supported.`);
  if (p.noise !== undefined && !DIFFUSION_NOISES.includes(p.noise)) throw new Error(`${source}: unknown diffusion noise '${p.noise}' (this vqgpu knows ${DIFFUSION_NOISES.join(', ')}).`);
  if (p.noise === 'd3pm' && !(Number.isInteger(p.timesteps) && p.timesteps! >= 2)) throw new Error(`${source}: a d3pm prior without valid timesteps (${p.timesteps}).`);
  if (p.selfCondition && p.noise !== 'd3pm') throw new Error(`${source}: self-conditioning is set on a prior that is not d3pm.`);
  return p;
}
