import type { Tensor } from '../tensor/tensor.js';

/** The same values with no gradient path (e.g. the straight-through estimator: x + detach(q - x)). */
export function detach(t: Tensor): Tensor {
  return t.view(t.shape, t.strides, t.offset);
}
