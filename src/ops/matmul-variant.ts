// Which matmul kernel runs a product (ops/matmul.ts runs it): the variants, the tiles of the tiled
// kernels, and the choice from the device's class, subgroup sizes and limits (a fake device in tests).

import { runtime } from '../device/runtime.js';

/** Square tiles with vec4 reads of workgroup memory (8×8 of C per invocation, WG×WG invocations, BK 8). */
export const VEC4_TILES = {
  tiled64v4: { TM: 8, TN: 8, WGX: 8, WGY: 8, BK: 8 },
  tiled128v4: { TM: 8, TN: 8, WGX: 16, WGY: 16, BK: 8 },
} satisfies Record<string, Tile>;
export type Vec4TileName = keyof typeof VEC4_TILES;
export const isVec4 = (v: string): v is Vec4TileName => v in VEC4_TILES;

/** A tile of C per workgroup of the tiled kernel: BM = WGY·TM rows, BN = WGX·TN columns, BK deep. */
export interface Tile { TM: number; TN: number; WGX: number; WGY: number; BK: number }
export const TILES = {
  tiled32: { TM: 4, TN: 4, WGX: 8, WGY: 8, BK: 16 },
  tiled64: { TM: 8, TN: 4, WGX: 16, WGY: 8, BK: 16 },
  tiled128: { TM: 8, TN: 8, WGX: 16, WGY: 16, BK: 16 },
} satisfies Record<string, Tile>;
export type TileName = keyof typeof TILES;
const TILE_ORDER: TileName[] = ['tiled128', 'tiled64', 'tiled32']; // largest first
/**
 * Workgroups a product should have before a larger tile is worth it: about two per multiprocessor of
 * a large GPU (an H200 has 132), so that small and skinny products still occupy every multiprocessor.
 */
const FILL_WORKGROUPS = 256;

/**
 * Which kernel: 'auto' picks 'register' on CPU rasterisers and 'tiled' elsewhere; 'tiled' picks its
 * tile by the product's size; the rest force one (tests and the bench).
 */
export type MatmulVariant = 'auto' | 'register' | 'subgroup' | 'tiled' | TileName | Vec4TileName;

/** What the kernel choice reads of the device (a fake one in tests): its class and subgroup sizes. */
export interface MatmulDevice {
  isCpu: boolean;
  /** null where the device was created without the `subgroups` feature */
  subgroups: { minSize: number; maxSize: number } | null;
  /** the host CPU's model name where known (AdapterReport.cpu): a CPU adapter's register blocks depend on it */
  cpu?: string | null;
}

/**
 * Lanes per subgroup of the subgroup kernel (S): the adapter's smallest subgroup size, so that a
 * workgroup's lanes 0..S-1 always lie within one subgroup; null where the device has no subgroups
 * or a size the kernel is not built for (it unrolls S broadcasts per slab: 4 to 32).
 */
export function subgroupLanes(d: MatmulDevice): number | null {
  const s = d.subgroups?.minSize ?? 0;
  return s >= 4 && s <= 32 && (s & (s - 1)) === 0 ? s : null;
}

/**
 * Subgroups per workgroup of the subgroup kernel, stacked along M: 2 where every subgroup has
 * exactly S lanes (lavapipe: 8 to 8; 2 measured faster than 1 and 4 there), so that each local row
 * y of S invocations is one subgroup; 1 where sizes vary (a workgroup of S lanes then always lies
 * within one subgroup).
 */
export function subgroupsPerWorkgroup(d: MatmulDevice): number {
  return d.subgroups && d.subgroups.minSize === d.subgroups.maxSize ? 2 : 1;
}

/**
 * Rows of C per subgroup (TM of matmul_subgroup.wgsl) for products of at least SUBGROUP_THIN_M
 * rows, by CPU: the two CPUs of these machines run lavapipe with the same 8 lanes and want different
 * blocks. Intel Xeon (AVX-512): 12 beat 8, 10, 14 and 16 in interleaved runs (1024³ 12.0 → 14.9
 * GFLOP/s, `bench train-ar` +5%); AMD EPYC: 8, side by side with 12 (1024³ 19.6 → 21.6 GFLOP/s,
 * 2048x512x128 16.8 → 22.5, `bench train-ar` B32 2,630 → 3,260 tokens/s). Other CPUs take 8, the
 * smaller register block. With B read from a texture (ops/matmul-b-texture.ts) the B loads cost
 * less and a larger block pays: 16 rows (AMD EPYC, against the buffer kernel's 8, side by side:
 * +5–25%, 1024³ 17.4 → 19.2 GFLOP/s; 12 rows level with it, 24 slower; docs/kernels-on-cpu.md).
 * With A from a texture as well (its slab's loads fewer again), 24 rows (20–28 within the noise of
 * each other, 32 less; against B alone at 16: 1024³ +16–20%, 4096×256×768 +10–16%).
 */
export const SUBGROUP_ROWS = { intel: 12, other: 8, texture: 16, textureA: 24 } as const;
/**
 * Below this many rows (a sampler's batch: 9 grids, 18 with guidance) a product takes 8 rows per
 * subgroup: with 12 the 9-row products of `bench sample-ar` fell to the register
 * kernel and B9_L64 from ~2,150 to ~1,700 tokens/s (side by side; ~2,200 again with 8 there).
 */
export const SUBGROUP_THIN_M = 128;

/** Rows of C per subgroup for an M-row product on device `d`, B read from a buffer or a texture. */
export function subgroupRows(M: number, d: MatmulDevice, bTexture = false, aTexture = false): number {
  if (M < SUBGROUP_THIN_M) return 8;
  if (bTexture) return aTexture ? SUBGROUP_ROWS.textureA : SUBGROUP_ROWS.texture;
  return /\bIntel\b/i.test(d.cpu ?? '') ? SUBGROUP_ROWS.intel : SUBGROUP_ROWS.other;
}

/**
 * The kernel 'auto' takes on a CPU rasteriser for an M×N product: the subgroup one where the
 * device allows it (on lavapipe 1.1–2.2× the register kernel, about equal where B outgrows the
 * caches: docs/kernels-on-cpu.md), unless the product is too thin to fill its blocks (fewer than 8
 * rows, or columns for fewer than half the lanes: the register kernel's 1-wide blocks fit those) or
 * its grid would pass the device's workgroups-per-dimension limit.
 */
export function cpuVariant(d: MatmulDevice, M: number, N: number, maxWorkgroups = 65535): 'register' | 'subgroup' {
  const S = subgroupLanes(d);
  if (S === null || M < 8 || N < 2 * S) return 'register';
  return subgroupGridFits(d, S, M, N, maxWorkgroups) ? 'subgroup' : 'register';
}

/** Whether the subgroup kernel's grid for an M×N product stays within the device's workgroups per dimension. */
function subgroupGridFits(d: MatmulDevice, S: number, M: number, N: number, maxWorkgroups: number): boolean {
  return Math.ceil(M / (subgroupRows(M, d) * subgroupsPerWorkgroup(d))) <= maxWorkgroups && Math.ceil(N / (4 * S)) <= maxWorkgroups;
}

/** The running device as the kernel choices read it. */
export function currentDevice(): MatmulDevice {
  const rt = runtime();
  return { isCpu: rt.isCpu, subgroups: rt.report.subgroups, cpu: rt.report.cpu };
}

/** Whether the device can run a tile: invocations and workgroup memory (two BK-deep slabs) within its limits. */
function tileFits(t: Tile): boolean {
  const l = runtime().limits;
  return t.WGX * t.WGY <= l.maxComputeInvocationsPerWorkgroup && 4 * t.BK * (t.WGY * t.TM + t.WGX * t.TN) <= l.maxComputeWorkgroupStorageSize;
}

/**
 * The largest tile that still gives the product FILL_WORKGROUPS workgroups (else the smallest that
 * fits the device); exported for tests of the choice.
 */
export function chooseTile(M: number, N: number, batch: number, fits: (t: Tile) => boolean = tileFits): TileName | null {
  const usable = TILE_ORDER.filter((n) => fits(TILES[n]));
  const count = (n: TileName) => Math.ceil(M / (TILES[n].WGY * TILES[n].TM)) * Math.ceil(N / (TILES[n].WGX * TILES[n].TN)) * batch;
  return usable.find((n) => count(n) >= FILL_WORKGROUPS) ?? usable[usable.length - 1] ?? null;
}

export function resolveVariant(v: MatmulVariant, M: number, N: number, batch: number): 'register' | 'subgroup' | Vec4TileName | TileName {
  if (v === 'register') return v;
  if (v === 'subgroup') {
    const d = currentDevice();
    if (subgroupLanes(d) === null) {
      const sg = d.subgroups;
      throw new Error(
        `matmul: the 'subgroup' variant needs a device with the 'subgroups' feature and a subgroup size of 4 to 32; this one has ${sg ? `subgroup sizes ${sg.minSize}–${sg.maxSize}` : 'no subgroups'} (use 'auto').`,
      );
    }
    // Forced on any shape (tests), except a grid beyond the device's limit: the register kernel then.
    return subgroupGridFits(d, subgroupLanes(d)!, M, N, runtime().limits.maxComputeWorkgroupsPerDimension) ? v : 'register';
  }
  if (isVec4(v)) return tileFits(VEC4_TILES[v]) ? v : (chooseTile(M, N, batch) ?? 'register');
  if (v === 'auto' && runtime().isCpu) return cpuVariant(currentDevice(), M, N, runtime().limits.maxComputeWorkgroupsPerDimension);
  if (v !== 'auto' && v !== 'tiled') return tileFits(TILES[v]) ? v : (chooseTile(M, N, batch) ?? 'register');
  return chooseTile(M, N, batch) ?? 'register';
}
