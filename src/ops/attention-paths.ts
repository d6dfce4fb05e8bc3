// How attention() runs where the fused kernels are not the default (src/ops/attention.ts):
//   - the stored-scores path, softmax(scale·q·kᵀ + mask)·v through the ops, on CPU adapters whose
//     matmul shares loads across a subgroup (causal: triangular products), and on GPUs where too
//     few rows leave the fused kernels' one-row-per-invocation grid short (`storesScores`);
//   - operands over one storage binding: the fused kernels on chunks of heads (`byHeadChunks`).
// q [B, H, Tq, d], k and v [B, H, Tk, d] → [B, H, Tq, d], autograd through every op.

import { runtime } from '../device/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import { add } from './elementwise.js';
import { keep } from '../tensor/scope.js';
import { tensor } from '../tensor/tensor.js';
import { clone, concat, reshape, slice, transpose } from './layout.js';
import { currentDevice, matmul, matmulRaw, subgroupLanes, type MatmulDevice } from './matmul.js';
import { record } from '../autograd/tape.js';
import { causalSoftmax, softmax } from './softmax.js';

export type ScoresPath = 'fused' | 'stored';

/** Largest probability tensor (bytes, every head) the stored path keeps for a backward. */
export const STORED_SCORES_BUDGET = 64 * 1024 * 1024;

/**
 * Rows (B·H·Tq) below which a GPU runs attention as the stored-scores path: the fused kernels run a
 * row per invocation there, and a few thousand rows leave a large GPU idle. Measured on an NVIDIA
 * H200 (docs/gpu.md, B1 H4 T1024 d64 causal fwd+bwd, 4,096 rows): the fused kernels 348 GFLOP/s,
 * matmul + softmax + matmul 990. Not measured on other GPUs: `bench attention` tells.
 */
export const GPU_STORED_ROWS = 65536;

/**
 * Whether attention stores its scores by default (while the probabilities fit
 * {@link STORED_SCORES_BUDGET}):
 *   - on a CPU rasteriser whose matmul is the subgroup kernel (a value loaded once per subgroup and
 *     broadcast, where the fused kernels load per lane): always, causal attention as triangular
 *     products that skip the masked half. Measured on lavapipe (Intel Xeon, fwd+bwd against the
 *     fused kernels): causal 1.34× at B1 H4 T1024 d64, 1.5× at B32 H4 T64 d32 (the priors), 1.7–2.2×
 *     at T16 and T32; bidirectional 1.3–1.5× from 256 keys, 1.1× at B32 H4 T64 d32;
 *   - on a GPU: fewer than {@link GPU_STORED_ROWS} rows, causal or not.
 */
export function storesScores(d: MatmulDevice, heads: number, tq: number, tk: number, causal: boolean): boolean {
  if (heads * tq * tk * 4 > STORED_SCORES_BUDGET) return false;
  if (d.isCpu) return subgroupLanes(d) !== null;
  return heads * tq < GPU_STORED_ROWS;
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

/**
 * Additive causal masks [Tq, Tk] by size (0 where query i sees key j ≤ i + Tk − Tq, else −1e30),
 * made once per device (a new runtime gets its own).
 */
const causalMasks = new WeakMap<object, Map<string, Tensor>>();

function causalMask(tq: number, tk: number): Tensor {
  const rt = runtime();
  let masks = causalMasks.get(rt);
  if (!masks) causalMasks.set(rt, (masks = new Map()));
  const key = `${tq}x${tk}`;
  let m = masks.get(key);
  if (!m || m.isDisposed) {
    const data = new Float32Array(tq * tk);
    for (let i = 0; i < tq; i++) data.fill(-1e30, i * tk + i + (tk - tq) + 1, (i + 1) * tk);
    m = keep(tensor(data, [tq, tk]));
    masks.set(key, m);
  }
  return m;
}

/**
 * softmax(scale · q·kᵀ (+ the causal mask)) · v from the ops (autograd through each): the stored-scores
 * path. Causal, where the subgroup kernel runs the products: triangular products that skip the work
 * past the diagonal in all six (about half of each), and softmax rows that stop at the diagonal
 * (causalSoftmax: 0 past it, written, never read).
 */
export function storedScoresAttention(q: Tensor, k: Tensor, v: Tensor, scale: number, causal: boolean): Tensor {
  if (causal && triangularProducts(q.shape[0] * q.shape[1], q.shape[2], k.shape[2], q.shape[3])) {
    const off = k.shape[2] - q.shape[2];
    // P and dS written up to the diagonal only: the triangular products read them as 0 past it
    return causalWeighted(causalSoftmax(scores(q, k, scale, off), off, true), v, off);
  }
  const s = scores(q, k, scale, null);
  return matmul(softmax(causal ? add(s, causalMask(q.shape[2], k.shape[2])) : s, -1), v);
}

/**
 * Whether causal stored attention runs as triangular products: on a CPU rasteriser with the subgroup
 * kernel (any shape), every operand within one binding (GPUs keep their tiled products and the mask).
 */
function triangularProducts(heads: number, tq: number, tk: number, dh: number): boolean {
  const d = currentDevice();
  return d.isCpu && tk >= tq && subgroupLanes(d) !== null && storedScoresFit(heads, tq, tk, dh);
}

/** Whether q, k, v, O and the probabilities [heads, Tq, Tk] each fit one storage binding. */
export function storedScoresFit(heads: number, tq: number, tk: number, dh: number): boolean {
  return headsPerBinding(tq, tk, dh) >= heads && heads * tq * tk * 4 <= runtime().maxBindingBytes;
}

/**
 * scale · q·kᵀ [B, H, Tq, Tk], the scale applied as the product is stored (no pass of its own, either
 * way). Causal (`off` = Tk − Tq): only up to each query's last key (j ≤ i + off); past it never
 * computed nor written (only causalSoftmax reads it). `off` null: every score, by the default kernel.
 * Backward: dq = scale·dS·k, dk = scale·dSᵀ·q; causal, dS is 0 past the diagonal (softmax's gradient
 * is P·(…), P = 0 there), so dq's sum stops at the diagonal and dk's starts there.
 */
function scores(q: Tensor, k: Tensor, scale: number, off: number | null): Tensor {
  const variant = off === null ? 'auto' : 'subgroup';
  const tri = (kind: 'lower' | 'kUpTo' | 'kFrom') => (off === null ? undefined : { kind, off });
  const kt = transpose(k);
  const s = matmulRaw(q, kt, scale, variant, tri('lower'));
  kt.dispose();
  return record(s, off === null ? 'scores' : 'causal_scores', [q, k], (g) => {
    const gt = transpose(g);
    const dq = q.requiresGrad ? matmulRaw(g, k, scale, variant, tri('kUpTo')) : null;
    const dk = k.requiresGrad ? matmulRaw(gt, q, scale, variant, tri('kFrom')) : null;
    gt.dispose();
    return [dq, dk];
  });
}

/**
 * P·v for probabilities P [B, H, Tq, Tk] that are 0 past the diagonal: the sum over keys stops there.
 * Backward: dP = dO·vᵀ only up to the diagonal (causalSoftmax's gradient reads nothing past it),
 * dv = Pᵀ·dO from the diagonal on.
 */
function causalWeighted(p: Tensor, v: Tensor, off: number): Tensor {
  const out = matmulRaw(p, v, 1, 'subgroup', { kind: 'kUpTo', off });
  return record(out, 'causal_weighted', [p, v], (g) => {
    const vt = transpose(v), pt = transpose(p);
    const dp = p.requiresGrad ? matmulRaw(g, vt, 1, 'subgroup', { kind: 'lower', off }) : null;
    const dv = v.requiresGrad ? matmulRaw(pt, g, 1, 'subgroup', { kind: 'kFrom', off }) : null;
    vt.dispose();
    pt.dispose();
    return [dp, dv];
  });
}
