// Tensors made on the GPU: zeros, ones, full, arange (fill.wgsl).

import fillSrc from '../../shaders/fill.wgsl';
import { creationOptions, empty, withGrad, type DType, type Shape, type Tensor, type TensorOptions } from '../tensor/tensor.js';
import { grid1d, kernel, launch, Params } from './launch.js';
import { forRowChunks } from './binding-window.js';

const FILL = kernel('fill', fillSrc);
const WG = 64;

function fillRange(shape: Shape, start: number, step: number, dtype: DType): Tensor {
  const out = empty(shape, dtype);
  if (out.size === 0) return out;
  // (in chunks of elements where the tensor exceeds a storage binding: binding-window.ts)
  const flat = out.view([out.size], [1], 0);
  forRowChunks('fill', out.size, [{ t: flat, axis: 0 }], ([o], r0, r1) =>
    launch(FILL, new Params().u32(r1 - r0, r0).f32(start, step), [o], grid1d(r1 - r0, WG), { I32: dtype === 'f32' ? 0 : 1, WG }),
  );
  flat.dispose();
  return out;
}

/**
 * A tensor of `shape` filled with `value` (filled on the GPU).
 * @param opts a dtype (default 'f32') or {@link TensorOptions}, e.g. `{ requiresGrad: true }`
 */
export function full(shape: Shape, value: number, opts: DType | TensorOptions = 'f32'): Tensor {
  const { dtype, requiresGrad } = creationOptions(opts, 'f32');
  return withGrad(fillRange(shape, value, 0, dtype), requiresGrad, 'full');
}
/** A tensor of zeros; `opts` as for {@link full}. */
export function zeros(shape: Shape, opts: DType | TensorOptions = 'f32'): Tensor {
  return full(shape, 0, opts);
}
/** A tensor of ones; `opts` as for {@link full}. */
export function ones(shape: Shape, opts: DType | TensorOptions = 'f32'): Tensor {
  return full(shape, 1, opts);
}
/** Zeros with the shape and dtype of `t`; `opts` may set requiresGrad (or another dtype). */
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 0, { dtype: opts.dtype ?? t.dtype, requiresGrad: opts.requiresGrad });
}
/** Ones with the shape and dtype of `t`; `opts` may set requiresGrad (or another dtype). */
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return full(t.shape, 1, { dtype: opts.dtype ?? t.dtype, requiresGrad: opts.requiresGrad });
}
/** [start, start+step, ...) with n values (exact for integers below 2^24). */
export function arange(n: number, start = 0, step = 1, dtype: DType = 'i32'): Tensor {
  return fillRange([n], start, step, dtype);
}
