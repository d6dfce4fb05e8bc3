// The prior's one typed config (saved in its checkpoints). The token vocabulary of the transformer's
// input is laid out as: [0, K) codes | K start | K+1 mask (mask kind) | then one token per class.

import type { TransformerConfig } from '../transformer/config.js';

export type PriorKind = 'ar' | 'diffusion' | 'mask';

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
  transformer: TransformerConfig;
}

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

export function makePriorConfig(o: {
  prior: PriorKind; codebook: number; grid: number; classes: number; tokenizerChecksum: string;
  dim: number; layers: number; heads: number; dropout?: number; extraNoise?: number; minMaskRatio?: number;
  classNames?: string[]; classCounts?: number[]; labelDrop?: number;
}): PriorConfig {
  const L = o.grid * o.grid;
  const cls = o.classes > 0 ? { classNames: o.classNames, classCounts: o.classCounts, labelDrop: o.labelDrop ?? 0 } : {};
  return {
    kind: 'vqgpu-prior', version: 1, prior: o.prior, codebook: o.codebook, grid: o.grid, classes: o.classes, ...cls,
    tokenizerChecksum: o.tokenizerChecksum, extraNoise: o.extraNoise ?? 0.1,
    ...(o.prior === 'mask' ? { minMaskRatio: o.minMaskRatio ?? MASK_DEFAULTS.minMaskRatio } : {}),
    transformer: {
      kind: 'vqgpu-transformer', version: 1,
      vocabIn: o.codebook + 2 + o.classes, vocabOut: o.codebook,
      // position 0 holds the conditioning token; content tokens follow
      seqLen: L + 1,
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
  return p;
}
