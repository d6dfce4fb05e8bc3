// Conv2d module over ops/conv2d.ts: x [N, Cin, H, W] → [N, Cout, Ho, Wo]. Weight [Cout, Cin, K, K]
// (PyTorch layout), initialised as PyTorch does: U(±1/√(Cin·K·K)). `upsample: true` convolves the
// nearest-neighbour 2× upsample of x without materialising it (decoders).

import { conv2d, conv2dUpsample2x } from '../ops/conv2d.js';
import type { Tensor } from '../tensor/tensor.js';
import { initRng, uniform, type InitRng } from './init.js';
import { Module } from './module.js';

/** Configuration of a {@link Conv2d} layer. */
export interface Conv2dConfig {
  /** kernel size K (a K×K kernel) */
  kernel: number;
  /** step between output positions (default 1) */
  stride?: number;
  /** zeros added on every side of the input (default 0) */
  padding?: number;
  /** learn a per-channel bias (default true) */
  bias?: boolean;
  /** convolve the nearest 2× upsample of the input (stride must be 1: another stride throws in forward) */
  upsample?: boolean;
  /** scale of the initial weights (0: the layer starts as a zero map, e.g. a residual branch's last conv) */
  initScale?: number;
}

/** 2-D convolution layer, x [N, Cin, H, W] → [N, Cout, Ho, Wo] (see {@link conv2d} for the output size). */
export class Conv2d extends Module {
  /** [Cout, Cin, K, K] */
  readonly weight: Tensor;
  /** [Cout] */
  readonly bias: Tensor | null;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly cfg: Conv2dConfig, rng: InitRng = initRng()) {
    super();
    const k = cfg.kernel;
    const bound = 1 / Math.sqrt(inChannels * k * k);
    const ws = (cfg.initScale ?? 1) * bound;
    this.weight = this.param('weight', uniform([outChannels, inChannels, k, k], -ws, ws, rng));
    this.bias = cfg.bias === false ? null : this.param('bias', uniform([outChannels], -bound, bound, rng));
  }

  forward(x: Tensor): Tensor {
    const o = { stride: this.cfg.stride ?? 1, padding: this.cfg.padding ?? 0 };
    // (a stride other than 1 with `upsample` throws there, rather than being ignored)
    return this.cfg.upsample ? conv2dUpsample2x(x, this.weight, this.bias, o) : conv2d(x, this.weight, this.bias, o);
  }
}
