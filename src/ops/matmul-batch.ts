// The batch dimensions of a matmul's operands, read where they lie: a batch of [rows, cols] matrices
// viewed as [batch, rows, cols] with one stride (batchView), or as two levels of batch (twoLevelBatch:
// the heads of a [B, T, H, d] layout), or else copied dense (denseBatch). Broadcast dims have stride 0.

import { empty, sizeOf, type Tensor } from '../tensor/tensor.js';
import { copyInto } from './layout.js';

/** t's strides for each dimension of the broadcast batch shape (0 where t is broadcast). */
function batchStrides(t: Tensor, batchShape: readonly number[]): number[] {
  const r = t.rank, nb = batchShape.length;
  return batchShape.map((_, i) => {
    const ti = i - (nb - (r - 2));
    return ti < 0 || t.shape[ti] === 1 ? 0 : t.strides[ti];
  });
}

/** The one stride of t's batch dims [i0, i1) merged into one (0: broadcast), or null if they do not merge. */
function mergedStride(t: Tensor, batchShape: readonly number[], i0: number, i1: number): number | null {
  const strides = batchStrides(t, batchShape);
  // The dims must be a single arithmetic progression (all stride 0, or mergeable dims).
  const dims = batchShape.map((d, i) => [d, strides[i]]).slice(i0, i1).filter(([d]) => d !== 1);
  if (dims.every(([, s]) => s === 0)) return 0;
  for (let i = 0; i < dims.length - 1; i++) if (dims[i][1] !== dims[i + 1][1] * dims[i + 1][0]) return null;
  return dims[dims.length - 1][1];
}

/** Strides of a batch of matrices viewed as [batch, rows, cols], or null if the batch dims do not merge. */
export function batchView(t: Tensor, batchShape: readonly number[]): { bs: number; rs: number; cs: number } | null {
  const bs = mergedStride(t, batchShape, 0, batchShape.length);
  return bs === null ? null : { bs, rs: t.strides[t.rank - 2], cs: t.strides[t.rank - 1] };
}

/**
 * A batch of two levels: item b = bo·n + bi lies at bo·(outer stride) + bi·(inner stride) of each
 * operand (matmul_params.wgsl b_inner, a_bs2, b_bs2). The attention heads of a [B, T, H, d] layout
 * viewed as [B, H, T, d] are such a batch; read where they lie, they need no dense copy.
 */
export interface BatchSplit { n: number; a: [number, number]; b: [number, number] }

/** The split of the batch dims into outer and inner dims that each merge, for both operands, or null. */
export function twoLevelBatch(a: Tensor, b: Tensor, batchShape: readonly number[]): BatchSplit | null {
  const nb = batchShape.length;
  for (let at = 1; at < nb; at++) {
    const s = [a, b].map((t) => [mergedStride(t, batchShape, 0, at), mergedStride(t, batchShape, at, nb)]);
    if (s.every(([o, i]) => o !== null && i !== null)) {
      return { n: sizeOf(batchShape.slice(at)), a: s[0] as [number, number], b: s[1] as [number, number] };
    }
  }
  return null;
}

/** A dense [...batchShape, rows, cols] copy of t (broadcast batch dims materialised). No autograd. */
export function denseBatch(t: Tensor, batchShape: readonly number[]): Tensor {
  const r = t.rank;
  const view = t.view([...batchShape, t.shape[r - 2], t.shape[r - 1]], [...batchStrides(t, batchShape), t.strides[r - 2], t.strides[r - 1]], t.offset);
  const out = empty(view.shape);
  copyInto(view, out);
  view.dispose();
  return out;
}
