// Reductions along axes: sum, mean, max, min, argmax, argmin (reduce.wgsl). The reduced axes are
// permuted to the end and made dense, so the kernel always reduces rows of a [rows, len] matrix.

import reduceSrc from '../../shaders/reduce.wgsl';
import { record, recordNonDifferentiable } from '../autograd/tape.js';
import { runtime } from '../device/runtime.js';
import { empty, sizeOf, type Tensor } from '../tensor/tensor.js';
import { axisIndex } from './broadcast.js';
import { fmt, grid1d, kernel, launch, Params } from './launch.js';
import { contiguous, copyInto, expand, permute, reshape } from './layout.js';
import { div, equal, mul, mulScalar } from './elementwise.js';
import { allFit, forRowChunks, rowsWindow } from './binding-window.js';

const REDUCE_THREAD = kernel('reduce', reduceSrc, 'per_thread');
const REDUCE_GROUP = kernel('reduce', reduceSrc, 'per_group');
const REDUCE_COLUMNS = kernel('reduce', reduceSrc, 'per_column_vec4');
const OPS = { sum: 0, max: 1, min: 2, argmax: 3, argmin: 4 } as const;
export type ReduceOp = keyof typeof OPS;

/** Checks `t` (alive, f32) and normalises `axes` (default: all) to sorted, unique, non-negative axes. */
function normAxes(t: Tensor, axes: number | readonly number[] | undefined, op: string): number[] {
  t.assertAlive();
  if (t.dtype !== 'f32') throw new Error(`${op}: expects an f32 tensor, got ${t.dtype} ${fmt(t.shape)}.`);
  if (axes === undefined) return [...Array(t.rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  // A scalar has no axes; axis 0 or -1 of it means "the scalar itself" (as in PyTorch).
  if (t.rank === 0) {
    const bad = list.find((a) => a !== 0 && a !== -1);
    if (bad !== undefined) throw new Error(`${op}: axis ${bad} is out of range for a scalar (shape []).`);
    return [];
  }
  return [...new Set(list.map((a) => axisIndex(a, t.rank, op, t.shape)))].sort((a, b) => a - b);
}

/** Which kernel reduces the rows: 'auto' picks by shape and adapter (see launchReduce). */
export type ReduceSchedule = 'auto' | 'per_thread' | 'per_group';

/**
 * Reduces the dense [rows, len] matrix `x` into `out` ([rows] elements, f32 or i32 for arg ops):
 * in chunks of rows where the operands exceed a storage binding (binding-window.ts), and a row
 * longer than one binding in two passes (partial results of its pieces, then theirs).
 */
function launchReduce(x: Tensor, out: Tensor, rows: number, len: number, op: ReduceOp, scale: number, schedule: ReduceSchedule): void {
  if (4 * len + 256 > runtime().maxBindingBytes && !allFit([x, out])) {
    for (let r = 0; r < rows; r++) {
      const row = x.view([len], [1], x.offset + r * len), one = out.view([1], [1], out.offset + r);
      reduceLongRow(row, one, op, scale);
      row.dispose();
      one.dispose();
    }
    return;
  }
  const x2 = x.view([rows, len], [len, 1], x.offset);
  forRowChunks(op, rows, [{ t: x2, axis: 0 }, { t: out, axis: 0 }], ([xv, ov], r0, r1) =>
    launchReducePart(xv, ov, r1 - r0, len, op, scale, schedule),
  );
  x2.dispose();
}

/** One row of `len` elements over a binding: pieces reduced to partials, then the partials. */
function reduceLongRow(row: Tensor, out: Tensor, op: ReduceOp, scale: number): void {
  if (op === 'argmax' || op === 'argmin') throw new Error(`${op}: a row of ${row.size} elements exceeds one storage binding (${runtime().maxBindingBytes} bytes).`);
  const piece = Math.floor((runtime().maxBindingBytes - 256) / 4);
  const pieces = Math.ceil(row.size / piece);
  const partial = empty([pieces]);
  for (let i = 0; i < pieces; i++) {
    const v = rowsWindow(row, 0, i * piece, Math.min(row.size, (i + 1) * piece));
    const o = partial.view([1], [1], i);
    launchReducePart(v, o, 1, v.size, op, 1, 'auto');
    v.dispose();
    o.dispose();
  }
  launchReduce(partial, out, 1, pieces, op, scale, 'auto');
  partial.dispose();
}

function launchReducePart(x: Tensor, out: Tensor, rows: number, len: number, op: ReduceOp, scale: number, schedule: ReduceSchedule): void {
  // reduce.wgsl indexes from the start of its bindings: a chunk off a binding boundary goes through
  // copies at offset 0.
  if (x.offset !== 0 || out.offset !== 0) {
    const xc = contiguous(x), tmp = empty(out.shape, out.dtype);
    launchReducePart(xc, tmp, rows, len, op, scale, schedule);
    copyInto(tmp, out);
    xc.dispose();
    tmp.dispose();
    return;
  }
  const p = new Params().u32(rows, len).f32(scale).u32(0);
  const constants = { OP: OPS[op], WG: 64 };
  if (schedule === 'auto') {
    // Few long rows: a workgroup per row (tree in shared memory). Many rows: a thread per row (no
    // barriers), once there are enough rows to fill the device's cores.
    const cores = runtime().isCpu ? 64 : 4096;
    schedule = rows < cores && len >= 256 ? 'per_group' : 'per_thread';
  }
  if (schedule === 'per_group') launch(REDUCE_GROUP, p, [x, out], grid1d(rows, 1), constants);
  else launch(REDUCE_THREAD, p, [x, out], grid1d(rows, 64), constants);
}

/** Runs the raw row reduction; returns the result with reduced axes removed (or kept as 1). */
function reduceRaw(t: Tensor, axes: number[], op: ReduceOp, keepDims: boolean, scale = 1): Tensor {
  const kept = [...Array(t.rank).keys()].filter((a) => !axes.includes(a));
  const outShape = keepDims ? t.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((a) => t.shape[a]);
  const rows = sizeOf(kept.map((a) => t.shape[a]));
  const len = sizeOf(axes.map((a) => t.shape[a]));
  if (len === 0 && op !== 'sum') throw new Error(`${op}: cannot reduce over an empty axis of ${fmt(t.shape)}.`);
  const out = empty(outShape, op.startsWith('arg') ? 'i32' : 'f32');
  if (rows === 0) return out;
  if (sumsLeadingAxes(t, axes, op, rows)) {
    launch(REDUCE_COLUMNS, new Params().u32(rows, len).f32(scale).u32(0), [t, out], grid1d(rows / 4, 64), { OP: 0, WG: 64 });
    return out;
  }
  const perm = permute(t, [...kept, ...axes]);
  const dense = contiguous(perm);
  perm.dispose();
  launchReduce(dense, out, rows, len, op, scale, 'auto');
  dense.dispose();
  return out;
}

/**
 * Whether reduceRaw sums columns in place (reduce.wgsl per_column_vec4) instead of permuting the
 * reduced axes last and copying: a sum over the leading axes of a dense tensor at offset 0 with
 * whole vec4s of kept elements, within one binding, on CPU adapters (measured there).
 */
function sumsLeadingAxes(t: Tensor, axes: number[], op: ReduceOp, rows: number): boolean {
  return op === 'sum' && runtime().isCpu && axes.length > 0 && axes.every((a, i) => a === i) && t.isContiguous
    && rows % 4 === 0 && 4 * t.size <= runtime().maxBindingBytes;
}

/**
 * Reduces each row of a [rows, len] tensor to [rows] with an explicit kernel schedule (for tests
 * and benches that must exercise both; ops use 'auto'). No autograd.
 */
export function reduceRows(x: Tensor, op: ReduceOp, schedule: ReduceSchedule = 'auto'): Tensor {
  if (x.rank !== 2) throw new Error(`reduceRows: expects a [rows, len] tensor, got ${fmt(x.shape)}.`);
  normAxes(x, 1, op);
  const [rows, len] = x.shape;
  if (len === 0 && op !== 'sum') throw new Error(`${op}: cannot reduce over an empty axis of ${fmt(x.shape)}.`);
  const out = empty([rows], op.startsWith('arg') ? 'i32' : 'f32');
  if (rows === 0) return out;
  const dense = contiguous(x);
  launchReduce(dense, out, rows, len, op, 1, schedule);
  dense.dispose();
  return out;
}

/** Sum over `axes` (all by default). No autograd: the building block of gradients. */
export function sumAxes(t: Tensor, axes: readonly number[], keepDims: boolean): Tensor {
  return reduceRaw(t, normAxes(t, axes, 'sum'), 'sum', keepDims);
}

export function sum(t: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normAxes(t, axes, 'sum');
  const out = reduceRaw(t, ax, 'sum', keepDims);
  return record(out, 'sum', [t], (g) => [broadcastBack(g, t, ax, keepDims)]);
}

export function mean(t: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normAxes(t, axes, 'mean');
  const n = sizeOf(ax.map((a) => t.shape[a]));
  const out = reduceRaw(t, ax, 'sum', keepDims, 1 / n);
  return record(out, 'mean', [t], (g) => {
    const b = broadcastBack(g, t, ax, keepDims);
    const s = mulScalar(b, 1 / n);
    b.dispose();
    return [s];
  });
}

function minmax(op: 'max' | 'min', t: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  const ax = normAxes(t, axes, op);
  const out = reduceRaw(t, ax, op, keepDims);
  return record(out, op, [t], (g) => {
    // The gradient goes to the elements equal to the extreme; k tied elements get g/k each (a
    // subgradient, as PyTorch's amax), so the total is g whichever way the tie is broken.
    const ob = broadcastBack(out, t, ax, keepDims);
    const mask = equal(t, ob);
    const count = sumAxes(mask, ax, keepDims);
    const share = div(g, count);
    const sb = broadcastBack(share, t, ax, keepDims);
    const r = mul(mask, sb);
    ob.dispose(); mask.dispose(); count.dispose(); share.dispose(); sb.dispose();
    return [r];
  });
}
export const max = (t: Tensor, axes?: number | readonly number[], keepDims = false) => minmax('max', t, axes, keepDims);
export const min = (t: Tensor, axes?: number | readonly number[], keepDims = false) => minmax('min', t, axes, keepDims);

/** Index of the largest element along `axis` (i32; ties → the lowest index). Not differentiable. */
export function argmax(t: Tensor, axis = -1, keepDims = false): Tensor {
  return recordNonDifferentiable(reduceRaw(t, normAxes(t, axis, 'argmax'), 'argmax', keepDims), 'argmax', [t]);
}
/** Index of the smallest element along `axis` (i32; ties → the lowest index). Not differentiable. */
export function argmin(t: Tensor, axis = -1, keepDims = false): Tensor {
  return recordNonDifferentiable(reduceRaw(t, normAxes(t, axis, 'argmin'), 'argmin', keepDims), 'argmin', [t]);
}

/** Expands a reduced gradient back over the reduced axes of `t` (dense result). */
function broadcastBack(g: Tensor, t: Tensor, axes: number[], keepDims: boolean): Tensor {
  const kshape = t.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const gk = keepDims ? g : reshape(g, kshape);
  const e = expand(gk, t.shape);
  const c = contiguous(e);
  if (gk !== g) gk.dispose();
  e.dispose();
  return c;
}
