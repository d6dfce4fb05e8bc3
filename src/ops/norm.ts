// layerNorm and groupNorm (norm.wgsl, norm_grad.wgsl, norm_param_grad.wgsl). Both normalise the
// rows of a dense [rows, len] matrix and apply a per-channel affine map; they differ only in how
// rows and channels are laid out (see norm.wgsl). The forward pass saves (mean, rstd) per row.
// `act: 'silu'` fuses the SiLU that follows a norm in pre-activation blocks: one pass instead of
// two each way (the backward kernels recompute the pre-activation from x and the stats).

import normSrc from '../../shaders/norm.wgsl';
import normGradSrc from '../../shaders/norm_grad.wgsl';
import normParamGradSrc from '../../shaders/norm_param_grad.wgsl';
import normAffineSrc from '../../shaders/norm_affine.wgsl';
import { isGradEnabled, record } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, includeSnippet, kernel, launch, Params } from './launch.js';
import { contiguous, reshape } from './layout.js';
import { reduceRows } from './reduce.js';
import { forDenseRows, sumOverRows } from './binding-window.js';
import { launchRows } from './row-schedule.js';

// Each shader with the shared per-channel affine snippet pasted in.
const withAffine = (src: string) => includeSnippet(src, 'norm_affine.wgsl', normAffineSrc);
const [NORM, NORM_GRAD, NORM_PARAM_GRAD] = [normSrc, normGradSrc, normParamGradSrc].map(withAffine);
const FWD = { thread: kernel('norm', NORM, 'per_thread'), group: kernel('norm', NORM, 'per_group'), threadVec4: kernel('norm', NORM, 'per_thread_vec4') };
/** layerNorm rows of a multiple of 4 columns: the thread schedule with x, y, weight and bias as vec4s. */
const FWD_COLS = { ...FWD, threadVec4: kernel('norm', NORM, 'per_thread_cols_vec4') };
const BWD = { thread: kernel('norm_grad', NORM_GRAD, 'per_thread'), group: kernel('norm_grad', NORM_GRAD, 'per_group'), threadVec4: kernel('norm_grad', NORM_GRAD, 'per_thread_vec4') };
/** The layerNorm backward's rows of a multiple of 4 columns: the thread schedule with x, g, dx, weight and bias as vec4s. */
const BWD_COLS = { ...BWD, threadVec4: kernel('norm_grad', NORM_GRAD, 'per_thread_cols_vec4') };
const PARAM_GRAD = kernel('norm_param_grad', NORM_PARAM_GRAD);
const PARAM_GRAD_VEC4 = kernel('norm_param_grad', NORM_PARAM_GRAD, 'main_vec4');
/** The layerNorm param grads of a multiple of 4 channels: 4 channels an invocation, x and g as vec4s. */
const PARAM_GRAD_COLS_VEC4 = kernel('norm_param_grad', NORM_PARAM_GRAD, 'main_cols_vec4');

/** Whether the thread-per-row kernels may take their vec4 entries: whole vec4s per channel (groupNorm over ≥ 4 positions). */
const vec4Rows = (l: Layout) => l.inner % 4 === 0;
/** Whether the forward and backward may take per_thread_cols_vec4: a layerNorm (the channel is the column) of whole vec4s. */
const vec4Cols = (l: Layout) => l.inner === 1 && l.groups === 1 && l.len % 4 === 0;

/** An activation fused after the norm's affine map. */
export type NormAct = 'none' | 'silu';
const ACTS: Record<NormAct, number> = { none: 0, silu: 1 };

/** How a norm lays out its input: see norm.wgsl. x viewed as [n, c, s]; stats per (n, group). */
interface Layout {
  rows: number;
  len: number;
  groups: number;
  /** S: positions per channel */
  inner: number;
  /** channels per group */
  cpg: number;
  /** N: samples */
  n: number;
  /** C: channels (the size of weight and bias) */
  c: number;
}

/**
 * dw and db ([C] each) from partial sums over chunks of the N·S items of each channel: enough
 * chunks to occupy the device, decided by the shape alone so results repeat bit-exactly.
 */
function paramGrads(l: Layout, xc: Tensor, gc: Tensor, stats: Tensor, wc: Tensor | null, bc: Tensor | null, act: NormAct): [Tensor, Tensor] {
  // (over a storage binding: the sums of chunks of samples, added up)
  return sumOverRows('norm', l.n, [xc, gc, stats], [], ([xv, gv, sv], n0, n1) =>
    paramGradsPart({ ...l, n: n1 - n0, rows: (n1 - n0) * l.groups }, xv, gv, sv, wc, bc, act));
}

/**
 * `run` on the samples in chunks where the per-sample operands (`split`: dense [n, ...] tensors
 * such as x, y, stats; `written` the indices the kernel writes) exceed a storage binding; the
 * layout gets the chunk's n and rows. Kernels index from element 0 (see atZeroOffsets).
 */
function bySamples(l: Layout, split: Tensor[], written: number[], run: (views: Tensor[], l: Layout) => void): void {
  forDenseRows('norm', l.n, split, written, [], (vs, n0, n1) => run(vs, { ...l, n: n1 - n0, rows: (n1 - n0) * l.groups }));
}

function paramGradsPart(l: Layout, xc: Tensor, gc: Tensor, stats: Tensor, wc: Tensor | null, bc: Tensor | null, act: NormAct): [Tensor, Tensor] {
  const items = l.n * l.inner;
  const want = Math.max(1, Math.ceil(16384 / l.c));
  // Chunks of whole vec4s where a channel's positions are (the vec4 entry then reads x and g as vec4s).
  const vec4 = vec4Rows(l);
  const minChunk = Math.max(32, Math.ceil(items / Math.min(want, 65535)));
  const chunk = vec4 ? Math.ceil(minChunk / 4) * 4 : minChunk;
  const chunks = Math.max(1, Math.ceil(items / chunk));
  const part = empty([2 * l.c, chunks]);
  const p = new Params().u32(l.n, l.c, l.inner, l.groups, l.cpg, chunk, chunks, 0);
  const consts = { HAS_W: wc ? 1 : 0, HAS_B: bc ? 1 : 0, ACT: ACTS[act], WG: 64 };
  const cols = vec4Cols(l);   // layerNorm: 4 channels an invocation
  const kern = cols ? PARAM_GRAD_COLS_VEC4 : vec4 ? PARAM_GRAD_VEC4 : PARAM_GRAD;
  launch(kern, p, [xc, gc, stats, part, wc ?? xc, bc ?? xc], cols ? grid1d((l.c / 4) * chunks, 64) : [Math.ceil(l.c / 64), chunks], consts);
  const sums = chunks === 1 ? reshape(part, [2 * l.c]) : reduceRows(part, 'sum');
  part.dispose();
  const dw = sums.view([l.c], [1], sums.offset);
  const db = sums.view([l.c], [1], sums.offset + l.c);
  sums.dispose();
  return [dw, db];
}

function checkParam(t: Tensor | undefined, c: number, what: string, op: string): void {
  if (!t) return;
  t.assertAlive();
  if (t.dtype !== 'f32' || t.rank !== 1 || t.shape[0] !== c) {
    throw new Error(`${op}: ${what} must be f32 [${c}], got ${t.dtype} ${fmt(t.shape)}.`);
  }
}

function normalize(op: string, x: Tensor, l: Layout, weight: Tensor | undefined, bias: Tensor | undefined, eps: number, act: NormAct): Tensor {
  x.assertAlive();
  if (x.dtype !== 'f32') throw new Error(`${op}: expects an f32 tensor, got ${x.dtype} ${fmt(x.shape)}.`);
  checkParam(weight, l.c, 'weight', op);
  checkParam(bias, l.c, 'bias', op);
  if (!(eps >= 0)) throw new Error(`${op}: eps must be non-negative, got ${eps}.`);
  if (!(act in ACTS)) throw new Error(`${op}: unknown activation '${act}' (none, silu).`);
  const xc = contiguous(x);
  const wc = weight ? contiguous(weight) : null;
  const bc = bias ? contiguous(bias) : null;
  const y = empty(x.shape);
  const stats = empty([l.rows, 2]);
  if (y.size) {
    bySamples(l, [xc, y, stats], [1, 2], ([xv, yv, sv], lc) => {
      const p = new Params().u32(lc.rows, lc.len, lc.groups, lc.inner, lc.cpg).f32(eps).u32(0, 0);
      // Absent weight/bias: x stands in for them (read-only aliases; the kernel never reads them).
      const cols = vec4Cols(lc);
      launchRows(cols ? FWD_COLS : FWD, lc.rows, lc.len, p, [xv, wc ?? xv, bc ?? xv, yv, sv], { HAS_W: wc ? 1 : 0, HAS_B: bc ? 1 : 0, ACT: ACTS[act] }, cols || vec4Rows(lc));
    });
  }
  const inputs = [x, weight, bias].filter((t): t is Tensor => !!t);
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) {
    xc.dispose();
    wc?.dispose();
    bc?.dispose();
    stats.dispose();
    return y;
  }
  // The backward reads the bias only to recompute a fused activation's input.
  const bg = act === 'none' ? null : bc;
  if (!bg) bc?.dispose();
  // xc, wc, bg and stats live as long as the enclosing scope (the backward pass reads them).
  return record(y, op, inputs, (g) => {
    const gc = contiguous(g);
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(x.shape);
      bySamples(l, [xc, gc, stats, dx], [3], ([xv, gv, sv, dv], lc) => {
        const p = new Params().u32(lc.rows, lc.len, lc.groups, lc.inner, lc.cpg, 0, 0, 0);
        const cols = vec4Cols(lc);
        launchRows(cols ? BWD_COLS : BWD, lc.rows, lc.len, p, [xv, wc ?? xv, gv, sv, dv, bg ?? xv], { HAS_W: wc ? 1 : 0, HAS_B: bg ? 1 : 0, ACT: ACTS[act] }, cols || vec4Rows(lc));
      });
    }
    let dw: Tensor | null = null, db: Tensor | null = null;
    if (weight?.requiresGrad || bias?.requiresGrad) {
      [dw, db] = paramGrads(l, xc, gc, stats, wc, bg, act);
      if (!weight?.requiresGrad) (dw.dispose(), (dw = null));
      if (!bias?.requiresGrad) (db.dispose(), (db = null));
    }
    gc.dispose();
    const grads: (Tensor | null)[] = [dx];
    if (weight) grads.push(dw);
    else dw?.dispose();
    if (bias) grads.push(db);
    else db?.dispose();
    return grads;
  });
}

/**
 * Layer normalisation over the last axis: (x − mean) / sqrt(var + eps) · weight + bias, with the
 * biased variance. x [..., D]; weight and bias [D] (optional); `act` fused after (see NormAct).
 */
export function layerNorm(x: Tensor, weight?: Tensor, bias?: Tensor, eps = 1e-5, act: NormAct = 'none'): Tensor {
  if (x.rank === 0) throw new Error('layerNorm: needs at least one axis, got a scalar.');
  const d = x.shape[x.rank - 1];
  const rows = d ? x.size / d : 0;
  return normalize('layerNorm', x, { rows, len: d, groups: 1, inner: 1, cpg: d, n: rows, c: d }, weight, bias, eps, act);
}

/**
 * Group normalisation: the channels (axis 1) of x [N, C, ...spatial] (NCHW, NCL, ...) split into
 * `groups` groups; each sample's group is normalised over its channels and positions, then
 * scaled and shifted per channel by weight and bias [C] (optional), then `act` (fused).
 */
export function groupNorm(x: Tensor, groups: number, weight?: Tensor, bias?: Tensor, eps = 1e-5, act: NormAct = 'none'): Tensor {
  if (x.rank < 2) throw new Error(`groupNorm: expects [N, C, ...], got ${fmt(x.shape)}.`);
  const [n, c] = x.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) {
    throw new Error(`groupNorm: ${c} channels of ${fmt(x.shape)} do not split into ${groups} groups.`);
  }
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const cpg = c / groups;
  return normalize('groupNorm', x, { rows: n * groups, len: cpg * inner, groups, inner, cpg, n, c }, weight, bias, eps, act);
}
