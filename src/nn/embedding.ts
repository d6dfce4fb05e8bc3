// Embedding: a table [V, D] of learned rows looked up by i32 indices [...] → [..., D].
// Initialised N(0, std²) (PyTorch uses std 1; transformers often 0.02).

import { embedding } from '../ops/embedding.js';
import type { Tensor } from '../tensor/tensor.js';
import { initRng, normal, type InitRng } from './init.js';
import { Module } from './module.js';

export class Embedding extends Module {
  /** [V, D] */
  readonly weight: Tensor;

  constructor(readonly numEmbeddings: number, readonly dim: number, opts: { std?: number; rng?: InitRng } = {}) {
    super();
    if (!(Number.isInteger(numEmbeddings) && numEmbeddings > 0 && Number.isInteger(dim) && dim > 0)) {
      throw new Error(`Embedding: sizes must be positive integers, got ${numEmbeddings} × ${dim}.`);
    }
    this.weight = this.param('weight', normal([numEmbeddings, dim], 0, opts.std ?? 1, opts.rng ?? initRng()));
  }

  /** indices: i32 [...] → [..., D] */
  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight);
  }
}
