// Dropout: zeroes each element with probability p and scales the survivors by 1/(1 − p), so the
// expected value is unchanged. The mask comes from a Generator (random.ts) and is kept for the
// backward pass (dx = g ⊙ mask), never regenerated.

import { record } from '../autograd/tape.js';
import type { Tensor } from '../tensor/tensor.js';
import { mul } from './elementwise.js';
import { bernoulli, defaultGenerator, type Generator } from './random.js';

/**
 * x ⊙ mask with mask = 1/(1 − p) with probability 1 − p, else 0. With training = false (or p = 0)
 * it is the identity (a view). The mask lives in the enclosing tidy scope until backward reads it.
 */
export function dropout(x: Tensor, p: number, gen: Generator = defaultGenerator(), training = true): Tensor {
  x.assertAlive();
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}.`);
  if (!training || p === 0) return record(x.view(x.shape, x.strides, x.offset), 'dropout', [x], (g) => [g]);
  const mask = bernoulli(x.shape, gen, 1 - p, p < 1 ? 1 / (1 - p) : 0);
  const out = mul(x, mask); // mul's backward is g ⊙ mask: the same mask
  if (!out.node) mask.dispose();
  return out;
}
