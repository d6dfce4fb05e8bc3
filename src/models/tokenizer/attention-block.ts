// Non-local (self-attention) block of the VQGAN encoder and decoder's middle, at the token grid:
// x + proj(attention(GroupNorm(x))) over the G·G positions, one head of the full width. Each
// position sees the whole grid: the decoder can read a token's meaning from all the others (the
// emoji's colours, its kind), which 3×3 convolutions at 8×8 reach only over several layers.
// Tensors are NCHW; attention is the fused kernel (ops/attention.ts).

import { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';
import { GroupNorm } from '../../nn/norm.js';
import { attention } from '../../ops/attention.js';
import { add } from '../../ops/elementwise.js';
import { permute, reshape, unbind } from '../../ops/layout.js';
import type { Tensor } from '../../tensor/tensor.js';

export class AttentionBlock extends Module {
  private norm: GroupNorm;
  private qkv: Conv2d;
  private proj: Conv2d;

  constructor(readonly channels: number, groups: number) {
    super();
    if (channels % 4 !== 0) throw new Error(`AttentionBlock: ${channels} channels; the attention head needs a multiple of 4.`);
    this.norm = this.child('norm', new GroupNorm(Math.min(groups, channels), channels));
    this.qkv = this.child('qkv', new Conv2d(channels, 3 * channels, { kernel: 1 }));
    // Starts as the identity (zero projection): the block opens up as it learns.
    this.proj = this.child('proj', new Conv2d(channels, channels, { kernel: 1, initScale: 0 }));
  }

  /** x [N, C, H, W] → [N, C, H, W] */
  forward(x: Tensor): Tensor {
    const [N, C, H, W] = x.shape;
    const T = H * W;
    // [N, 3C, H, W] → [3, N, 1, T, C]: q, k, v as [N, 1 head, T, C]
    const qkv = permute(reshape(this.qkv.forward(this.norm.forward(x)), [N, 3, 1, C, T]), [1, 0, 2, 4, 3]);
    const [q, k, v] = unbind(qkv, 0);
    const a = attention(q, k, v); // [N, 1, T, C]
    const h = reshape(permute(a, [0, 1, 3, 2]), [N, C, H, W]);
    return add(x, this.proj.forward(h));
  }
}
