// Attention of the newest queries against a key/value cache (sampling), and writing new rows into
// the cache:
//   attentionDecode(q, kCache, vCache, length) q: [B, H, n, d], caches [B, H, Tmax, d] → [B, H, n, d]
//   writeKV(cache, rows, pos)                  rows [B, H, n, d] into cache[:, :, pos:pos+n, :]
// One query (n = 1) runs attention_decode.wgsl, a workgroup per head splitting the cached keys; a
// prefill of n > 1 queries runs the fused forward kernel of attention.ts over the cache's rows.

import decodeSrc from '../../shaders/attention_decode.wgsl';
import { runtime, type KernelSource } from '../device/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { check4d, checkHeads, forwardRaw, kernelOptions, LOG2E } from './attention.js';
import { fmt, kernel, launch, Params, specialize } from './launch.js';
import { contiguous, copyInto } from './layout.js';

const DECODE = kernel('attention_decode', decodeSrc);
const decodeVariants = new Map<number, KernelSource>();

/** Options of {@link attentionDecode}. */
export interface AttentionDecodeOptions {
  /** score scale (default 1/√d) */
  scale?: number;
  /** rows per invocation of the prefill kernel (n > 1 queries), 1..8 (default by adapter); see {@link AttentionKernelOptions} */
  rows?: number;
}

/** The decode kernel for head dim d (its workgroup accumulators are sized by d). */
function decodeVariant(d: number): KernelSource {
  let k = decodeVariants.get(d);
  if (!k) {
    k = specialize(DECODE, { D4: d / 4, BK: 8 });
    decodeVariants.set(d, k);
  }
  return k;
}

function checkCache(q: Tensor, kCache: Tensor, vCache: Tensor, op: string): void {
  check4d(q, 'q', op);
  check4d(kCache, 'kCache', op);
  check4d(vCache, 'vCache', op);
  checkHeads(q.shape, kCache.shape, vCache.shape, op);
  if (!kCache.isContiguous || !vCache.isContiguous) throw new Error(`${op}: the caches must be dense [B, H, Tmax, d] tensors.`);
}

/**
 * Decode step: the n newest queries (usually 1) against the first `length` rows of a key/value
 * cache [B, H, Tmax, d]; query r sits at position length − n + r and sees keys ≤ its position.
 * `length` is a per-dispatch uniform: a growing cache reuses the same pipelines. No autograd.
 * @param opts `scale`, and `rows` for the prefill kernel ({@link AttentionDecodeOptions})
 */
export function attentionDecode(q: Tensor, kCache: Tensor, vCache: Tensor, length: number, opts: AttentionDecodeOptions = {}): Tensor {
  const op = 'attentionDecode';
  checkCache(q, kCache, vCache, op);
  const tmax = kCache.shape[2], n = q.shape[2];
  if (!Number.isInteger(length) || length < Math.max(1, n) || length > tmax) {
    throw new Error(`${op}: length ${length} must be an integer in ${Math.max(1, n)}..${tmax} (the cache holds ${tmax} rows, q has ${n}).`);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape[3]);
  const kopts = kernelOptions({ rows: opts.rows }, op);
  const qc = contiguous(q);
  const out = n === 1 ? decodeRaw(qc, kCache, vCache, length, scale) : forwardRaw(qc, kCache, vCache, length, tmax, true, scale, kopts);
  qc.dispose();
  return out;
}

/** One query per head: a workgroup per head splits the cached keys over its invocations. */
function decodeRaw(q: Tensor, kCache: Tensor, vCache: Tensor, length: number, scale: number): Tensor {
  const [B, H, , d] = q.shape;
  const out = empty(q.shape);
  const heads = B * H;
  const lim = runtime().limits;
  // The widest workgroup (≤ 64) whose partial accumulators (d + 2 floats each) fit workgroup memory.
  // On a CPU rasteriser 16: two SIMD groups of 8 lanes, each folding more keys (the heads give the
  // parallelism), and a 4× cheaper merge (every invocation reads all WG partial states).
  let wg = Math.min(runtime().isCpu ? 16 : 64, lim.maxComputeInvocationsPerWorkgroup);
  while (wg > 1 && wg * (d + 2) * 4 > lim.maxComputeWorkgroupStorageSize) wg /= 2;
  const kernel = decodeVariant(d);
  const maxX = lim.maxComputeWorkgroupsPerDimension;
  for (let h0 = 0; h0 < heads; h0 += maxX) {
    const p = new Params().u32(h0, length, (kCache.shape[2] * d) / 4).f32(scale * LOG2E).u32(d / 4, 0, 0, 0);
    launch(kernel, p, [q, kCache, vCache, out], [Math.min(maxX, heads - h0)], { WG: wg });
  }
  return out;
}

/** Writes `rows` [B, H, n, d] into cache[:, :, pos:pos+n, :] (in place, no autograd). */
export function writeKV(cache: Tensor, rows: Tensor, pos: number): void {
  const op = 'writeKV';
  check4d(cache, 'cache', op);
  check4d(rows, 'rows', op);
  const [B, H, tmax, d] = cache.shape;
  const n = rows.shape[2];
  if (rows.shape[0] !== B || rows.shape[1] !== H || rows.shape[3] !== d) {
    throw new Error(`${op}: rows ${fmt(rows.shape)} do not match the cache ${fmt(cache.shape)} in B, H or d.`);
  }
  if (!Number.isInteger(pos) || pos < 0 || pos + n > tmax) {
    throw new Error(`${op}: rows ${pos}..${pos + n - 1} fall outside the cache's ${tmax} rows.`);
  }
  const window = cache.view(rows.shape, cache.strides, cache.offset + pos * cache.strides[2]);
  copyInto(rows, window);
  window.dispose();
}
