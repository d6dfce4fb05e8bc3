// How attention() runs where the fused kernels are not the default (src/ops/attention.ts):
//   - the stored-scores path, softmax(scale·q·kᵀ)·v through the ops, for long bidirectional
//     attention on CPU adapters whose matmul shares loads across a subgroup (`storesScores`);
//   - operands over one storage binding: the fused kernels on chunks of heads (`byHeadChunks`).
// q [B, H, Tq, d], k and v [B, H, Tk, d] → [B, H, Tq, d], autograd through every op.

import { runtime } from '../device/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import { mulScalar } from './elementwise.js';
import { clone, concat, reshape, slice, transpose } from './layout.js';
import { matmul, subgroupLanes, type MatmulDevice } from './matmul.js';
import { softmax } from './softmax.js';

export type ScoresPath = 'fused' | 'stored';

/** Largest probability tensor (bytes, every head) the stored path keeps for a backward. */
export const STORED_SCORES_BUDGET = 64 * 1024 * 1024;

/**
 * Whether bidirectional attention stores its scores by default: on a CPU rasteriser whose matmul is
 * the subgroup kernel (a value loaded once per subgroup and broadcast, where the fused kernels load
 * per lane), from 256 keys, while the probabilities fit {@link STORED_SCORES_BUDGET}. Measured on
 * lavapipe (Intel Xeon, `bench attention`, fwd+bwd): the stored path 1.3–1.5× the fused kernels at
 * B4 H4 T256, B1 H4 T512 and T1024 (d 64); parity at B32 H4 T64 d32, where the fused kernels stay
 * (memory linear in T). Causal attention keeps the fused kernels (they skip the masked half).
 */
export function storesScores(d: MatmulDevice, heads: number, tq: number, tk: number, causal: boolean): boolean {
  return !causal && d.isCpu && subgroupLanes(d) !== null && tk >= 256 && heads * tq * tk * 4 <= STORED_SCORES_BUDGET;
}

/**
 * Heads whose operands fit one storage binding: the largest of q/k/v/O (+ L or D after O and dQ,
 * one float per query) per head, below the binding limit less one alignment of slack.
 */
export function headsPerBinding(tq: number, tk: number, d: number): number {
  const rt = runtime();
  return Math.floor((rt.maxBindingBytes - rt.limits.minStorageBufferOffsetAlignment) / (4 * (Math.max(tq, tk) * d + tq)));
}

/**
 * Attention over operands larger than one storage binding: the heads in chunks that fit, each an
 * attention of its own (dense copies of its slices of q, k and v; the outputs concatenated, so
 * autograd runs through each chunk). One sentence where a single head does not fit.
 */
export function byHeadChunks<O>(q: Tensor, k: Tensor, v: Tensor, opts: O, per: number, attend: (q: Tensor, k: Tensor, v: Tensor, opts: O) => Tensor): Tensor {
  const [B, H, tq, d] = q.shape;
  const tk = k.shape[2], n = B * H;
  if (per < 1) {
    throw new Error(`attention: one head of ${tq} queries and ${tk} keys of dim ${d} does not fit one storage binding of ${runtime().maxBindingBytes} bytes; use shorter sequences.`);
  }
  const flat = (t: Tensor) => reshape(t, [1, n, t.shape[2], d]);
  const [qf, kf, vf] = [q, k, v].map(flat);
  const outs: Tensor[] = [];
  for (let h0 = 0; h0 < n; h0 += per) {
    const h1 = Math.min(n, h0 + per);
    // clones: storages of their own (a view of the first heads would still bind the whole tensor)
    const part = (t: Tensor) => clone(slice(t, 1, h0, h1));
    outs.push(attend(part(qf), part(kf), part(vf), opts));
  }
  return reshape(concat(outs, 1), q.shape);
}

/** softmax(scale · q·kᵀ) · v from the ops (autograd through each): the stored-scores path. */
export function storedScoresAttention(q: Tensor, k: Tensor, v: Tensor, scale: number): Tensor {
  return matmul(softmax(mulScalar(matmul(q, transpose(k)), scale), -1), v);
}
