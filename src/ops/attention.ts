// Fused multi-head scaled dot-product attention (attention.wgsl, attention_bwd.wgsl,
// attention_dq.wgsl, attention_dkv.wgsl), flash-attention style: the T×T score matrix is never
// stored. Sampling's decode step against a KV cache: attention-decode.ts.
//
//   attention(q, k, v, { causal, scale })      q: [B, H, Tq, d], k, v: [B, H, Tk, d] → [B, H, Tq, d]
//     (kernel variants by adapter, or per call: { backward: 'one-pass' | 'two-pass', rows })
//
// Forward keeps O and the per-row log-sum-exp L [B·H·Tq]; backward recomputes the scores tile by
// tile from Q, K and L, in one of two deterministic schemes (no float atomics):
//   - one pass (attention_bwd.wgsl): each (query block, key block) pair is visited once and adds
//     its share of dQ, dK and dV (5 T×T×d products); a diagonal schedule of dispatches gives every
//     gradient block one writer per dispatch. Its tiles need little parallelism per dispatch.
//   - two passes: a query pass (D = rowsum(dO ⊙ O), then dQ) and a key pass (dK, dV), each
//     recomputing the scores (7 products), each gradient element written by one invocation; the
//     parallelism of a row per invocation in two dispatches.
// Memory: O + L + D + the three gradients, all linear in T.
// CPU adapters with subgroups (causal: triangular products) and attention of few rows on GPUs store
// their scores, unless a fused variant (`backward`, `rows`) is asked for; operands over one storage
// binding run on chunks of heads: attention-paths.ts.

import fwdSrc from '../../shaders/attention.wgsl';
import bwdSrc from '../../shaders/attention_bwd.wgsl';
import bwdPrepSrc from '../../shaders/attention_bwd_prep.wgsl';
import dqSrc from '../../shaders/attention_dq.wgsl';
import dkvSrc from '../../shaders/attention_dkv.wgsl';
import bwdParamsSrc from '../../shaders/attention_bwd_params.wgsl';
import { record } from '../autograd/tape.js';
import { runtime, type KernelSource } from '../device/runtime.js';
import { contiguousStrides, empty, type Shape, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, includeSnippet, kernel, launch, Params, specialize } from './launch.js';
import { allFit, windowed } from './binding-window.js';
import { contiguous } from './layout.js';
import { currentDevice } from './matmul.js';
import { byHeadChunks, headsPerBinding, storedScoresAttention, storedScoresFit, storesScores, type ScoresPath } from './attention-paths.js';

export { STORED_SCORES_BUDGET, storesScores, type ScoresPath } from './attention-paths.js';

const FWD = kernel('attention', fwdSrc);
/** The two-pass backward's shaders with their shared Params (shaders/attention_bwd_params.wgsl). */
const withBwdParams = (src: string) => includeSnippet(src, 'attention_bwd_params.wgsl', bwdParamsSrc);
const DQ = kernel('attention_dq', withBwdParams(dqSrc));
const DKV = kernel('attention_dkv', withBwdParams(dkvSrc));
const BWD = kernel('attention_bwd', bwdSrc);
const BWD_PREP = kernel('attention_bwd_prep', bwdPrepSrc);

export const LOG2E = Math.log2(Math.E);
/** Largest head dim (the decode kernel keeps one accumulator of d floats per invocation in workgroup memory). */
export const MAX_HEAD_DIM = 256;

/**
 * Kernel variants of the attention ops. By default the adapter decides (CPU rasterisers and GPUs
 * get different schedules, see `schedule()`); tests and benches set them to run every variant on
 * any adapter. The values are the same whichever variant runs (up to float rounding).
 */
export interface AttentionKernelOptions {
  /**
   * The backward scheme: 'one-pass' (default on CPU rasterisers) or 'two-pass' (default on GPUs).
   * 'one-pass' falls back to 'two-pass' where its tiles do not fit workgroup memory.
   */
  backward?: BackwardScheme;
  /** rows (queries, or keys in the key pass) per invocation of every attention kernel, 1..8 (default by adapter) */
  rows?: number;
  /**
   * 'fused': the flash-style kernels (scores never stored); 'stored': matmul + softmax + matmul,
   * the B·H·Tq·Tk probabilities kept for the backward. Default by adapter and size:
   * {@link storesScores}.
   */
  scores?: ScoresPath;
}

/** Options of {@link attention}. */
export interface AttentionOptions extends AttentionKernelOptions {
  /** query i attends to keys j ≤ i (aligned to the end when Tk > Tq) */
  causal?: boolean;
  /** score scale (default 1/√d) */
  scale?: number;
}

/**
 * Register tile of a kernel: `rows` query rows (key rows in the key pass) per invocation, `block`
 * keys (queries in the key pass) per step. On a CPU rasteriser every memory access in a loop is a
 * per-lane load (llvmpipe's machine code: per lane, an exec-mask test, a bounds check and a scalar
 * load; even loads at uniform addresses), several instructions per float against one per 8-lane
 * FMA. So the cost follows the floats loaded, and a bigger tile amortises each load over more
 * FMAs, until LLVM's compile time grows; a GPU wants the parallelism of one row each.
 */
interface Tile { rows: number; block: number }

/**
 * The one-pass backward's pair: `rows` keys per invocation (wg·rows keys), `block` queries per
 * phase-A step, `quads` query quads (4·quads queries), and its own workgroup size.
 */
interface PairTile extends Tile { quads: number; wg: number }

/**
 * Schedule of the kernels: a tile each (forward; query pass and key pass of the two-pass backward;
 * pair of the one-pass backward), the workgroup size, and the backward scheme. lavapipe, B1 H4
 * T1024 d64 causal, machine idle, interleaved in one process (medians):
 *   - forward 8×8 at WG 8: 58 ms; 4×8 at WG 16 (the old schedule) 74 ms; 8×16 60 ms; 16×8 68 ms.
 *     Compiles in ~1.8 s.
 *   - backward one-pass, pair of 64 keys × 32 queries, 8×8 tiles at WG 8: fwd+bwd 280–292 ms
 *     with a query-major phase C, ~275 with the head-dim-major one (phase C 58 → 31 ms); 4×4
 *     tiles with 32 × 64 pairs 316–320 ms, 4×8 296 ms, 8×4 312–327 ms, 8×16 296–304 ms; two
 *     head-dim vec4s per phase-B pass (to reuse the P and dS loads) 497 ms (its accumulators
 *     leave registers). The two-pass backward (4×4 query pass and key pass, tuned by the
 *     session before) 370–390 ms fwd+bwd with the old forward; the first one-pass version (dK/dV
 *     read-modified-written per query step instead of once per pair) 320–345 ms.
 *   - WG·rows = 64 rows per workgroup: a workgroup runs to its last row's causal bound, so
 *     256-row blocks waste ~25% of a causal pass, 64-row blocks ~6%, and the two cores get more
 *     workgroups to balance.
 * A GPU keeps 'two-pass' (a row per invocation over the whole sequence, full 64-wide workgroups:
 * the one-pass diagonal dispatches hold only the pairs of one diagonal each, too few workgroups
 * for a GPU at small B·H); the one-pass pair's P and dS must also fit workgroup memory.
 */
interface Schedule { fwd: Tile; dq: Tile; dkv: Tile; bwd: PairTile; wg: number; backward: BackwardScheme }

/** How the backward runs (see the top of this file and the schedule above). */
export type BackwardScheme = 'one-pass' | 'two-pass';

function schedule(opts: AttentionKernelOptions): Schedule {
  const s: Schedule = runtime().isCpu
    ? { fwd: { rows: 8, block: 8 }, dq: { rows: 4, block: 4 }, dkv: { rows: 4, block: 4 }, bwd: { rows: 8, block: 8, quads: 8, wg: 8 }, wg: 8, backward: 'one-pass' }
    : { fwd: { rows: 1, block: 8 }, dq: { rows: 1, block: 8 }, dkv: { rows: 1, block: 8 }, bwd: { rows: 1, block: 8, quads: 8, wg: 64 }, wg: 64, backward: 'two-pass' };
  if (opts.rows !== undefined) for (const t of [s.fwd, s.dq, s.dkv, s.bwd]) t.rows = opts.rows;
  if (opts.backward !== undefined) s.backward = opts.backward;
  // The pair's P and dS tiles: 2 · (WG·rows keys) · quads vec4s of workgroup memory.
  if (s.backward === 'one-pass' && 2 * s.bwd.wg * s.bwd.rows * s.bwd.quads * 16 > runtime().limits.maxComputeWorkgroupStorageSize) s.backward = 'two-pass';
  return s;
}

/** Validates the kernel options (one clear error) and keeps only them. */
export function kernelOptions(opts: AttentionKernelOptions, op: string): AttentionKernelOptions {
  const { backward, rows, scores } = opts;
  if (backward !== undefined && backward !== 'one-pass' && backward !== 'two-pass') throw new Error(`${op}: backward '${backward}' is not 'one-pass' or 'two-pass'.`);
  if (rows !== undefined && !(Number.isInteger(rows) && rows >= 1 && rows <= 8)) throw new Error(`${op}: rows ${rows} is not an integer in 1..8.`);
  if (scores !== undefined && scores !== 'fused' && scores !== 'stored') throw new Error(`${op}: scores '${scores}' is not 'fused' or 'stored'.`);
  return { backward, rows, scores };
}

interface Variant {
  fwd: KernelSource;
  dq: KernelSource;
  dkv: KernelSource;
  bwd: KernelSource;
  /** keys and queries of a one-pass backward pair, and its workgroup size */
  bwdKeys: number;
  bwdQueries: number;
  bwdWg: number;
  backward: BackwardScheme;
  /** rows per workgroup of each kernel (WG · its tile's rows) */
  fwdRows: number;
  dqRows: number;
  dkvRows: number;
  wg: number;
}
const variants = new Map<string, Variant>();

/**
 * Shader variants for the schedule the adapter and `opts` choose (private arrays need const
 * sizes), built once per schedule. The head dim is a uniform of these kernels: one variant serves
 * every d.
 */
function variant(opts: AttentionKernelOptions): Variant {
  const { fwd, dq, dkv, bwd, wg, backward } = schedule(opts);
  const key = [fwd, dq, dkv].map((t) => `${t.rows}x${t.block}`).join('|') + `|${JSON.stringify(bwd)}|${wg}|${backward}`;
  let v = variants.get(key);
  if (!v) {
    v = {
      fwd: specialize(FWD, { RQ: fwd.rows, BK: fwd.block }),
      dq: specialize(DQ, { RQ: dq.rows, BK: dq.block }),
      dkv: specialize(DKV, { RK: dkv.rows, BQ: dkv.block }),
      bwd: specialize(BWD, { RK: bwd.rows, BQ: bwd.block, NQ4: bwd.quads }),
      bwdKeys: bwd.wg * bwd.rows,
      bwdQueries: 4 * bwd.quads,
      bwdWg: bwd.wg,
      backward,
      fwdRows: wg * fwd.rows,
      dqRows: wg * dq.rows,
      dkvRows: wg * dkv.rows,
      wg,
    };
    variants.set(key, v);
  }
  return v;
}

/**
 * Launches `k` (workgroups of `wg`) on a grid of `blocks` row blocks × `heads` heads: the head is
 * workgroup_id.y (plus the params' h0 when the heads exceed the grid's y limit), so each workgroup
 * stays in one head.
 */
function launchPerHead(k: KernelSource, wg: number, params: (h0: number) => Params, tensors: Tensor[], blocks: number, heads: number, causal: boolean): void {
  const maxY = runtime().limits.maxComputeWorkgroupsPerDimension;
  for (let h0 = 0; h0 < heads; h0 += maxY) {
    launch(k, params(h0), tensors, [blocks, Math.min(maxY, heads - h0)], { WG: wg, CAUSAL: causal ? 1 : 0 });
  }
}

export function check4d(t: Tensor, what: string, op: string): void {
  t.assertAlive();
  if (t.rank !== 4 || t.dtype !== 'f32') throw new Error(`${op}: ${what} must be an f32 tensor [B, H, T, d], got ${t.dtype} ${fmt(t.shape)}.`);
}

export function checkHeads(q: Shape, k: Shape, v: Shape, op: string): void {
  const [B, H, , d] = q;
  if (k[0] !== B || k[1] !== H || k[3] !== d || v[0] !== B || v[1] !== H || v[3] !== d || v[2] !== k[2]) {
    throw new Error(`${op}: q ${fmt(q)}, k ${fmt(k)} and v ${fmt(v)} must share B, H and d, and k and v their length.`);
  }
  if (d < 4 || d > MAX_HEAD_DIM || d % 4) throw new Error(`${op}: head dim ${d} must be a multiple of 4 in 4..${MAX_HEAD_DIM}.`);
}

/**
 * O [B, H, Tq, d] with room for L [B·H·Tq] after it (at element out.size) in the same buffer: L
 * then lives exactly as long as O, which backward reads anyway, and needs no lifetime of its own.
 * Kernels get the one buffer and L's offset. (The one-pass backward keeps D after dQ the same way.)
 */
function emptyWithLse(shape: Shape): Tensor {
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  const flat = empty([n + shape[0] * shape[1] * shape[2]]);
  const out = flat.view(shape, contiguousStrides(shape), 0);
  flat.dispose();
  return out;
}

/**
 * Runs the forward kernel. K and V rows of a head are `kvRows`·d elements apart (Tk for plain
 * attention, Tmax for a cache); only the first `tk` keys are read.
 */
export function forwardRaw(q: Tensor, k: Tensor, v: Tensor, tk: number, kvRows: number, causal: boolean, scale: number, kopts: AttentionKernelOptions): Tensor {
  const [B, H, tq, d] = q.shape;
  const out = emptyWithLse(q.shape);
  if (out.size > 0 && tk > 0) {
    const vr = variant(kopts);
    const p = (h0: number) =>
      new Params().u32(h0, tq, tk, (kvRows * d) / 4, Math.max(0, tk - tq)).f32(scale * LOG2E).u32(out.size, d / 4);
    launchPerHead(vr.fwd, vr.wg, p, [q, k, v, out], Math.ceil(tq / vr.fwdRows), B * H, causal);
  }
  return out;
}

/**
 * Scaled dot-product attention softmax(scale · q·kᵀ [+ causal mask]) · v over B·H heads, fused
 * (never materialises the Tq×Tk scores). Autograd flows to q, k and v. Causal needs Tk ≥ Tq.
 * @param q queries [B, H, Tq, d]; k, v keys and values [B, H, Tk, d] (d a multiple of 4, ≤ 256)
 * @param opts `causal`, `scale`, and the kernel variants ({@link AttentionKernelOptions}), which
 *   the backward pass of this call uses too
 * @returns [B, H, Tq, d]
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const op = 'attention';
  check4d(q, 'q', op);
  check4d(k, 'k', op);
  check4d(v, 'v', op);
  checkHeads(q.shape, k.shape, v.shape, op);
  const [, , tq, d] = q.shape;
  const tk = k.shape[2];
  const causal = opts.causal ?? false;
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const kopts = kernelOptions(opts, op);
  if (causal && tk < tq) throw new Error(`${op}: causal attention needs at least as many keys (${tk}) as queries (${tq}).`);
  if (tk === 0 && tq > 0) throw new Error(`${op}: no keys to attend to (k is ${fmt(k.shape)}).`);
  const heads = q.shape[0] * q.shape[1];
  // The default: stored scores where storesScores says so and everything fits one binding, unless a
  // variant of the fused kernels is asked for (`backward`, `rows`).
  const fit = headsPerBinding(tq, tk, d);
  const fusedAsked = kopts.backward !== undefined || kopts.rows !== undefined;
  if (kopts.scores === 'stored' || (kopts.scores === undefined && !fusedAsked && storedScoresFit(heads, tq, tk, d) && storesScores(currentDevice(), heads, tq, tk, causal))) {
    return storedScoresAttention(q, k, v, scale, causal);
  }
  // (over a storage binding: the fused kernels on chunks of heads)
  if (fit < heads) return byHeadChunks(q, k, v, opts, fit, attention);
  const qc = contiguous(q), kc = contiguous(k), vc = contiguous(v);
  const out = forwardRaw(qc, kc, vc, tk, tk, causal, scale, kopts);
  qc.dispose(); kc.dispose(); vc.dispose();
  return record(out, op, [q, k, v], (g) => attentionBackward(q, k, v, out, g, causal, scale, kopts));
}

/**
 * `t` itself, or where its storage is over a binding (the gradient of one chunk of heads, a view
 * of the whole gradient: byHeadChunks) a view of just its bytes. Offset 0 either way for a dense
 * view at offset 0.
 */
function narrowed(t: Tensor): Tensor {
  if (allFit([t])) return t;
  const w = windowed(t);
  t.dispose();
  return w;
}

/** What both backward schemes read: dense q, k, v, dO; O and L (`out`); and the sizes. */
interface BackwardInputs {
  q: Tensor; k: Tensor; v: Tensor; g: Tensor; out: Tensor;
  heads: number; tq: number; tk: number; d: number;
  /** causal: query i sees keys j ≤ i + off */
  off: number;
  causal: boolean; scale: number;
}

/** dQ, dK, dV from the output gradient g, recomputing the scores from q, k and out's L. */
function attentionBackward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, g: Tensor, causal: boolean, scale: number, kopts: AttentionKernelOptions): Tensor[] {
  const vr = variant(kopts);
  if (q.size === 0 || k.size === 0) return [empty(q.shape), empty(k.shape), empty(k.shape)];
  const [B, H, tq, d] = q.shape;
  const tk = k.shape[2];
  const a: BackwardInputs = {
    q: contiguous(q), k: contiguous(k), v: contiguous(v), g: narrowed(contiguous(g)), out,
    heads: B * H, tq, tk, d, off: Math.max(0, tk - tq), causal, scale,
  };
  const grads = vr.backward === 'one-pass' ? backwardOnePass(vr, a, q.shape, k.shape) : backwardTwoPass(vr, a, q.shape, k.shape);
  for (const t of [a.q, a.k, a.v, a.g]) t.dispose();
  return grads;
}

/**
 * attention_bwd_prep.wgsl (D, zeroed gradients), then attention_bwd.wgsl once per diagonal. D lives
 * after dQ in dQ's buffer (at element heads·tq·d), so the kernel's storage bindings stay within the
 * default limit of 8 and every gradient is a dense tensor at offset 0.
 */
function backwardOnePass(vr: Variant, a: BackwardInputs, qShape: Shape, kShape: Shape): Tensor[] {
  const { heads, tq, tk, d } = a;
  const dq = emptyWithLse(qShape), dk = empty(kShape), dv = empty(kShape);
  const [gx, gy] = grid1d(heads * Math.max(tq, tk), 64);
  launch(BWD_PREP, new Params().u32(heads, tq, tk, d / 4, dq.size, gx), [a.out, a.g, dq, dk, dv], [gx, gy], { WG: 64 });
  const nk = Math.ceil(tk / vr.bwdKeys), nblk = Math.max(nk, Math.ceil(tq / vr.bwdQueries));
  for (let t = 0; t < nblk; t++) {
    const p = (h0: number) => new Params().u32(h0, tq, tk, a.off).f32(a.scale, a.scale * LOG2E).u32(a.out.size, d / 4, t, nblk, dq.size, 0);
    launchPerHead(vr.bwd, vr.bwdWg, p, [a.q, a.k, a.v, a.g, a.out, dq, dk, dv], nk, heads, a.causal);
  }
  return [dq, dk, dv];
}

/** attention_dq.wgsl (D, then dQ), then attention_dkv.wgsl (dK, dV). */
function backwardTwoPass(vr: Variant, a: BackwardInputs, qShape: Shape, kShape: Shape): Tensor[] {
  const { heads, tq, tk, d } = a;
  const dq = empty(qShape), dk = empty(kShape), dv = empty(kShape);
  const delta = empty([heads * tq]);
  const p = (h0: number) => new Params().u32(h0, tq, tk, a.off).f32(a.scale, a.scale * LOG2E).u32(a.out.size, d / 4);
  // `out` twice: O, and L after it (read-only bindings may alias).
  launchPerHead(vr.dq, vr.wg, p, [a.q, a.k, a.v, a.out, a.g, a.out, delta, dq], Math.ceil(tq / vr.dqRows), heads, a.causal);
  launchPerHead(vr.dkv, vr.wg, p, [a.q, a.k, a.v, a.g, a.out, delta, dk, dv], Math.ceil(tk / vr.dkvRows), heads, a.causal);
  delta.dispose();
  return [dq, dk, dv];
}
