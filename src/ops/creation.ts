// Tensors made on the GPU: zeros, ones, full, arange (fill.wgsl).

import fillSrc from '../../shaders/fill.wgsl';
import { empty, type DType, type Shape, type Tensor } from '../tensor/tensor.js';
import { grid1d, kernel, launch, Params } from './launch.js';

const FILL = kernel('fill', fillSrc);
const WG = 64;

function fillRange(shape: Shape, start: number, step: number, dtype: DType): Tensor {
  const out = empty(shape, dtype);
  if (out.size === 0) return out;
  launch(FILL, new Params().u32(out.size, 0).f32(start, step), [out], grid1d(out.size, WG), { I32: dtype === 'f32' ? 0 : 1, WG });
  return out;
}

export function full(shape: Shape, value: number, dtype: DType = 'f32'): Tensor {
  return fillRange(shape, value, 0, dtype);
}
export function zeros(shape: Shape, dtype: DType = 'f32'): Tensor {
  return full(shape, 0, dtype);
}
export function ones(shape: Shape, dtype: DType = 'f32'): Tensor {
  return full(shape, 1, dtype);
}
export function zerosLike(t: Tensor): Tensor {
  return full(t.shape, 0, t.dtype);
}
export function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, t.dtype);
}
/** [start, start+step, ...) with n values (exact for integers below 2^24). */
export function arange(n: number, start = 0, step = 1, dtype: DType = 'i32'): Tensor {
  return fillRange([n], start, step, dtype);
}
