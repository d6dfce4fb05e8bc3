// A prior over token grids: the transformer backbone plus the input layout of its kind.
//   AR:        inputs [cond, x_0 … x_{L−2}]  → outputs at positions 0..L−1 predict x_0 … x_{L−1}
//   diffusion: inputs [cond, x_b]            → outputs at positions 1..L predict x_a   (bidirectional)
//   d3pm:      inputs [cond, time t, x_t]    → outputs at positions 2..L+1 predict x_0 (bidirectional)
//   mask:      inputs [cond, x with masks]   → outputs at positions 1..L predict x     (bidirectional)

import { Module } from '../../nn/module.js';
import { slice } from '../../ops/layout.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Transformer } from '../transformer/transformer.js';
import { prefixLength, type PriorConfig } from './config.js';

export class Prior extends Module {
  readonly net: Transformer;
  constructor(readonly config: PriorConfig) {
    super();
    this.net = this.child('net', new Transformer(config.transformer));
  }

  /**
   * inputs [B, L+1] (AR: [B, L], the last content token is never an input; d3pm: [B, L+2]) →
   * content logits [B, L, K] aligned so that row i predicts content token i.
   */
  contentLogits(inputs: Tensor): Tensor {
    const logits = this.net.forward(inputs);
    const T = logits.shape[1];
    return this.config.prior === 'ar' ? logits : slice(logits, 1, prefixLength(this.config), T);
  }
}
