// gatherLast: one element per row along the last axis, picked by i32 indices (gather.wgsl).
// The building block of an unfused cross-entropy: −logSoftmax(logits)[..., target].

import gatherSrc from '../../shaders/gather.wgsl';
import { isGradEnabled, record } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, kernel, launch, Params, sameShape } from './launch.js';
import { contiguous } from './layout.js';

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
  const p = new Params().u32(rows, len, 0, 0);
  if (rows) launch(PICK, p, [xc, ic, out], grid1d(rows, WG), { WG });
  xc.dispose();
  if (!isGradEnabled() || !x.requiresGrad) {
    ic.dispose();
    return out;
  }
  // ic lives in the enclosing scope: the backward pass reads it.
  return record(out, 'gatherLast', [x, idx], (g) => {
    const gc = contiguous(g);
    const dx = empty(x.shape);
    if (dx.size) launch(SCATTER, p, [gc, ic, dx], grid1d(dx.size, WG), { WG });
    gc.dispose();
    return [dx, null];
  });
}
