// Decoder, the encoder's mirror: z_q [N, D, G, G] → image [N, 3, S, S] (unbounded; trained toward
// [-1, 1]). conv3×3 from the code dimension → the middle residual blocks (then a self-attention
// block when `attention` is on) → per level (deepest first): a fused nearest-2×-upsample +
// conv3×3, then residual blocks → GroupNorm, SiLU, conv3×3 to RGB (to RGB patches, unfolded into
// pixels, when `patch` > 1).

import { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';
import { GroupNorm } from '../../nn/norm.js';
import { pixelShuffle } from '../../ops/pixel-shuffle.js';
import type { Tensor } from '../../tensor/tensor.js';
import { AttentionBlock } from './attention-block.js';
import { ResBlock } from './blocks.js';
import type { TokenizerConfig } from './config.js';

export class Decoder extends Module {
  /** pixels per side unfolded from the last conv's channels */
  private patch: number;
  private stem: Conv2d;
  private mids: ResBlock[];
  private attn: AttentionBlock | null;
  private levels: { up: Conv2d; blocks: ResBlock[] }[] = [];
  private norm: GroupNorm;
  /** the last layer: the adaptive adversarial weight compares gradient norms at its weight */
  readonly out: Conv2d;

  constructor(c: TokenizerConfig) {
    super();
    let ch = c.width * (c.midMult ?? c.mult[c.mult.length - 1]);
    this.stem = this.child('stem', new Conv2d(c.codeDim, ch, { kernel: 3, padding: 1 }));
    this.mids = Array.from({ length: c.midBlocks ?? 1 }, (_, j) => this.child(j ? `mid${j}` : 'mid', new ResBlock(ch, ch, c.groups)));
    this.attn = c.attention ? this.child('mid_attn', new AttentionBlock(ch, c.groups)) : null;
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
    this.patch = c.patch ?? 1;
    this.out = this.child('out', new Conv2d(ch, 3 * this.patch * this.patch, { kernel: 3, padding: 1 }));
  }

  forward(z: Tensor): Tensor {
    let h = this.stem.forward(z);
    for (const b of this.mids) h = b.forward(h);
    if (this.attn) h = this.attn.forward(h);
    for (const l of this.levels) {
      h = l.up.forward(h);
      for (const b of l.blocks) h = b.forward(h);
    }
    const y = this.out.forward(this.norm.forward(h, 'silu'));
    return this.patch > 1 ? pixelShuffle(y, this.patch) : y;
  }
}
