// Global gradient-norm clipping without readback (optim_grad_norm.wgsl, optim_scale.wgsl).
// Each gradient contributes per-invocation partial sums of squares to a small buffer; one more
// dispatch reduces them to the norm and the clip factor min(1, maxNorm / (norm + 1e-6)). The
// optimizers read that factor inside their fused update; `clipGradNorm` applies it in place.
// A non-finite norm (NaN/Inf in any gradient) makes the factor 0, which the update kernels read as
// "skip this step", and counts the step in `skipped` (read by the host at log time).

import gradNormSrc from '../../shaders/optim_grad_norm.wgsl';
import scaleSrc from '../../shaders/optim_scale.wgsl';
import { keep } from '../tensor/scope.js';
import { runtime } from '../device/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { zeros } from '../ops/creation.js';
import { grid1d, kernel, launch, Params } from '../ops/launch.js';
import { densePieces } from '../ops/binding-window.js';
import { copyInto } from '../ops/layout.js';

const SUMSQ = kernel('optim_grad_norm', gradNormSrc, 'sumsq');
const FINISH = kernel('optim_grad_norm', gradNormSrc, 'finish');
const SCALE = kernel('optim_scale', scaleSrc);
const WG = 64;
/** Elements each sumsq invocation sums at least (when the gradient is small enough). */
const PER_THREAD = 16;

/** Dense f32 gradient check shared by the optimizers (the gradient may start at an offset). */
export function checkGrad(param: Tensor, grad: Tensor, who: string): void {
  if (grad.dtype !== 'f32' || !grad.isDense || grad.size !== param.size) {
    throw new Error(`${who}: the gradient of parameter '${param.name}' [${param.shape}] must be a dense f32 tensor of the same size, got ${grad}.`);
  }
}

/**
 * The gradient of `param`, moved to a buffer of its own when it starts at an offset (kernels that
 * take one tensor per binding read from element 0; the tape leaves a bias gradient as a view into
 * the buffer it shares with the weight's).
 */
export function ownGrad(param: Tensor): Tensor {
  const g = param.grad!;
  if (g.offset === 0) return g;
  const own = keep(empty(g.shape));
  copyInto(g, own);
  g.dispose();
  return (param.grad = own);
}

/**
 * Workgroups of the sumsq dispatch for a gradient of n elements. Each invocation leaves one
 * partial sum, so the cap bounds the partial buffer and the final (single-workgroup) reduction;
 * a GPU gets more invocations per gradient than a CPU rasteriser, which has few cores to fill.
 */
function groupsFor(n: number): number {
  const cap = runtime().isCpu ? 16 : 128;
  return Math.max(1, Math.min(cap, Math.ceil(n / (WG * PER_THREAD))));
}

/**
 * Reusable buffers for the global gradient norm: `norm` [1] and `scale` [1] are kept tensors that
 * every `compute` overwrites (so a training loop allocates nothing once warm); `skipped` [1] counts
 * the computes whose norm was not finite (scale 0) since construction.
 */
export class GradNorm {
  readonly norm: Tensor;
  readonly scale: Tensor;
  readonly skipped: Tensor;
  private partial: Tensor;

  constructor() {
    this.norm = keep(empty([1]));
    this.scale = keep(empty([1]));
    this.skipped = keep(zeros([1]));
    this.partial = keep(empty([WG]));
  }

  /**
   * Records the norm of `grads` (dense f32) and the factor that clips it to `maxNorm` (Infinity:
   * no clipping, factor 1; either way 0 when the norm is not finite).
   */
  compute(grads: readonly Tensor[], maxNorm: number): void {
    if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be positive, got ${maxNorm}.`);
    const clip = Number.isFinite(maxNorm) ? 1 : 0;
    // A gradient over one storage binding (the optimizer's flat buffer) is summed in pieces.
    const pieces = grads.flatMap((g) => densePieces(g));
    let slots = 0;
    for (const g of pieces) slots += groupsFor(g.size) * WG;
    if (slots > this.partial.size) {
      this.partial.dispose();
      this.partial = keep(empty([slots]));
    }
    let base = 0;
    for (const g of pieces) {
      const groups = groupsFor(g.size);
      launch(SUMSQ, new Params().u32(g.size, groups, base, 0).f32(0, 0, 0, 0), [g, this.partial], [groups], { WG });
      base += groups * WG;
    }
    pieces.forEach((g) => !grads.includes(g) && g.dispose());
    launch(FINISH, new Params().u32(slots, 0, 0, clip).f32(clip ? maxNorm : 0, 0, 0, 0), [this.partial, this.norm, this.scale, this.skipped], [1], { WG });
  }

  dispose(): void {
    this.norm.dispose();
    this.scale.dispose();
    this.skipped.dispose();
    this.partial.dispose();
  }
}

/** x *= factor[0] in place (x dense f32, factor a [1] tensor on the GPU). */
export function scaleInPlace(x: Tensor, factor: Tensor): void {
  if (x.size === 0) return;
  launch(SCALE, new Params().u32(x.size, 0, 0, 0), [factor, x], grid1d(x.size, WG), { WG });
}

/**
 * Scales the gradients of `params` in place so that their global L2 norm is at most `maxNorm`
 * (as torch.nn.utils.clip_grad_norm_). Returns the norm before clipping as a new [1] tensor (the
 * caller disposes it; reading it waits for the GPU, so read it only when logging). Parameters
 * without a gradient are skipped; non-finite gradients (NaN/Inf norm) are zeroed. Optimizers built
 * with `{ clipNorm }` do the same without the extra pass over the gradients, and skip such steps.
 */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): Tensor {
  const grads = params.filter((p) => p.grad).map((p) => {
    checkGrad(p, p.grad!, 'clipGradNorm');
    return ownGrad(p);
  });
  const gn = new GradNorm();
  gn.compute(grads, maxNorm);
  for (const g of grads) scaleInPlace(g, gn.scale);
  const norm = gn.norm.view([1], [1], 0); // outlives gn's handle on the same storage
  gn.dispose();
  return norm;
}
