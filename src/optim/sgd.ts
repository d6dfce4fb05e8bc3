// SGD with optional (Nesterov) momentum and L2 weight decay, one fused optim_sgd.wgsl dispatch per
// parameter (PyTorch semantics: the momentum buffer starts as the first gradient).

import sgdSrc from '../../shaders/optim_sgd.wgsl';
import { grid1d, kernel, launch, Params } from '../ops/launch.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type OptimizerOptions, type ParamGroup, type UpdateArgs } from './optimizer.js';

const SGD_PLAIN = kernel('optim_sgd', sgdSrc, 'plain');
const SGD_MOMENTUM = kernel('optim_sgd', sgdSrc, 'momentum');
const WG = 64;

export interface SGDOptions extends OptimizerOptions {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  protected readonly stateNames: readonly string[];
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;

  constructor(params: readonly Tensor[] | readonly ParamGroup[], opts: SGDOptions) {
    super(params, opts, 'SGD');
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new Error(`SGD: momentum must be non-negative, got ${this.momentum}.`);
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0)) {
      throw new Error('SGD: Nesterov momentum needs momentum > 0 and dampening 0.');
    }
    this.stateNames = this.momentum > 0 ? ['momentum_buffer'] : [];
  }

  protected update({ param, grad, state, fresh, gradScale, lr, weightDecay }: UpdateArgs): void {
    if (param.size === 0) return;
    const p = new Params().u32(param.size, fresh ? 1 : 0, 0, 0).f32(lr, this.momentum, this.dampening, weightDecay);
    const grid = grid1d(param.size, WG);
    if (this.momentum > 0) {
      launch(SGD_MOMENTUM, p, [param, grad, gradScale, state.momentum_buffer], grid, { NESTEROV: this.nesterov ? 1 : 0, WG });
    } else {
      launch(SGD_PLAIN, p, [param, grad, gradScale], grid, { WG });
    }
  }
}
