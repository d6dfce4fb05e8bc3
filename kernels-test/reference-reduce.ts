// Plain TypeScript reference (float64 accumulation) for the reductions of ops/reduce.ts.

import { numel, stridesOf, unravel, type Host } from './reference-layout.js';

export type ReduceRefOp = 'sum' | 'mean' | 'max' | 'min' | 'argmax' | 'argmin';

/**
 * Reduces `x` over `axes` (non-negative, any order; all axes when undefined). Arg ops take one
 * axis and return the lowest index among ties.
 */
export function reduce(x: Host, op: ReduceRefOp, axes?: readonly number[], keepDims = false): Host {
  const ax = axes ?? [...x.shape.keys()];
  const outKeep = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const shape = keepDims ? outKeep : x.shape.filter((_, i) => !ax.includes(i));
  const n = numel(outKeep);
  const acc = new Float64Array(n).fill(op === 'max' || op === 'argmax' ? -Infinity : op === 'min' || op === 'argmin' ? Infinity : 0);
  const arg = new Float64Array(n).fill(-1);
  const os = stridesOf(outKeep);
  const len = numel(ax.map((a) => x.shape[a]));
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    let o = 0;
    for (let d = 0; d < idx.length; d++) if (!ax.includes(d)) o += idx[d] * os[d];
    const v = x.data[i];
    // Row-major order visits the reduced axis in increasing index: strict comparisons keep the first tie.
    const at = ax.length === 1 ? idx[ax[0]] : 0;
    if (op === 'sum' || op === 'mean') acc[o] += v;
    else if (op === 'max' || op === 'argmax' ? v > acc[o] || arg[o] < 0 : v < acc[o] || arg[o] < 0) {
      acc[o] = v;
      arg[o] = at;
    }
  }
  const data = op === 'mean' ? acc.map((v) => v / len) : op.startsWith('arg') ? arg : acc;
  return { data, shape };
}
