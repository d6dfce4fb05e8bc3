// Encoder: image [N, 3, S, S] → continuous codes z_e [N, D, G, G].
// conv3×3 stem → per level: residual blocks, then a strided 4×4 conv halving the side →
// a middle residual block → GroupNorm, SiLU, 1×1 projection to the code dimension.

import { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';
import { GroupNorm } from '../../nn/norm.js';
import { silu } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ResBlock } from './blocks.js';
import type { TokenizerConfig } from './config.js';

export class Encoder extends Module {
  private stem: Conv2d;
  private levels: { blocks: ResBlock[]; down: Conv2d }[] = [];
  private mid: ResBlock;
  private norm: GroupNorm;
  private proj: Conv2d;

  constructor(c: TokenizerConfig) {
    super();
    this.stem = this.child('stem', new Conv2d(3, c.width, { kernel: 3, padding: 1 }));
    let ch = c.width;
    c.mult.forEach((m, i) => {
      const out = c.width * m;
      const blocks = Array.from({ length: c.resBlocks }, (_, j) => this.child(`level${i}_block${j}`, new ResBlock(j === 0 ? ch : out, out, c.groups)));
      if (!blocks.length && ch !== out) throw new Error('resBlocks 0 needs constant width');
      ch = blocks.length ? out : ch;
      const down = this.child(`level${i}_down`, new Conv2d(ch, ch, { kernel: 4, stride: 2, padding: 1 }));
      this.levels.push({ blocks, down });
    });
    this.mid = this.child('mid', new ResBlock(ch, ch, c.groups));
    this.norm = this.child('norm', new GroupNorm(Math.min(c.groups, ch), ch));
    this.proj = this.child('proj', new Conv2d(ch, c.codeDim, { kernel: 1 }));
  }

  forward(x: Tensor): Tensor {
    let h = this.stem.forward(x);
    for (const l of this.levels) {
      for (const b of l.blocks) h = b.forward(h);
      h = l.down.forward(h);
    }
    h = this.mid.forward(h);
    return this.proj.forward(silu(this.norm.forward(h)));
  }
}
