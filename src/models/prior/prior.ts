// A prior over token grids: the transformer backbone plus the input layout of its kind.
//   AR:        inputs [cond, x_0 … x_{L−2}]  → outputs at positions 0..L−1 predict x_0 … x_{L−1}
//   diffusion: inputs [cond, x_b]            → outputs at positions 1..L predict x_a   (bidirectional)
//   d3pm:      inputs [cond, time t, x_t]    → outputs at positions 2..L+1 predict x_0 (bidirectional)
//   mask:      inputs [cond, x with masks]   → outputs at positions 1..L predict x     (bidirectional)
// A self-conditioned d3pm prior also reads an estimate of x_0 [B, L] (codes, or K: none): one more
// embedding per content position, added to its input embedding (prefix positions: none).

import { noGrad } from '../../autograd/tape.js';
import { Embedding } from '../../nn/embedding.js';
import { argmax } from '../../ops/reduce.js';
import { Module } from '../../nn/module.js';
import { concat, slice } from '../../ops/layout.js';
import { tensor, type Tensor } from '../../tensor/tensor.js';
import { Transformer } from '../transformer/transformer.js';
import { prefixLength, type PriorConfig } from './config.js';

export class Prior extends Module {
  readonly net: Transformer;
  /** self-conditioning: [K + 1, dim], row K = no estimate */
  private readonly estimateEmbedding: Embedding | null;
  constructor(readonly config: PriorConfig) {
    super();
    this.net = this.child('net', new Transformer(config.transformer));
    this.estimateEmbedding = config.selfCondition ? this.child('estimate', new Embedding(config.codebook + 1, config.transformer.dim, { std: 0.02 })) : null;
  }

  /**
   * inputs [B, L+1] (AR: [B, L], the last content token is never an input; d3pm: [B, L+2]) →
   * content logits [B, L, K] aligned so that row i predicts content token i. `estimate` [B, L] i32:
   * a self-conditioned prior's x_0 estimate (absent: none; ignored by other priors).
   */
  contentLogits(inputs: Tensor, estimate?: Tensor): Tensor {
    const logits = this.net.forward(inputs, this.estimateEmbedding ? this.estimateInput(inputs, estimate) : undefined);
    const T = logits.shape[1];
    return this.config.prior === 'ar' ? logits : slice(logits, 1, prefixLength(this.config), T);
  }

  /**
   * A self-conditioned prior's logits as it trains with an estimate: a first pass without one (no
   * gradient), its argmax as the estimate of a second pass. [B, L, K]
   */
  selfConditionedLogits(inputs: Tensor): Tensor {
    return this.contentLogits(inputs, noGrad(() => argmax(this.contentLogits(inputs), -1)));
  }

  /** The estimate's embeddings [B, T, dim] for inputs [B, T]: none at the prefix (and everywhere without an estimate). */
  private estimateInput(inputs: Tensor, estimate?: Tensor): Tensor {
    const [B, T] = inputs.shape, none = this.config.codebook, P = prefixLength(this.config);
    const fill = (n: number) => tensor(new Int32Array(B * n).fill(none), [B, n]);
    return this.estimateEmbedding!.forward(estimate ? concat([fill(P), estimate], 1) : fill(T));
  }
}
