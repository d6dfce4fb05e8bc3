// Decoder, the encoder's mirror: z_q [N, D, G, G] → image [N, 3, S, S] (unbounded; trained toward
// [-1, 1]). conv3×3 from the code dimension → a middle residual block → per level (deepest first):
// a fused nearest-2×-upsample + conv3×3, then residual blocks → GroupNorm, SiLU, conv3×3 to RGB.

import { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';
import { GroupNorm } from '../../nn/norm.js';
import { silu } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ResBlock } from './blocks.js';
import type { TokenizerConfig } from './config.js';

export class Decoder extends Module {
  private stem: Conv2d;
  private mid: ResBlock;
  private levels: { up: Conv2d; blocks: ResBlock[] }[] = [];
  private norm: GroupNorm;
  /** the last layer: the adaptive adversarial weight compares gradient norms at its weight */
  readonly out: Conv2d;

  constructor(c: TokenizerConfig) {
    super();
    let ch = c.width * c.mult[c.mult.length - 1];
    this.stem = this.child('stem', new Conv2d(c.codeDim, ch, { kernel: 3, padding: 1 }));
    this.mid = this.child('mid', new ResBlock(ch, ch, c.groups));
    for (let i = c.mult.length - 1; i >= 0; i--) {
      // The upsampling conv already narrows to this level's width: at the largest resolution the
      // convolutions run at the smallest width (they dominate the cost).
      const out = c.width * c.mult[i];
      const up = this.child(`level${i}_up`, new Conv2d(ch, out, { kernel: 3, padding: 1, upsample: true }));
      const blocks = Array.from({ length: c.resBlocks }, (_, j) => this.child(`level${i}_block${j}`, new ResBlock(out, out, c.groups)));
      ch = out;
      this.levels.push({ up, blocks });
    }
    this.norm = this.child('norm', new GroupNorm(Math.min(c.groups, ch), ch));
    this.out = this.child('out', new Conv2d(ch, 3, { kernel: 3, padding: 1 }));
  }

  forward(z: Tensor): Tensor {
    let h = this.mid.forward(this.stem.forward(z));
    for (const l of this.levels) {
      h = l.up.forward(h);
      for (const b of l.blocks) h = b.forward(h);
    }
    return this.out.forward(silu(this.norm.forward(h)));
  }
}
