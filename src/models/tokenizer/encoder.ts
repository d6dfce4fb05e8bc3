// Encoder: image [N, 3, S, S] → continuous codes z_e [N, D, G, G].
// [patch×patch pixels folded into channels →] conv3×3 stem → per level: residual blocks, then a
// strided 4×4 conv halving the side → the middle residual blocks at the token grid (then a
// self-attention block when `attention` is on) → GroupNorm, SiLU, 1×1 projection to the code
// dimension.

import { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';
import { GroupNorm } from '../../nn/norm.js';
import { pixelUnshuffle } from '../../ops/pixel-shuffle.js';
import type { Tensor } from '../../tensor/tensor.js';
import { AttentionBlock } from './attention-block.js';
import { ResBlock } from './blocks.js';
import type { TokenizerConfig } from './config.js';

export class Encoder extends Module {
  /** pixels per side folded into channels before the stem */
  private patch: number;
  private stem: Conv2d;
  private levels: { blocks: ResBlock[]; down: Conv2d }[] = [];
  private mids: ResBlock[];
  private attn: AttentionBlock | null;
  private norm: GroupNorm;
  private proj: Conv2d;

  constructor(c: TokenizerConfig) {
    super();
    this.patch = c.patch ?? 1;
    const width = c.encoderWidth ?? c.width;
    this.stem = this.child('stem', new Conv2d(3 * this.patch * this.patch, width, { kernel: 3, padding: 1 }));
    let ch = width;
    c.mult.forEach((m, i) => {
      const out = width * m;
      const blocks = Array.from({ length: c.encoderResBlocks ?? c.resBlocks }, (_, j) => this.child(`level${i}_block${j}`, new ResBlock(j === 0 ? ch : out, out, c.groups)));
      if (!blocks.length && ch !== out) throw new Error(`an encoder without residual blocks (--res-blocks or --enc-res-blocks 0) needs one width for every level (--mult ${c.mult.map(() => 1).join(',')}).`);
      ch = blocks.length ? out : ch;
      const down = this.child(`level${i}_down`, new Conv2d(ch, ch, { kernel: 4, stride: 2, padding: 1 }));
      this.levels.push({ blocks, down });
    });
    const midCh = width * (c.midMult ?? c.mult[c.mult.length - 1]);
    // the first keeps the name 'mid' of checkpoints from before midBlocks
    this.mids = Array.from({ length: c.midBlocks ?? 1 }, (_, j) => this.child(j ? `mid${j}` : 'mid', new ResBlock(j ? midCh : ch, midCh, c.groups)));
    ch = midCh;
    this.attn = c.attention ? this.child('mid_attn', new AttentionBlock(ch, c.groups)) : null;
    this.norm = this.child('norm', new GroupNorm(Math.min(c.groups, ch), ch));
    this.proj = this.child('proj', new Conv2d(ch, c.codeDim, { kernel: 1 }));
  }

  forward(x: Tensor): Tensor {
    let h = this.stem.forward(this.patch > 1 ? pixelUnshuffle(x, this.patch) : x);
    for (const l of this.levels) {
      for (const b of l.blocks) h = b.forward(h);
      h = l.down.forward(h);
    }
    for (const b of this.mids) h = b.forward(h);
    if (this.attn) h = this.attn.forward(h);
    return this.proj.forward(this.norm.forward(h, 'silu'));
  }
}
