// Adam (L2 weight decay in the gradient) and AdamW (decoupled weight decay): one fused
// optim_adam.wgsl dispatch per run of parameters over the optimizer's flat buffers (flat.ts), or
// per parameter with `foreach: false`. Bias corrections come from the host's step count.

import adamSrc from '../../shaders/optim_adam.wgsl';
import { runtime } from '../device/runtime.js';
import { grid1d, kernel, launch, Params } from '../ops/launch.js';
import { forRowChunks } from '../ops/binding-window.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type FlatUpdateArgs, type OptimizerOptions, type ParamGroup, type UpdateArgs } from './optimizer.js';

const ADAM = kernel('optim_adam', adamSrc);
const ADAM_FLAT = kernel('optim_adam', adamSrc, 'flat');
const WG = 64;
/**
 * On a CPU adapter the flat kernel's grid-stride loop runs on at most 32 workgroups, each
 * invocation updating at least this many vec4s: a few cores to fill, and each workgroup costs a
 * fixed set-up. A GPU gets one invocation per vec4.
 */
const PER_THREAD_CPU = 16;
const MAX_GROUPS_CPU = 32;

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
    const p = this.uniforms(param.size, 0, lr, weightDecay);
    launch(ADAM, p, [param, grad, state.exp_avg, state.exp_avg_sq, gradScale], grid1d(param.size, WG), {
      DECOUPLED: this.decoupled ? 1 : 0,
      WG,
    });
  }

  protected override updateFlat({ flat, run, gradScale, lr, weightDecay }: FlatUpdateArgs): void {
    const { params, grads, state } = flat;
    // The run's elements of the four flat buffers; in chunks where they exceed a storage binding
    // (binding-window.ts: chunks start on a binding boundary and hold multiples of 4 elements).
    const runs = [params, grads, state.exp_avg, state.exp_avg_sq].map((t) => t.view([run.count], [1], run.start));
    forRowChunks(this.name, run.count, [...runs.map((t) => ({ t, axis: 0 })), { t: gradScale, axis: null }], ([pv, gv, mv, vv, sv], r0, r1) => {
      const n4 = (r1 - r0) / 4;
      const p = this.uniforms(n4, pv.offset / 4, lr, weightDecay);
      const grid = runtime().isCpu ? [Math.min(MAX_GROUPS_CPU, Math.ceil(n4 / (WG * PER_THREAD_CPU)))] as [number] : grid1d(n4, WG);
      launch(ADAM_FLAT, p, [pv, gv, mv, vv, sv], grid, { DECOUPLED: this.decoupled ? 1 : 0, WG });
    });
    runs.forEach((t) => t.dispose());
  }

  /** The kernel's uniforms for `n` elements (vec4s for the flat entry) from `start`. */
  private uniforms(n: number, start: number, lr: number, weightDecay: number): Params {
    const [b1, b2] = this.betas;
    const t = this.stepCount;
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    return new Params()
      .u32(n, start, 0, 0)
      .f32(b1, b2, this.eps, weightDecay)
      .f32(lr / bc1, Math.sqrt(bc2), 1 - lr * weightDecay, 0);
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter); PyTorch's default weightDecay is 0.01. */
export class AdamW extends Adam {
  constructor(params: readonly Tensor[] | readonly ParamGroup[], opts: AdamOptions) {
    super(params, { weightDecay: 0.01, ...opts }, true);
  }
}
