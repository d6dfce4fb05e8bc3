// Reductions along axes: sum, mean, max, min, argmax, argmin (reduce.wgsl). The reduced axes are
// permuted to the end and made dense, so the kernel always reduces rows of a [rows, len] matrix.

import reduceSrc from '../../shaders/reduce.wgsl';
import { record, recordNonDifferentiable } from '../autograd/tape.js';
import { runtime } from '../device/runtime.js';
import { empty, sizeOf, type Tensor } from '../tensor/tensor.js';
import { axisIndex } from './broadcast.js';
import { grid1d, kernel, launch, Params } from './launch.js';
import { contiguous, expand, permute, reshape } from './layout.js';
import { equal, mul, mulScalar } from './elementwise.js';

const REDUCE_THREAD = kernel('reduce', reduceSrc, 'per_thread');
const REDUCE_GROUP = kernel('reduce', reduceSrc, 'per_group');
const OPS = { sum: 0, max: 1, min: 2, argmax: 3, argmin: 4 } as const;
type ReduceOp = keyof typeof OPS;

function normAxes(t: Tensor, axes: number | readonly number[] | undefined, op: string): number[] {
  if (axes === undefined) return [...Array(t.rank).keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  return [...new Set(list.map((a) => axisIndex(a, t.rank, op)))].sort((a, b) => a - b);
}

/** Runs the raw row reduction; returns the result with reduced axes removed (or kept as 1). */
function reduceRaw(t: Tensor, axes: number[], op: ReduceOp, keepDims: boolean, scale = 1): Tensor {
  const kept = [...Array(t.rank).keys()].filter((a) => !axes.includes(a));
  const outShape = keepDims ? t.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((a) => t.shape[a]);
  const rows = sizeOf(kept.map((a) => t.shape[a]));
  const len = sizeOf(axes.map((a) => t.shape[a]));
  if (len === 0 && op !== 'sum') throw new Error(`${op}: cannot reduce over an empty axis of [${t.shape}].`);
  const perm = permute(t, [...kept, ...axes]);
  const dense = contiguous(perm);
  perm.dispose();
  const out = empty(outShape, op.startsWith('arg') ? 'i32' : 'f32');
  const p = new Params().u32(rows, len).f32(scale).u32(0);
  const constants = { OP: OPS[op], WG: 64 };
  // Few long rows: a workgroup per row. Many rows: a thread per row (no barriers).
  const cores = runtime().isCpu ? 64 : 4096;
  if (rows < cores && len >= 256) launch(REDUCE_GROUP, p, [dense, out], grid1d(rows, 1), constants);
  else launch(REDUCE_THREAD, p, [dense, out], grid1d(rows, 64), constants);
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
    // The gradient goes to every element equal to the extreme (ties share it, as in a subgradient).
    const ob = broadcastBack(out, t, ax, keepDims);
    const mask = equal(t, ob);
    const gb = broadcastBack(g, t, ax, keepDims);
    const r = mul(mask, gb);
    ob.dispose(); mask.dispose(); gb.dispose();
    return [r];
  });
}
export const max = (t: Tensor, axes?: number | readonly number[], keepDims = false) => minmax('max', t, axes, keepDims);
export const min = (t: Tensor, axes?: number | readonly number[], keepDims = false) => minmax('min', t, axes, keepDims);

export function argmax(t: Tensor, axis = -1, keepDims = false): Tensor {
  return recordNonDifferentiable(reduceRaw(t, [axisIndex(axis, t.rank, 'argmax')], 'argmax', keepDims), 'argmax', [t]);
}
export function argmin(t: Tensor, axis = -1, keepDims = false): Tensor {
  return recordNonDifferentiable(reduceRaw(t, [axisIndex(axis, t.rank, 'argmin')], 'argmin', keepDims), 'argmin', [t]);
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
