import type { Tensor } from '../tensor/tensor.js';
import { add, sub } from './elementwise.js';

/** The same values with no gradient path (e.g. the straight-through estimator: x + detach(q - x)). */
export function detach(t: Tensor): Tensor {
  return t.view(t.shape, t.strides, t.offset);
}

/**
 * `value`'s numbers with `path`'s gradient: path + detach(value − path), the straight-through
 * estimator (a quantizer's codes with the encoder's gradient; a clamped image with the raw one's).
 */
export function straightThrough(value: Tensor, path: Tensor): Tensor {
  return add(path, detach(sub(value, path)));
}
