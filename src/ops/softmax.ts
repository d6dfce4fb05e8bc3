// softmax and logSoftmax along one axis (softmax.wgsl, softmax_grad.wgsl). The kernels work on
// rows of a dense [rows, len] matrix; any other axis is permuted last and made dense first, and
// the result is permuted back (a view).

import softmaxSrc from '../../shaders/softmax.wgsl';
import softmaxGradSrc from '../../shaders/softmax_grad.wgsl';
import rowLiveSrc from '../../shaders/row_live.wgsl';
import { noGrad, record } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { axisIndex } from './broadcast.js';
import { fmt, includeSnippet, kernel, Params } from './launch.js';
import { contiguous, permute } from './layout.js';
import { launchRows } from './row-schedule.js';
import { forDenseRows } from './binding-window.js';

const withRowLive = (src: string) => includeSnippet(src, 'row_live.wgsl', rowLiveSrc);
// threadVec4: the thread schedule reading and writing rows of a multiple of 4 columns as vec4s.
const FWD = {
  thread: kernel('softmax', withRowLive(softmaxSrc), 'per_thread'),
  group: kernel('softmax', withRowLive(softmaxSrc), 'per_group'),
  threadVec4: kernel('softmax', withRowLive(softmaxSrc), 'per_thread_vec4'),
};
const BWD = {
  thread: kernel('softmax_grad', withRowLive(softmaxGradSrc), 'per_thread'),
  group: kernel('softmax_grad', withRowLive(softmaxGradSrc), 'per_group'),
  threadVec4: kernel('softmax_grad', withRowLive(softmaxGradSrc), 'per_thread_vec4'),
};

/**
 * Causal rows (the scores of causal attention, [..., Tq, Tk] along the last axis): row q reads its
 * first q + off + 1 entries only and gets 0 past them (nothing with `deadUnwritten`), whatever they hold.
 */
export interface CausalRows {
  tq: number;
  off: number;
  /** the forward writes nothing past the diagonal (for readers that take it as 0: the triangular products) */
  deadUnwritten?: boolean;
}

/** The kernels' Params: rows r0..r1 of `len`, causal or not. */
const rowParams = (r0: number, r1: number, len: number, c?: CausalRows) =>
  new Params().u32(r1 - r0, len, c?.tq ?? 0, c?.off ?? 0, r0, c?.deadUnwritten ? 1 : 0, 0, 0);

function softmaxAlong(x: Tensor, axis: number, log: boolean, causal?: CausalRows): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  x.assertAlive();
  if (x.dtype !== 'f32') throw new Error(`${name}: expects an f32 tensor, got ${x.dtype} ${fmt(x.shape)}.`);
  if (x.rank === 0) throw new Error(`${name}: needs at least one axis, got a scalar.`);
  const a = axisIndex(axis, x.rank, name);
  const len = x.shape[a];
  const rows = len ? x.size / len : 0;
  // perm moves axis `a` last; inv undoes it.
  const perm = [...Array(x.rank).keys()].filter((i) => i !== a).concat(a);
  const inv = perm.map((_, i) => perm.indexOf(i));
  const last = a === x.rank - 1;
  if (causal && !(last && x.rank >= 2 && x.shape[x.rank - 2] === causal.tq && causal.off >= 0)) throw new Error(`${name}: causal rows need the last axis of [..., ${causal.tq}, Tk] and an offset ≥ 0, got ${fmt(x.shape)} along ${axis}.`);

  const y = noGrad(() => {
    const xp = last ? x : permute(x, perm);
    const xc = contiguous(xp);
    const out = empty(xc.shape);
    if (out.size) forDenseRows(name, rows, [xc, out], [1], [], ([xv, ov], r0, r1) => launchRows(FWD, r1 - r0, len, rowParams(r0, r1, len, causal), [xv, ov], { LOG: log ? 1 : 0 }, len % 4 === 0));
    if (xp !== x) xp.dispose();
    xc.dispose();
    if (last) return out;
    const back = permute(out, inv);
    out.dispose();
    return back;
  });

  return record(y, name, [x], (g) => {
    // y and g in the kernel's [rows, len] layout (a view of y's storage when y is a permuted view).
    const yp = last ? contiguous(y) : permute(y, perm);
    const yc = contiguous(yp);
    const gp = last ? g : permute(g, perm);
    const gc = contiguous(gp);
    const dx = empty(yc.shape);
    if (dx.size) forDenseRows(name, rows, [yc, gc, dx], [2], [], ([yv, gv, dv], r0, r1) => launchRows(BWD, r1 - r0, len, rowParams(r0, r1, len, causal), [yv, gv, dv], { LOG: log ? 1 : 0 }, len % 4 === 0));
    for (const t of [yp, yc, gc]) t.dispose();
    if (gp !== g) gp.dispose();
    if (last) return [dx];
    const back = permute(dx, inv);
    dx.dispose();
    return [back];
  });
}

/**
 * exp(x) / Σ exp(x) along `axis` (default: the last), shifted by the row maximum for stability.
 * Masked entries may be −∞ (they get 0); a row with every entry −∞ gives NaN, as 0/0 should.
 */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxAlong(x, axis, false);
}

/**
 * softmax over causal rows of x [..., Tq, Tk] (last axis): row q over keys j ≤ q + off, 0 past them,
 * never read there; with `deadUnwritten`, nothing written past them (what lies there is undefined:
 * for readers that take it as 0, the triangular products of causal attention).
 */
export function causalSoftmax(x: Tensor, off: number, deadUnwritten = false): Tensor {
  return softmaxAlong(x, -1, false, { tq: x.shape[x.rank - 2], off, deadUnwritten });
}

/** log(softmax(x)) along `axis`, computed as x − max − log Σ exp(x − max) (no log of tiny values). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxAlong(x, axis, true);
}
