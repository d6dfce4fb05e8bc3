// Normalisation layers over ops/norm.ts: LayerNorm over the last axis, GroupNorm over the channel
// axis (1) of [N, C, ...]. Affine weight starts at 1, bias at 0.

import { full } from '../ops/creation.js';
import { groupNorm, layerNorm, type NormAct } from '../ops/norm.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

export class LayerNorm extends Module {
  /** [D] */
  readonly weight: Tensor | null;
  /** [D] */
  readonly bias: Tensor | null;

  constructor(readonly dim: number, readonly eps = 1e-5, affine = true) {
    super();
    this.weight = affine ? this.param('weight', full([dim], 1)) : null;
    this.bias = affine ? this.param('bias', full([dim], 0)) : null;
  }

  /** x [..., D] → same shape */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight ?? undefined, this.bias ?? undefined, this.eps);
  }
}

export class GroupNorm extends Module {
  /** [C] */
  readonly weight: Tensor | null;
  /** [C] */
  readonly bias: Tensor | null;

  constructor(readonly groups: number, readonly channels: number, readonly eps = 1e-5, affine = true) {
    super();
    if (!(Number.isInteger(groups) && groups > 0 && channels % groups === 0)) {
      throw new Error(`GroupNorm: ${channels} channels do not split into ${groups} groups.`);
    }
    this.weight = affine ? this.param('weight', full([channels], 1)) : null;
    this.bias = affine ? this.param('bias', full([channels], 0)) : null;
  }

  /** x [N, C, ...] → same shape; `act` fuses an activation after the norm (one pass each way) */
  forward(x: Tensor, act: NormAct = 'none'): Tensor {
    return groupNorm(x, this.groups, this.weight ?? undefined, this.bias ?? undefined, this.eps, act);
  }
}
