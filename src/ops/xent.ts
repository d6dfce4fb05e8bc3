// Fused softmax cross-entropy over logits [N, V] and i32 targets [N] (xent*.wgsl). The forward
// kernel makes one pass per row, writing the row's loss and its log-sum-exp (kept as the gradient
// factor); a one-workgroup kernel then reduces the rows deterministically and counts the
// non-ignored ones on the GPU. Backward rebuilds each gradient row from the logits and the stored
// log-sum-exp, scaled by the upstream gradient (a GPU tensor): nothing is ever read back.

import xentSrc from '../../shaders/xent.wgsl';
import xentGradSrc from '../../shaders/xent_grad.wgsl';
import xentReduceSrc from '../../shaders/xent_reduce.wgsl';
import { isGradEnabled, record } from '../autograd/tape.js';
import { runtime } from '../device/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, kernel, launch, Params } from './launch.js';
import { contiguous } from './layout.js';
import { forDenseRows } from './binding-window.js';

type RowSchedule = 'per_thread' | 'per_group';
const perRow = (name: string, src: string) => ({
  per_thread: kernel(name, src, 'per_thread'),
  per_group: kernel(name, src, 'per_group'),
});
const FWD = perRow('xent', xentSrc);
const GRAD = perRow('xent_grad', xentGradSrc);
const REDUCE = kernel('xent_reduce', xentReduceSrc, 'main');

export type XentReduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** rows whose target equals this are skipped: loss 0, gradient 0, not counted (default −100) */
  ignoreIndex?: number;
  /** ε in [0, 1]: loss = (1−ε)·nll + ε·mean over classes of −log p, as in PyTorch (default 0) */
  labelSmoothing?: number;
  /** 'mean' over non-ignored rows (default; 0 when all are ignored), 'sum', or 'none' (per-row [N]) */
  reduction?: XentReduction;
}

/**
 * How the kernels run, for tests and benches that must exercise every variant: an invocation per
 * row ('per_thread') or a workgroup of `groupSize` lanes per row ('per_group'). 'auto' (default)
 * picks by adapter and shape (pickSchedule).
 */
export interface XentSchedule {
  rows?: 'auto' | RowSchedule;
  /** lanes per workgroup of 'per_group': a power of two ≤ the device's limit */
  groupSize?: number;
}

function pickSchedule(s: XentSchedule, rows: number, len: number): Required<XentSchedule> {
  const rt = runtime();
  if (rt.isCpu) {
    // llvmpipe runs a workgroup's lanes as 8-wide SIMD on one thread: a workgroup of 8 is one
    // vector, so its barriers are nearly free and its loads contiguous. Measured on lavapipe
    // (bench/xent.ts notes, a loaded 2-core machine): 8 lanes per row beat 64 by up to 2.5×, and
    // are within ±10% of an invocation per row at V = 1024 and 16384 (either way across runs).
    // Long rows take the workgroup (contiguous loads); so do few rows, to spread over the cores.
    const auto: RowSchedule = len >= 512 || rows < 128 ? 'per_group' : 'per_thread';
    return { rows: s.rows && s.rows !== 'auto' ? s.rows : auto, groupSize: s.groupSize ?? 8 };
  }
  // GPU: lanes striding one row read coalesced memory, while an invocation per row reads with
  // stride V; only rows too short to share stay per thread. (Not measured on a GPU yet.)
  const cap = Math.min(256, rt.limits.maxComputeInvocationsPerWorkgroup);
  const auto: RowSchedule = len >= 128 ? 'per_group' : 'per_thread';
  return { rows: s.rows && s.rows !== 'auto' ? s.rows : auto, groupSize: s.groupSize ?? 2 ** Math.floor(Math.log2(cap)) };
}

function launchRows(k: typeof FWD, s: Required<XentSchedule>, p: Params, tensors: Tensor[], rows: number, constants: Record<string, number> = {}): void {
  if (s.rows === 'per_group') launch(k.per_group, p, tensors, grid1d(rows, 1), { ...constants, WG: s.groupSize });
  else launch(k.per_thread, p, tensors, grid1d(rows, 64), { ...constants, WG: 64 });
}

function validate(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions): void {
  logits.assertAlive();
  targets.assertAlive();
  const { ignoreIndex = -100, labelSmoothing = 0, reduction = 'mean' } = opts;
  const problem =
    logits.dtype !== 'f32' || logits.rank !== 2
      ? `logits must be f32 [N, V], got ${logits.dtype} ${fmt(logits.shape)}`
      : targets.dtype !== 'i32' || targets.rank !== 1 || targets.shape[0] !== logits.shape[0]
        ? `targets must be i32 [${logits.shape[0]}] for logits ${fmt(logits.shape)}, got ${targets.dtype} ${fmt(targets.shape)}`
        : logits.shape[1] === 0 && logits.shape[0] > 0
          ? `logits ${fmt(logits.shape)} have no classes`
          : !Number.isInteger(ignoreIndex) || ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31
            ? `ignoreIndex must be an i32 integer, got ${ignoreIndex}`
            : !(labelSmoothing >= 0 && labelSmoothing <= 1)
              ? `labelSmoothing must be in [0, 1], got ${labelSmoothing}`
              : !['mean', 'sum', 'none'].includes(reduction)
                ? `reduction must be 'mean', 'sum' or 'none', got '${reduction}'`
                : null;
  if (problem) throw new Error(`crossEntropy: ${problem}.`);
}

/**
 * Softmax cross-entropy of logits f32 [N, V] against class indices i32 [N]: a scalar ('mean',
 * 'sum') or per-row losses [N] ('none'). Differentiable w.r.t. the logits.
 * A target outside [0, V) that is not `ignoreIndex` is not validated (that would need a readback):
 * its row's loss is NaN, which makes a 'mean'/'sum' NaN, and its gradient row is 0; it counts as a
 * non-ignored row. No memory outside the row is read.
 */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  return crossEntropyWith(logits, targets, opts, {});
}

/** crossEntropy with an explicit kernel schedule (tests and benches). */
export function crossEntropyWith(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions, schedule: XentSchedule): Tensor {
  validate(logits, targets, opts);
  const { ignoreIndex = -100, labelSmoothing = 0, reduction = 'mean' } = opts;
  const [N, V] = logits.shape;
  const sched = pickSchedule(schedule, N, V);

  const xc = contiguous(logits);
  const tc = contiguous(targets);
  const rowLoss = empty([N]); // [N] loss per row
  const lse = empty([N]); // [N] log-sum-exp per row (0 for ignored / out-of-range rows)
  // (over a storage binding, here and in the backward: chunks of rows, each from element 0)
  if (N) {
    forDenseRows('crossEntropy', N, [xc, tc, rowLoss, lse], [2, 3], [], (vs, r0, r1) =>
      launchRows(FWD, sched, new Params().u32(r1 - r0, V).i32(ignoreIndex).f32(labelSmoothing, NaN).u32(0, 0, 0), vs, r1 - r0));
  }

  let out = rowLoss;
  let norm: Tensor | null = null; // [1] backward factor per unit of upstream gradient (1/count or 1)
  if (reduction !== 'none') {
    out = empty([]);
    norm = empty([1]);
    const p = new Params().u32(N).i32(ignoreIndex).u32(0, 0);
    const wg = runtime().isCpu ? 64 : sched.groupSize;
    launch(REDUCE, p, [rowLoss, tc, out, norm], [1], { MEAN: reduction === 'mean' ? 1 : 0, WG: wg });
    rowLoss.dispose();
  }
  if (!isGradEnabled() || !logits.requiresGrad) {
    for (const t of [xc, tc, lse]) t.dispose();
    norm?.dispose();
    return out;
  }

  // xc, tc, lse and norm stay alive in the enclosing scope for the backward pass (as in gatherLast).
  return record(out, 'crossEntropy', [logits, targets], (g) => {
    const gc = contiguous(g); // [] or [N]
    const dx = empty([N, V]);
    // 'none' scales row r by g[r] and never reads the norm binding (g stands in for it).
    const split = norm ? [xc, tc, lse, dx] : [gc, xc, tc, lse, dx];
    if (N) {
      forDenseRows('crossEntropy', N, split, [split.length - 1], norm ? [gc, norm] : [], (vs, r0, r1) => {
        const [g, x, t, l, d] = norm ? [gc, ...vs] : vs;
        const p = new Params().u32(r1 - r0, V).i32(ignoreIndex).f32(labelSmoothing);
        launchRows(GRAD, sched, p, [g, norm ?? g, x, t, l, d], r1 - r0, { PER_ROW: norm ? 0 : 1 });
      });
    }
    gc.dispose();
    return [dx, null];
  });
}
