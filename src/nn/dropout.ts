// Dropout: in training mode zeroes each element with probability p and scales the survivors by
// 1/(1−p) (so evaluation needs no rescaling); in eval mode, or with p = 0, it is the identity.
// The mask comes from a GPU generator (ops/random.ts): reproducible from its seed, no readback.

import { dropout } from '../ops/dropout.js';
import { defaultGenerator, type Generator } from '../ops/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly generator: Generator = defaultGenerator()) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}.`);
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, this.generator);
  }
}
