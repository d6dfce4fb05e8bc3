// gatherLast: one element per row along the last axis, picked by i32 indices (gather.wgsl).
// The building block of an unfused cross-entropy: −logSoftmax(logits)[..., target].

import gatherSrc from '../../shaders/gather.wgsl';
import { isGradEnabled, record } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, kernel, launch, Params, sameShape } from './launch.js';
import { contiguous } from './layout.js';
import { forDenseRows } from './binding-window.js';

const PICK = kernel('gather', gatherSrc, 'pick');
const SCATTER = kernel('gather', gatherSrc, 'scatter');
const WG = 64;

/**
 * out[...] = x[..., idx[...]]: x f32 [..., V], idx i32 [...] → f32 [...]. Differentiable in x (the
 * gradient is g at the picked position, 0 elsewhere). An index outside [0, V) picks 0 and gets no
 * gradient (indices are not validated: that would need a readback).
 */
export function gatherLast(x: Tensor, idx: Tensor): Tensor {
  x.assertAlive();
  idx.assertAlive();
  if (x.dtype !== 'f32' || x.rank === 0) throw new Error(`gatherLast: x must be f32 [..., V], got ${x.dtype} ${fmt(x.shape)}.`);
  if (idx.dtype !== 'i32' || !sameShape(idx.shape, x.shape.slice(0, -1))) {
    throw new Error(`gatherLast: idx must be i32 ${fmt(x.shape.slice(0, -1))} for x ${fmt(x.shape)}, got ${idx.dtype} ${fmt(idx.shape)}.`);
  }
  const len = x.shape[x.rank - 1];
  const rows = idx.size;
  if (len === 0 && rows > 0) throw new Error(`gatherLast: the last axis of ${fmt(x.shape)} is empty.`);
  const xc = contiguous(x);
  const ic = contiguous(idx);
  const out = empty(idx.shape);
  // (over a storage binding: chunks of rows, each kernel reading its chunk from element 0)
  const byRows = (ts: Tensor[], written: number, k: typeof PICK, size: (n: number) => number) =>
    forDenseRows('gatherLast', rows, ts, [written], [], (vs, r0, r1) =>
      launch(k, new Params().u32(r1 - r0, len, 0, 0), vs, grid1d(size(r1 - r0), WG), { WG }));
  if (rows) byRows([xc, ic, out], 2, PICK, (n) => n);
  xc.dispose();
  if (!isGradEnabled() || !x.requiresGrad) {
    ic.dispose();
    return out;
  }
  // ic lives in the enclosing scope: the backward pass reads it.
  return record(out, 'gatherLast', [x, idx], (g) => {
    const gc = contiguous(g);
    const dx = empty(x.shape);
    if (dx.size) byRows([gc, ic, dx], 2, SCATTER, (n) => n * len);
    gc.dispose();
    return [dx, null];
  });
}
