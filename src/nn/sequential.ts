// Sequential: applies layers in order. Modules are registered under their position ("0", "2", ...);
// plain functions (activations such as relu) run in place but own no state, as in PyTorch's
// numbering where `Sequential(Linear, GELU, Linear)` names its parameters 0.* and 2.*.

import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** A module with a one-tensor forward. */
export interface Layer extends Module {
  forward(x: Tensor): Tensor;
}

export type SequentialItem = Layer | ((x: Tensor) => Tensor);

export class Sequential extends Module {
  readonly steps: readonly SequentialItem[];

  constructor(...steps: SequentialItem[]) {
    super();
    this.steps = steps;
    steps.forEach((s, i) => {
      if (s instanceof Module) this.child(String(i), s);
    });
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const s of this.steps) y = s instanceof Module ? s.forward(y) : s(y);
    return y;
  }
}
