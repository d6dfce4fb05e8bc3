// Building blocks of the encoder and decoder: a pre-activation residual block (GroupNorm → SiLU →
// conv3×3, twice, plus a 1×1 skip when the width changes). Tensors are NCHW.

import { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';
import { GroupNorm } from '../../nn/norm.js';
import { add } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';

export class ResBlock extends Module {
  private n1: GroupNorm;
  private c1: Conv2d;
  private n2: GroupNorm;
  private c2: Conv2d;
  private skip: Conv2d | null;

  constructor(cin: number, cout: number, groups: number) {
    super();
    this.n1 = this.child('norm1', new GroupNorm(Math.min(groups, cin), cin));
    this.c1 = this.child('conv1', new Conv2d(cin, cout, { kernel: 3, padding: 1 }));
    this.n2 = this.child('norm2', new GroupNorm(Math.min(groups, cout), cout));
    this.c2 = this.child('conv2', new Conv2d(cout, cout, { kernel: 3, padding: 1 }));
    this.skip = cin !== cout ? this.child('skip', new Conv2d(cin, cout, { kernel: 1 })) : null;
  }

  /** x [N, cin, H, W] → [N, cout, H, W] */
  forward(x: Tensor): Tensor {
    // GroupNorm → SiLU fused (groupNorm's `act`): one pass each way instead of two.
    const h = this.c2.forward(this.n2.forward(this.c1.forward(this.n1.forward(x, 'silu')), 'silu'));
    return add(this.skip ? this.skip.forward(x) : x, h);
  }
}
