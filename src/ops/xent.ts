// Fused softmax cross-entropy over logits [N, V] and i32 targets [N] (xent*.wgsl). The forward
// kernel makes one pass per row: log-sum-exp, the row's loss and the row's gradient factor (its
// log-sum-exp, or the whole unscaled gradient row); a one-workgroup kernel then reduces the rows
// deterministically and counts the non-ignored ones on the GPU. Backward scales by the upstream
// gradient, a GPU tensor: nothing is ever read back.

import xentSrc from '../../shaders/xent.wgsl';
import xentGradSrc from '../../shaders/xent_grad.wgsl';
import xentReduceSrc from '../../shaders/xent_reduce.wgsl';
import xentScaleSrc from '../../shaders/xent_scale.wgsl';
import { isGradEnabled, record } from '../autograd/tape.js';
import { runtime } from '../device/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, kernel, launch, Params } from './launch.js';
import { contiguous } from './layout.js';

type RowSchedule = 'per_thread' | 'per_group';
const perRow = (name: string, src: string) => ({
  per_thread: kernel(name, src, 'per_thread'),
  per_group: kernel(name, src, 'per_group'),
});
const FWD = perRow('xent', xentSrc);
const GRAD = perRow('xent_grad', xentGradSrc);
const SCALE = perRow('xent_scale', xentScaleSrc);
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
 * How the kernels run, for tests and benches that must exercise every variant ('auto' picks by
 * adapter and shape, see pickRows / pickGrad).
 *   rows: an invocation per row ('per_thread') or a workgroup per row ('per_group').
 *   grad: 'stored' writes the unscaled gradient rows in the forward kernel and scales them in place
 *         in backward; 'recompute' stores only each row's log-sum-exp and rebuilds the rows in backward.
 */
export interface XentSchedule {
  rows?: 'auto' | RowSchedule;
  grad?: 'auto' | 'stored' | 'recompute';
  /** the backward kernel's rows (default: as forward) */
  bwdRows?: 'auto' | RowSchedule;
  /** lanes per workgroup of 'per_group' (a power of two ≤ the device's limit) */
  groupSize?: number;
}

/** Largest power of two ≤ min(256, the device's invocation limit); 64 on CPU rasterisers. */
function groupSize(): number {
  const rt = runtime();
  if (rt.isCpu) return 64;
  const cap = Math.min(256, rt.limits.maxComputeInvocationsPerWorkgroup);
  return 2 ** Math.floor(Math.log2(cap));
}

function pickRows(s: XentSchedule['rows'], rows: number, len: number): RowSchedule {
  if (s && s !== 'auto') return s;
  // GPU: lanes of a workgroup striding one row read coalesced memory, while an invocation per row
  // reads with stride V; only rows too short to share stay per thread. CPU rasterisers run a
  // workgroup as SIMD lanes of one thread, where barriers cost more than they save unless there
  // are too few rows to fill the cores (as in reduce.ts).
  if (!runtime().isCpu) return len >= 128 ? 'per_group' : 'per_thread';
  return rows < 64 && len >= 256 ? 'per_group' : 'per_thread';
}

function pickGrad(s: XentSchedule['grad']): 'stored' | 'recompute' {
  if (s && s !== 'auto') return s;
  // Recompute moves less memory (read x + write dx in backward, against an extra N×V write in
  // forward and a read-modify-write in backward) and holds no N×V buffer between the passes; the
  // exp count is the same. Measured on lavapipe in bench/xent.ts (notes 'stored'/'recompute').
  return 'recompute';
}

function launchRows(k: typeof FWD, s: XentSchedule, p: Params, tensors: Tensor[], rows: number, constants: Record<string, number>): void {
  if (s.rows === 'per_group') launch(k.per_group, p, tensors, grid1d(rows, 1), { ...constants, WG: s.groupSize ?? groupSize() });
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
  const sched: XentSchedule = { ...schedule, rows: pickRows(schedule.rows, N, V) };
  const bsched: XentSchedule = { ...sched, rows: schedule.bwdRows && schedule.bwdRows !== 'auto' ? schedule.bwdRows : sched.rows };
  const wantGrad = isGradEnabled() && logits.requiresGrad;
  const stored = wantGrad && pickGrad(schedule.grad) === 'stored';

  const xc = contiguous(logits);
  const tc = contiguous(targets);
  const rowLoss = empty([N]); // [N]
  const lse = empty([N]); // [N] log-sum-exp per row (0 for ignored / out-of-range rows)
  const gradRows = stored ? empty([N, V]) : empty([1]); // unscaled ∂loss_r/∂x, or a placeholder
  const fwdParams = new Params().u32(N, V).i32(ignoreIndex).f32(labelSmoothing, NaN).u32(0, 0, 0);
  if (N) launchRows(FWD, sched, fwdParams, [xc, tc, rowLoss, lse, gradRows], N, { STORE_GRAD: stored ? 1 : 0 });

  let out = rowLoss;
  let norm: Tensor | null = null; // [1] backward factor per unit of upstream gradient
  if (reduction !== 'none') {
    out = empty([]);
    norm = empty([1]);
    const p = new Params().u32(N).i32(ignoreIndex).u32(0, 0);
    launch(REDUCE, p, [rowLoss, tc, out, norm], [1], { MEAN: reduction === 'mean' ? 1 : 0, WG: groupSize() });
    rowLoss.dispose();
  }
  if (!wantGrad) {
    for (const t of [xc, tc, lse, gradRows]) t.dispose();
    norm?.dispose();
    return out;
  }
  // What backward reads stays alive in the enclosing scope (as in gatherLast).
  if (stored) for (const t of [xc, tc, lse]) t.dispose();
  else gradRows.dispose();

  return record(out, 'crossEntropy', [logits, targets], (g) => {
    const gc = contiguous(g); // [] or [N]
    const factor = [gc, norm ?? gc]; // 'none' never reads the second binding
    const constants = { PER_ROW: norm ? 0 : 1 };
    let dx: Tensor;
    if (stored) {
      const p = new Params().u32(N, V, 0, 0);
      if (N) launchRows(SCALE, bsched, p, [...factor, gradRows], N, constants);
      dx = gradRows;
    } else {
      dx = empty([N, V]);
      const p = new Params().u32(N, V).i32(ignoreIndex).f32(labelSmoothing);
      if (N) launchRows(GRAD, bsched, p, [...factor, xc, tc, lse, dx], N, constants);
    }
    gc.dispose();
    return [dx, null];
  });
}
