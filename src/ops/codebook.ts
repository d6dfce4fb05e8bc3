// Nearest-code search for vector quantisation, the per-code statistics of an EMA codebook update,
// and `gatherRows(E, index)`, the quantised vectors a VQ layer builds its straight-through
// estimator from (with `detach`); it is ops/embedding.ts's lookup, whose backward is already a
// deterministic scatter-add into E's gradient.
//
//   nearestCode(z [..., D], E [K, D]) → index [...] (i32), dist [...] (f32), counts? [K], sums? [K, D]
//
// The search never materialises the N×K distance matrix (memory O(N + K·D)): scores
// ‖e‖² − 2 z·e are reduced to an argmin as they are computed. Three schedules, chosen per adapter:
// `subgroup` for CPU rasterisers with subgroups (codebook_subgroup.wgsl: a subgroup shares its
// vectors by broadcast, the subgroup matmul's schedule), `registers` for those without
// (codebook.wgsl: no barriers; each invocation streams the codebook through the CPU cache) and
// `tiled` for GPUs (codebook_tiled.wgsl: codebook tiles in workgroup memory). All give the same
// indices and distances bit for bit (identical per-score arithmetic).

import searchSrc from '../../shaders/codebook.wgsl';
import normsSrc from '../../shaders/codebook_norms.wgsl';
import statsSrc from '../../shaders/codebook_stats.wgsl';
import subgroupSrc from '../../shaders/codebook_subgroup.wgsl';
import etBufferSrc from '../../shaders/codebook_et_buffer.wgsl';
import etTextureSrc from '../../shaders/codebook_et_texture.wgsl';
import searchIoSrc from '../../shaders/codebook_search_io.wgsl';
import tiledSrc from '../../shaders/codebook_tiled.wgsl';
import { recordNonDifferentiable } from '../autograd/tape.js';
import { runtime, type KernelSource } from '../device/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { embedding } from './embedding.js';
import { fmt, grid1d, includeSnippet, kernel, launch, Params, specialize } from './launch.js';
import { contiguous } from './layout.js';
import { forDenseRows } from './binding-window.js';
import { currentDevice, subgroupLanes, subgroupsPerWorkgroup } from './matmul-variant.js';
import { bFromTexture, stageTexture, storageTextureReads } from './matmul-b-texture.js';
import type { PooledTexture } from '../device/texture-pool.js';

/**
 * Register-blocked search: TM vectors per invocation, TN codes per register block. 8×16 measured
 * best on lavapipe among 1–16 × 4–32 (~1.5× 4×8 in CPU time on a busy machine): code loads are
 * uniform across SIMD lanes, so a wide TN is cheap, while each vector load is a per-lane gather.
 */
const REGISTERS = { TM: 8, TN: 16, WG: 64 };
/** Tiled search: a (WGY·TM) × (WGX·TN) = 32 × 32 tile per workgroup of 64, BK dimensions per step. */
const TILED = { TM: 4, TN: 4, WGX: 8, WGY: 8, BK: 16 };
const WG = 64;

/** A search shader with its shared bindings and store (shaders/codebook_search_io.wgsl) included. */
const searchKernel = (name: string, src: string) => kernel(name, includeSnippet(src, 'codebook_search_io.wgsl', searchIoSrc));
const SEARCH_REGISTERS = specialize(searchKernel('codebook', searchSrc), { TM: REGISTERS.TM, TN: REGISTERS.TN });
const SEARCH_TILED = specialize(searchKernel('codebook_tiled', tiledSrc), TILED);
/**
 * The subgroup search's blocks (codebook_subgroup.wgsl): TM vectors per subgroup, CB vec4s of codes
 * per lane. From its buffer, on the AMD EPYC (N16384_K1024_D64, interleaved in one process, ÷ the
 * register kernel): TM 4 0.77×, 6 0.83×, 8 0.97–1.10×, 12 0.77×, 16 0.70×; fewer than the matmul's
 * 12: the vectors are short (D dimensions against a product's hundreds), so a block's argmin is a
 * larger share. CB 2 there loses (N = 64 and 96: 0.8–0.94×, fewer blocks to share out).
 */
const SEARCH_SUBGROUP = {
  buffer: { TM: 8, CB: 1 },
  /**
   * With Et read through the texture unit (from SUBGROUP_THIN_M vectors on CPU adapters), side by
   * side on the AMD EPYC, N16384_K1024_D64: the buffer's 8 rows 108,500 vectors/s; the texture's 8
   * 106,800, 12 123,800, 16 136,100. With the slab run row by row: 8 139,300, 16 173,600, 24
   * 151,500, 32 150,600. Two vec4s of codes a lane (each z value loaded serves 8 codes, not 4;
   * z's per-lane loads were ~27% of the time), 16 rows: N16384_K1024_D64 1.13–1.23×,
   * N65536_K8192_D32 1.27×, N4096_K256_D64 1.16× the one vec4 (24 rows: 1.23×, 0.84×, 1.15×;
   * 3 or 4 vec4s a lane: 1.18×, 1.11×).
   */
  texture: { TM: 16, CB: 2 },
} as const;
/**
 * Slabs of S dimensions of its vectors that a lane keeps in a private array across the code blocks
 * (codebook_subgroup.wgsl): loaded from storage once, not once per block of 4·S·CB codes. Side by
 * side on the AMD EPYC (Et from the texture, medians of 3–4 rounds), 16 slabs against none:
 * N16384_K1024_D64 1.25×, N65536_K8192_D32 1.22×, N8192_K1024_D128 1.19× (8 slabs: 1.24× at D64,
 * 1.08× at D128). Dimensions past 16·S are loaded per block as before.
 */
const SEARCH_Z_SLABS = 16;
/** Subgroup search kernels, per lane count S, blocks (TM, CB) and where Et is read from. */
const searchSubgroup = new Map<string, KernelSource>();
const NORMS = kernel('codebook_norms', normsSrc);
/** The codebook transposed with a row of its norms, Et [D + 1, K4], for the subgroup search. */
const NORMS_TRANSPOSED = kernel('codebook_norms', normsSrc, 'main_transposed');
const STATS = kernel('codebook_stats', statsSrc);

export type CodebookSchedule = 'subgroup' | 'registers' | 'tiled';

export interface NearestCodeOptions {
  /** also return the per-code counts and sums of the assigned vectors (EMA codebook update) */
  stats?: boolean;
  /**
   * force a schedule (tests, benches); default: on CPU rasterisers `subgroup` for vectors of 32
   * dimensions or more where the device has subgroups of 4 to 32 lanes, else `registers`; `tiled`
   * on GPUs
   */
  schedule?: CodebookSchedule;
}

export interface NearestCode {
  /** [...] i32: the nearest code of each vector (squared Euclidean; ties to the lowest index) */
  index: Tensor;
  /** [...] f32: the squared distance to that code, Σ(z − e)² */
  dist: Tensor;
  /** [K] f32: how many vectors chose each code (with `stats`) */
  counts?: Tensor;
  /** [K, D] f32: the sum of the vectors that chose each code (with `stats`) */
  sums?: Tensor;
}

function checkCodebook(E: Tensor, op: string): void {
  E.assertAlive();
  if (E.dtype !== 'f32' || E.rank !== 2) throw new Error(`${op}: the codebook must be an f32 [K, D] tensor, got ${E.dtype} ${fmt(E.shape)}.`);
  if (E.shape[0] < 1 || E.shape[1] < 1) throw new Error(`${op}: the codebook ${fmt(E.shape)} must have at least one code and one dimension.`);
}

function checkIndex(index: Tensor, op: string): void {
  index.assertAlive();
  if (index.dtype !== 'i32') throw new Error(`${op}: the index must be an i32 tensor, got ${index.dtype} ${fmt(index.shape)}.`);
}

/**
 * Nearest code of every vector. z: [..., D] f32, E: [K, D] f32. Outputs have no gradient (the VQ
 * layer builds the straight-through estimator from `gatherRows(E, index)` and `detach`).
 */
export function nearestCode(z: Tensor, E: Tensor, opts: NearestCodeOptions = {}): NearestCode {
  checkCodebook(E, 'nearestCode');
  z.assertAlive();
  const [K, D] = E.shape;
  if (z.dtype !== 'f32' || z.rank < 1 || z.shape[z.rank - 1] !== D) {
    throw new Error(`nearestCode: vectors must be f32 [..., ${D}] to match the codebook ${fmt(E.shape)}, got ${z.dtype} ${fmt(z.shape)}.`);
  }
  const N = z.size / D;
  const schedule = opts.schedule ?? defaultCodebookSchedule(D);
  const S = subgroupLanes(currentDevice());
  if (schedule === 'subgroup' && S === null) {
    throw new Error(`nearestCode: the 'subgroup' schedule was forced, but this device has no subgroups of 4 to 32 lanes (subgroups: ${JSON.stringify(currentDevice().subgroups)}); use 'registers' or 'tiled'.`);
  }
  const zc = contiguous(z), Ec = contiguous(E);
  const index = empty(z.shape.slice(0, -1), 'i32');
  const dist = empty(z.shape.slice(0, -1));
  if (N > 0) {
    const K4 = Math.ceil(K / 4) * 4;
    const p = new Params().u32(K, D, K4, 0);
    // The subgroup search reads the codebook transposed, [D + 1, K4] with a row of the norms: a
    // lane's 4 codes (and their norms) as one vec4 load; the others the norms [K].
    const Et = schedule === 'subgroup' ? empty([D + 1, K4]) : null;
    const enorm = Et ? null : empty([K]);
    if (Et) launch(NORMS_TRANSPOSED, p, [Ec, null, Et], grid1d(K4, WG), { WG });
    else launch(NORMS, p, [Ec, enorm], grid1d(K, WG), { WG });
    // Et read through the texture unit where the subgroup matmul would read its B so (the search is
    // z·Eᵀ with an argmin): 16 vectors a subgroup then, 8 from the buffer.
    let tex: PooledTexture | null = null;
    if (Et && bFromTexture(N, D + 1, K4, 1)) {
      const view = Et.view([1, D + 1, K4], [0, K4, 1], 0);
      tex = stageTexture(view, { n: 1, b2: 0 });
      view.dispose();
    }
    // In chunks of vectors where they exceed a storage binding (binding-window.ts).
    forDenseRows('nearestCode', N, [zc, index, dist], [1, 2], [Ec, enorm ?? Et!], ([zv, iv, dv], r0, r1) => {
      const n = r1 - r0, ps = new Params().u32(n, K, D, 0);
      if (schedule === 'subgroup') {
        const WGY = subgroupsPerWorkgroup(currentDevice());
        const blocks = tex ? SEARCH_SUBGROUP.texture : SEARCH_SUBGROUP.buffer;
        launch(subgroupSearch(S!, blocks, !!tex), ps, [zv, Ec, null, iv, dv, tex ? tex.view : Et!], grid1d(n, blocks.TM * WGY), { WGY });
      } else if (schedule === 'registers') {
        launch(SEARCH_REGISTERS, ps, [zv, Ec, enorm!, iv, dv], grid1d(n, REGISTERS.TM * REGISTERS.WG), { WG: REGISTERS.WG });
      } else {
        launch(SEARCH_TILED, ps, [zv, Ec, enorm!, iv, dv], grid1d(n, TILED.WGY * TILED.TM));
      }
    });
    enorm?.dispose();
    if (tex) runtime().textures.release(tex);
    Et?.dispose();
  }
  const result: NearestCode = {
    index: recordNonDifferentiable(index, 'nearestCode.index', [z, E]),
    dist: recordNonDifferentiable(dist, 'nearestCode.dist', [z, E]),
  };
  if (opts.stats) {
    const { counts, sums } = codeStats(zc, index, K);
    result.counts = recordNonDifferentiable(counts, 'nearestCode.counts', [z, E]);
    result.sums = recordNonDifferentiable(sums, 'nearestCode.sums', [z, E]);
  }
  if (zc !== z) zc.dispose();
  if (Ec !== E) Ec.dispose();
  return result;
}

/**
 * Shortest vectors the subgroup search takes by default: where it is at least even with the register
 * kernel on both CPU types measured. Subgroup ÷ registers, 16,384 vectors against 1,024 codes (256
 * for D = 8): Intel Xeon (E read by rows, 12 vectors a subgroup) D = 8 0.84×, 16 1.0×, 32 1.14×, 64
 * 1.28×; AMD EPYC (E transposed, 8 vectors) D = 8 0.68×, 16 0.70×, 32 0.87×, 64 0.97–1.10×. With
 * short vectors the per-block argmin, not the loads, is the cost. Since the slab runs row by row
 * (codebook_subgroup.wgsl), AMD EPYC, Et from the texture, 16 vectors a subgroup, side by side:
 * N16384_K8192_D32 1.28×, N4096_K1024_D32 1.33×, N8192_K512_D16 1.07×, N4096_K16384_D8 1.04×,
 * N4096_K1024_D64 1.42× (the Xeon not measured since).
 */
const SUBGROUP_MIN_DIM = 32;

/** The schedule nearestCode takes on this device for vectors of D dimensions unless one is forced. */
export function defaultCodebookSchedule(D: number): CodebookSchedule {
  if (!runtime().isCpu) return 'tiled';
  return D >= SUBGROUP_MIN_DIM && subgroupLanes(currentDevice()) !== null ? 'subgroup' : 'registers';
}

function subgroupSearch(S: number, { TM, CB }: { TM: number; CB: number }, texture: boolean): KernelSource {
  const roTex = texture && storageTextureReads();
  const key = `${S},${TM},${CB},${texture},${roTex}`;
  let k = searchSubgroup.get(key);
  if (!k) {
    const src = includeSnippet(subgroupSrc, 'codebook_et.wgsl', texture ? etTextureSrc : etBufferSrc);
    const consts = { TM, S, CB, ZS: SEARCH_Z_SLABS, ...(texture ? { RO_TEX: roTex ? 1 : 0 } : {}) };
    k = specialize(searchKernel(texture ? 'codebook_subgroup_tex' : 'codebook_subgroup', src), consts);
    searchSubgroup.set(key, k);
  }
  return k;
}

/**
 * Per-code statistics of an assignment, deterministic (bit-reproducible; see codebook_stats.wgsl):
 * x: [..., D] f32, index: [...] i32 in [0, K) → counts [K] (#rows per code), sums [K, D] (Σ of the
 * rows per code). Indices outside [0, K) are ignored. No autograd.
 */
export function codeStats(x: Tensor, index: Tensor, K: number): { counts: Tensor; sums: Tensor } {
  x.assertAlive();
  checkIndex(index, 'codeStats');
  if (x.dtype !== 'f32' || x.rank < 1) throw new Error(`codeStats: rows must be an f32 [..., D] tensor, got ${x.dtype} ${fmt(x.shape)}.`);
  const D = x.shape[x.rank - 1];
  if (index.size * D !== x.size || D < 1) {
    throw new Error(`codeStats: ${index.size} indices ${fmt(index.shape)} do not match the rows of ${fmt(x.shape)}.`);
  }
  if (!Number.isInteger(K) || K < 1) throw new Error(`codeStats: K must be a positive integer, got ${K}.`);
  const xc = contiguous(x), ic = contiguous(index);
  const counts = empty([K]);
  const sums = empty([K, D]);
  launch(STATS, new Params().u32(index.size, K, D, 0), [xc, ic, counts, sums], grid1d(K, WG), { WG });
  if (xc !== x) xc.dispose();
  if (ic !== index) ic.dispose();
  return { counts, sums };
}

/**
 * out[..., :] = E[index[...], :] — E: [K, D] f32, index: [...] i32 → [..., D], differentiable in E
 * (deterministic scatter-add; no float atomics). The same op as `embedding(index, E)`, under the
 * name and argument order of the codebook API; an index outside [0, K) gives a zero row.
 */
export function gatherRows(E: Tensor, index: Tensor): Tensor {
  checkCodebook(E, 'gatherRows');
  checkIndex(index, 'gatherRows');
  return embedding(index, E);
}
