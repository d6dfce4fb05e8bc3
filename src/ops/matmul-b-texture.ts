// The subgroup matmul's B (and, where it pays, A) read through the texture unit (shaders/matmul_b_texture.wgsl stages it,
// shaders/matmul_b4_texture.wgsl reads it). Why: llvmpipe loads a storage vec4 as four bounds-checked
// per-lane loads, ~10 instructions a float, and that load is what the subgroup kernel's time follows
// (docs/kernels-on-cpu.md); its texel fetch serves all lanes of a subgroup at once. B [batch, K, N]
// goes into an rgba32float 2-D array (⌈N/4⌉ × K texels, one layer per batch item) before the product:
// by a buffer-to-texture copy where B's rows are dense and 256-byte aligned, else by a kernel that
// reads any strides (a transposed view: q·kᵀ, g·Wᵀ), which replaces the dense copy those took.

import stageSrc from '../../shaders/matmul_b_texture.wgsl';
import { runtime } from '../device/runtime.js';
import type { AdapterReport } from '../device/gpu.js';
import type { PooledTexture } from '../device/texture-pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindingOf, kernel, Params } from './launch.js';
import { currentDevice, SUBGROUP_THIN_M, subgroupLanes } from './matmul-variant.js';

const STAGE = kernel('matmul_b_texture', stageSrc);

/**
 * 'auto': textures on CPU adapters (the subgroup matmul's B, and the subgroup codebook search's
 * transposed codebook: ops/codebook.ts), for products of SUBGROUP_THIN_M rows or more where they are
 * sampled textures; tests force either path.
 */
export const matmulBTexture = {
  mode: 'auto' as 'auto' | 'texture' | 'buffer',
  aMode: 'auto' as 'auto' | 'buffer',
  /** how the kernels fetch the texels: 'auto' (storageTextureReads) or 'sampled' (tests of the fallback) */
  fetch: 'auto' as 'auto' | 'sampled',
};

/**
 * Whether the kernels bind their operand textures as read-only storage textures (the shaders' RO_TEX)
 * rather than sampled ones: where the host's WGSL has `readonly_and_readwrite_storage_textures`. The
 * texels and the sums are the same either way; on lavapipe a storage texture's load is inlined, where
 * a sampled texture's texel fetch calls a texture function through a table: side by side on the AMD
 * EPYC, the subgroup matmul 1024³ 27 → 37 GFLOP/s (docs/kernels-on-cpu.md).
 */
export function storageTextureReads(report: Pick<AdapterReport, 'wgslFeatures'> = runtime().report): boolean {
  return matmulBTexture.fetch === 'auto' && report.wgslFeatures.includes('readonly_and_readwrite_storage_textures');
}

/** Whether the subgroup kernel reads B [batch, K, N] from a texture for an M-row product. */
export function bFromTexture(M: number, K: number, N: number, batch: number): boolean {
  if (matmulBTexture.mode === 'buffer') return false;
  const lim = runtime().limits;
  const fits = K <= lim.maxTextureDimension2D && Math.ceil(N / 4) <= lim.maxTextureDimension2D && batch <= lim.maxTextureArrayLayers;
  if (matmulBTexture.mode === 'texture') {
    if (!fits) throw new Error(`matmul: B [${batch}, ${K}, ${N}] does not fit this device's texture limits.`);
    if (!textureLanesOk()) throw new Error(`matmul: B from a texture was forced, but this device's subgroups have more than 8 lanes (${JSON.stringify(currentDevice().subgroups)}), where the texture path is not trusted.`);
    return true;
  }
  if (!textureLanesOk()) return false;
  // Fewer rows keep 8 per subgroup (subgroupRows). There a sampled texture's fetch does not pay (0.9×
  // the buffer kernel, side by side) for the K·N floats staged; a storage texture's load does, staging
  // included (AMD EPYC, side by side: 9×128×512 1.29×, 9×512×128 1.74×, 36×128×384 2.0×,
  // 64×4096×4096 1.49×, 127×1024×1024 2.25×).
  return fits && runtime().isCpu && (M >= SUBGROUP_THIN_M || storageTextureReads());
}

/**
 * Whether the device's subgroups are at most 8 lanes wide, where the texture paths are tested. With
 * llvmpipe's 16-lane subgroups (LP_NATIVE_VECTOR_WIDTH=512 on AVX-512) the products read through
 * textures came out wrong while the buffer paths stayed exact (docs/kernels-on-cpu.md).
 */
export function textureLanesOk(): boolean {
  return (subgroupLanes(currentDevice()) ?? 0) <= 8;
}

/**
 * Whether the texture kernel also reads A [batch, M, K] (item b = bo·n + bi at bo·abs + bi·a2) from a
 * texture (matmul_subgroup.wgsl A_TEX): with B from one, where A's rows are dense and its staging is
 * a copy (K a multiple of 64, 16-byte aligned): a transposed A (a weight gradient's xᵀ) staged by the
 * kernel cost more than it saved (0.75–0.88×, side by side). Of the triangular products 'lower'
 * (the causal scores q·kᵀ and dP = dO·vᵀ: 4×[1024, 64]·[64, 1024] 24.5 → 19.2 ms side by side, AMD
 * EPYC) and 'kUpTo' (P·v and dS·k, the T×T matrix staged by a copy; the slabs that cross the
 * diagonal mask its texels: 4×[1024, 1024]·[1024, 64] 14.2 → 13.3 ms); not 'kFrom', whose A is a
 * transposed view.
 */
export function aFromTexture(A: Tensor, S: number, triangle?: 'lower' | 'kUpTo' | 'kFrom'): boolean {
  const [batch, M, K] = A.shape, [, ars, acs] = A.strides;
  const lim = runtime().limits;
  if (matmulBTexture.aMode === 'buffer' || triangle === 'kFrom' || S !== 8) return false;
  return acs === 1 && ars === K && K % 64 === 0 && (A.storage.byteOffset + 4 * A.offset) % 16 === 0 &&
    M <= lim.maxTextureDimension2D && K / 4 <= lim.maxTextureDimension2D && batch <= lim.maxTextureArrayLayers;
}

/**
 * B [batch, K, N] (item b = bo·n + bi at B.offset + bo·bbs + bi·b2) staged in a pooled texture, one
 * layer per item, or a single layer where every item is the same (a broadcast B); hand it back
 * (`runtime().textures.release`) once the product is recorded.
 */
export function stageTexture(B: Tensor, two: { n: number; b2: number }): PooledTexture {
  const rt = runtime();
  const [batch, K, N] = B.shape, [bbs, brs, bcs] = B.strides;
  const layers = bbs === 0 && two.b2 === 0 ? 1 : batch;
  const width = Math.ceil(N / 4);
  const tex = rt.textures.acquire(width, K, layers);
  // Dense rows of a multiple of 64 floats (bytesPerRow a multiple of 256), items K rows apart: a copy.
  const byteOffset = B.storage.byteOffset + 4 * B.offset;
  const itemsDense = layers === 1 || (two.n === 1 && bbs === K * N);
  if (bcs === 1 && brs === N && N % 64 === 0 && itemsDense && byteOffset % 16 === 0) {
    rt.copyToTexture(B.storage.buffer, byteOffset, 4 * N, tex.texture, width, K, layers);
    return tex;
  }
  const p = new Params().u32(K, N, width, B.offset, bbs, brs, bcs, two.n, two.b2);
  rt.dispatch(STAGE, p.bytes(), [bindingOf(B.storage), tex.view], [Math.ceil(width / 64), K, layers]);
  return tex;
}
