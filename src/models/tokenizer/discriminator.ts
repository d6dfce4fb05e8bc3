// PatchGAN discriminator: strided 4×4 convolutions with leaky ReLU (group norm after the first),
// ending in a 1-channel map of per-patch real/fake logits. Its intermediate activations also
// define the perceptual loss (the distance between its features of the real and reconstructed image).

import { Conv2d } from '../../nn/conv2d.js';
import { Module } from '../../nn/module.js';
import { GroupNorm } from '../../nn/norm.js';
import { leakyRelu } from '../../ops/elementwise.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { DiscriminatorConfig } from './config.js';

export interface DiscriminatorOutput {
  /** [N, 1, h, w] patch logits */
  logits: Tensor;
  /** activations after each strided layer, shallow to deep */
  features: Tensor[];
}

export class Discriminator extends Module {
  private convs: Conv2d[] = [];
  private norms: (GroupNorm | null)[] = [];
  private head: Conv2d;

  constructor(c: DiscriminatorConfig, groups: number) {
    super();
    let ch = 3;
    for (let i = 0; i < c.layers; i++) {
      const out = c.width * 2 ** i;
      this.convs.push(this.child(`conv${i}`, new Conv2d(ch, out, { kernel: 4, stride: 2, padding: 1 })));
      this.norms.push(i === 0 ? null : this.child(`norm${i}`, new GroupNorm(Math.min(groups, out), out)));
      ch = out;
    }
    this.head = this.child('head', new Conv2d(ch, 1, { kernel: 3, padding: 1 }));
  }

  forward(x: Tensor): DiscriminatorOutput {
    const features: Tensor[] = [];
    let h = x;
    this.convs.forEach((conv, i) => {
      h = conv.forward(h);
      const n = this.norms[i];
      if (n) h = n.forward(h);
      h = leakyRelu(h, 0.2);
      features.push(h);
    });
    return { logits: this.head.forward(h), features };
  }

  /** Turns gradient recording for the discriminator's parameters on or off. */
  setTrainable(on: boolean): void {
    for (const p of this.parameters()) p.requiresGrad = on;
  }
}
