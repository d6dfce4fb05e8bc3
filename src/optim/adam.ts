// Adam (L2 weight decay in the gradient) and AdamW (decoupled weight decay), one fused
// optim_adam.wgsl dispatch per parameter. Bias corrections come from the host's step count.

import adamSrc from '../../shaders/optim_adam.wgsl';
import { grid1d, kernel, launch, Params } from '../ops/launch.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type UpdateArgs } from './optimizer.js';

const ADAM = kernel('optim_adam', adamSrc);
const WG = 64;

export interface AdamOptions extends OptimizerOptions {
  betas?: [number, number];
  eps?: number;
}

export class Adam extends Optimizer {
  protected readonly stateNames = ['exp_avg', 'exp_avg_sq'] as const;
  readonly betas: [number, number];
  readonly eps: number;

  constructor(params: readonly Tensor[] | readonly ParamGroup[], opts: AdamOptions, protected readonly decoupled = false) {
    super(params, opts, decoupled ? 'AdamW' : 'Adam');
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    const [b1, b2] = this.betas;
    if (!(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1)) throw new Error(`${this.name}: betas must lie in [0, 1), got [${b1}, ${b2}].`);
    if (!(this.eps >= 0)) throw new Error(`${this.name}: eps must be non-negative, got ${this.eps}.`);
  }

  protected update({ param, grad, state, gradScale, lr, weightDecay }: UpdateArgs): void {
    if (param.size === 0) return;
    const [b1, b2] = this.betas;
    const t = this.stepCount;
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    const p = new Params()
      .u32(param.size, 0, 0, 0)
      .f32(b1, b2, this.eps, weightDecay)
      .f32(lr / bc1, Math.sqrt(bc2), 1 - lr * weightDecay, 0);
    launch(ADAM, p, [param, grad, state.exp_avg, state.exp_avg_sq, gradScale], grid1d(param.size, WG), {
      DECOUPLED: this.decoupled ? 1 : 0,
      WG,
    });
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter); PyTorch's default weightDecay is 0.01. */
export class AdamW extends Adam {
  constructor(params: readonly Tensor[] | readonly ParamGroup[], opts: AdamOptions) {
    super(params, { weightDecay: 0.01, ...opts }, true);
  }
}
