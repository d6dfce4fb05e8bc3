// Dtype conversion (cast.wgsl): cast(t, 'i32') truncates f32 toward zero (saturating at -2^31 and
// 2^31 - 128); cast(t, 'f32') converts i32 exactly below 2^24. Casting to the same dtype is a
// differentiable copy; a conversion has no gradient (integers carry none), and backward through
// one throws naming the producing op.

import castSrc from '../../shaders/cast.wgsl';
import { recordNonDifferentiable } from '../autograd/tape.js';
import { empty, type DType, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, kernel, launch, Params } from './launch.js';
import { clone, contiguous } from './layout.js';

const CAST = kernel('cast', castSrc);
const WG = 64;

export function cast(t: Tensor, dtype: DType): Tensor {
  t.assertAlive();
  if (dtype === t.dtype) return clone(t);
  const pair = `${t.dtype}→${dtype}`;
  if (pair !== 'f32→i32' && pair !== 'i32→f32') {
    throw new Error(`cast: ${pair} is not supported (only f32 ↔ i32), for ${fmt(t.shape)}.`);
  }
  const out = empty(t.shape, dtype);
  if (out.size) {
    const dense = contiguous(t);
    launch(CAST, new Params().u32(t.size), [dense, out], grid1d(t.size, WG), { TO_INT: dtype === 'i32' ? 1 : 0, WG });
    dense.dispose();
  }
  // Name the op that made an integer input (e.g. 'cast(argmax)'): that is where the gradient stops.
  const name = t.node ? `cast(${t.node.name})` : 'cast';
  return recordNonDifferentiable(out, name, [t]);
}
