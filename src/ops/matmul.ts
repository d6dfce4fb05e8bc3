// Batched matrix product with broadcasting over leading (batch) dimensions, on matmul.wgsl.
// a: [..., M, K], b: [..., K, N] → [..., M, N]. Transposed operands are strided views: no copy.

import matmulSrc from '../../shaders/matmul.wgsl';
import { record } from '../autograd/tape.js';
import { runtime } from '../device/runtime.js';
import { empty, sizeOf, type Tensor } from '../tensor/tensor.js';
import { broadcastShapes } from './broadcast.js';
import { fmt, kernel, launch, Params } from './launch.js';
import { contiguous, reshape, sumTo, transpose } from './layout.js';

const MATMUL = kernel('matmul', matmulSrc);

/** Strides of a batch of matrices viewed as [batch, rows, cols], or null if the batch dims do not merge. */
function batchView(t: Tensor, batchShape: number[]): { bs: number; rs: number; cs: number } | null {
  const r = t.rank;
  const rs = t.strides[r - 2], cs = t.strides[r - 1];
  const nb = batchShape.length;
  // Strides of t's batch dims aligned to batchShape (0 for broadcast dims).
  const strides: number[] = [];
  for (let i = 0; i < nb; i++) {
    const ti = i - (nb - (r - 2));
    strides.push(ti < 0 || t.shape[ti] === 1 ? 0 : t.strides[ti]);
  }
  // The batch must be a single arithmetic progression (all stride 0, or mergeable dims).
  const dims = batchShape.map((d, i) => [d, strides[i]]).filter(([d]) => d !== 1);
  if (dims.length === 0) return { bs: 0, rs, cs };
  if (dims.every(([, s]) => s === 0)) return { bs: 0, rs, cs };
  for (let i = 0; i < dims.length - 1; i++) if (dims[i][1] !== dims[i + 1][1] * dims[i + 1][0]) return null;
  return { bs: dims[dims.length - 1][1], rs, cs };
}

/** C = alpha · A·B with no autograd. Inputs are rank ≥ 2 (use reshape for vectors). */
export function matmulRaw(a: Tensor, b: Tensor, alpha = 1): Tensor {
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands must have rank ≥ 2, got ${fmt(a.shape)} and ${fmt(b.shape)}.`);
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new Error('matmul: operands must be f32.');
  const M = a.shape[a.rank - 2], K = a.shape[a.rank - 1], N = b.shape[b.rank - 1];
  if (b.shape[b.rank - 2] !== K) throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)} · ${fmt(b.shape)}.`);
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  const out = empty([...batchShape, M, N]);
  if (out.size === 0) return out;
  let A = a, B = b;
  let av = batchView(A, batchShape);
  if (!av) { A = contiguous(a); av = batchView(A, batchShape)!; }
  let bv = batchView(B, batchShape);
  if (!bv) { B = contiguous(b); bv = batchView(B, batchShape)!; }
  const TM = 4, TN = 4, WGX = 8, WGY = 8;
  const maxZ = runtime().limits.maxComputeWorkgroupsPerDimension;
  // Very large batches are split into chunks of the z grid limit.
  for (let b0 = 0; b0 < batch; b0 += maxZ) {
    const nb = Math.min(maxZ, batch - b0);
    const p = new Params()
      .u32(M, N, K, nb)
      .u32(A.offset + b0 * av.bs, av.bs, av.rs, av.cs)
      .u32(B.offset + b0 * bv.bs, bv.bs, bv.rs, bv.cs)
      .u32(M * N)
      .f32(alpha)
      .u32(0, 0);
    const outView = b0 === 0 ? out : out.view([nb, M, N], [M * N, N, 1], b0 * M * N);
    launch(MATMUL, p, [A, B, outView], [Math.ceil(N / (TN * WGX)), Math.ceil(M / (TM * WGY)), nb], { WGX, WGY });
    if (outView !== out) outView.dispose();
  }
  if (A !== a) A.dispose();
  if (B !== b) B.dispose();
  return out;
}

/** Matrix product with autograd; batch dimensions broadcast. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (b.rank === 2 && a.rank > 2) {
    // [..., M, K] · [K, N]: one big 2-D product (and a 2-D weight gradient, no batch sum).
    const K = a.shape[a.rank - 1];
    const a2 = reshape(a, [-1, K]);
    const o2 = matmul(a2, b);
    const out = reshape(o2, [...a.shape.slice(0, -1), b.shape[1]]);
    a2.dispose();
    o2.dispose();
    return out;
  }
  const out = matmulRaw(a, b);
  return record(out, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (a.requiresGrad) {
      const bt = transpose(b);
      const full = matmulRaw(g, bt);
      bt.dispose();
      ga = sumBatch(full, a);
    }
    if (b.requiresGrad) {
      const at = transpose(a);
      const full = matmulRaw(at, g);
      at.dispose();
      gb = sumBatch(full, b);
    }
    return [ga, gb];
  });
}

/** Sums a gradient computed over the broadcast batch back to the operand's own batch shape. */
function sumBatch(full: Tensor, operand: Tensor): Tensor {
  if (full.rank === operand.rank && full.shape.every((d, i) => d === operand.shape[i])) return full;
  // Leading dims the operand lacks: a product over them is a single matmul when the operand is 2-D.
  const r = sumTo(full, operand.shape);
  full.dispose();
  return r;
}

