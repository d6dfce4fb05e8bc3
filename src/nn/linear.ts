// Linear: y = x·W + b for x [..., in] → y [..., out].
// W is stored [in, out] (not PyTorch's [out, in]) so that the forward pass is a plain matmul with no
// transposed view; import PyTorch weights with a transpose. Initialised as PyTorch does:
// W, b ~ U(±1/√in).

import { fmt } from '../ops/launch.js';
import { linear, type ProductAct } from '../ops/matmul.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniform, type InitRng, initRng } from './init.js';
import { Module } from './module.js';

export class Linear extends Module {
  /** [in, out] */
  readonly weight: Tensor;
  /** [out] */
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true, rng: InitRng = initRng()) {
    super();
    if (!(Number.isInteger(inFeatures) && inFeatures > 0 && Number.isInteger(outFeatures) && outFeatures > 0)) {
      throw new Error(`Linear: features must be positive integers, got ${inFeatures} → ${outFeatures}.`);
    }
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.param('weight', uniform([inFeatures, outFeatures], -bound, bound, rng));
    this.bias = bias ? this.param('bias', uniform([outFeatures], -bound, bound, rng)) : null;
  }

  /** x [..., in] → [..., out]; `act` 'gelu': gelu(x·W + b), in the product's own pass where no gradient is taken. */
  forward(x: Tensor, act: ProductAct = 'none'): Tensor {
    if (x.rank === 0 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures} → ${this.outFeatures}): input ${fmt(x.shape)} must end in ${this.inFeatures}.`);
    }
    return linear(x, this.weight, this.bias, 'auto', act);
  }
}
