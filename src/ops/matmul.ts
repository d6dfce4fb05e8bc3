// Batched matrix product with broadcasting over leading (batch) dimensions.
// a: [..., M, K], b: [..., K, N] → [..., M, N]. Transposed operands are strided views: no copy.
// Two kernels read the same Params and strides:
//   'register' (matmul.wgsl)       each invocation keeps a TM×TN block of C in registers, no barriers:
//                                  the fast one on CPU rasterisers (llvmpipe), where barriers are costly;
//   'subgroup' (matmul_subgroup.wgsl) a subgroup shares a block of rows of C and passes A's values
//                                  between its lanes by subgroupBroadcast: the fast one on CPU
//                                  rasterisers whose device has the `subgroups` feature (lavapipe);
//   'tiled'    (matmul_tiled.wgsl) tiles of C staged in workgroup memory: the one for real GPUs;
//              32×32, 64×64 or 128×128 by the product's size ('tiled32' … 'tiled128' force one).

import matmulSrc from '../../shaders/matmul.wgsl';
import subgroupSrc from '../../shaders/matmul_subgroup.wgsl';
import bBufferSrc from '../../shaders/matmul_b4_buffer.wgsl';
import bTextureSrc from '../../shaders/matmul_b4_texture.wgsl';
import tiledSrc from '../../shaders/matmul_tiled.wgsl';
import tiledVec4Src from '../../shaders/matmul_tiled_vec4.wgsl';
import paramsSrc from '../../shaders/matmul_params.wgsl';
import { isGradEnabled, noGrad, record } from '../autograd/tape.js';
import { runtime, type KernelSource } from '../device/runtime.js';
import { empty, sizeOf, type Tensor } from '../tensor/tensor.js';
import { broadcastShapes } from './broadcast.js';
import { fmt, includeSnippet, kernel, launch, Params, specialize, withGelu } from './launch.js';
import { copyInto, reshape, sumTo, transpose } from './layout.js';
import { add, gelu } from './elementwise.js';
import { allFit, forBatchThenRows, spanFits } from './binding-window.js';
import { aFromTexture, bFromTexture, stageTexture, storageTextureReads } from './matmul-b-texture.js';
import { batchView, denseBatch, twoLevelBatch } from './matmul-batch.js';
import {
  currentDevice, isVec4, resolveVariant, subgroupLanes, subgroupRows, subgroupsPerWorkgroup, TILES, VEC4_TILES,
  type MatmulVariant, type TileName, type Vec4TileName,
} from './matmul-variant.js';

export {
  chooseTile, cpuVariant, currentDevice, SUBGROUP_ROWS, subgroupLanes, subgroupRows, subgroupsPerWorkgroup,
  type MatmulDevice, type MatmulVariant,
} from './matmul-variant.js';

/** A matmul shader with the shared Params struct and bindings (shaders/matmul_params.wgsl) included. */
const withParams = (src: string) => includeSnippet(src, 'matmul_params.wgsl', paramsSrc);

const REGISTER = kernel('matmul', withParams(matmulSrc));
const subgroupWith = (b4: string) => withGelu(withParams(includeSnippet(subgroupSrc, 'matmul_b4.wgsl', b4)));
const SUBGROUP = kernel('matmul_subgroup', subgroupWith(bBufferSrc));
/** The same kernel reading B from a texture (ops/matmul-b-texture.ts). */
const SUBGROUP_TEX = kernel('matmul_subgroup_tex', subgroupWith(bTextureSrc));
const TILED = kernel('matmul_tiled', withParams(tiledSrc));
const TILED_VEC4 = kernel('matmul_tiled_vec4', withParams(tiledVec4Src));
/** Rows of C from which the subgroup kernel reads a column-strided B from a dense copy (measured on lavapipe: docs/kernels-on-cpu.md). */
const DENSE_B_ROWS = 64;

/**
 * Register block edge for a matrix dimension: 8 (measured best on lavapipe; about 2× a 4×4 block),
 * 1 for thin operands (vector products). Two values only: each is a pipeline to compile.
 */
function blockEdge(d: number): number {
  return d >= 8 ? 8 : 1;
}

/** Specialised matmul kernels by base kernel and template constants (each is a shader compile: made once). */
const specialised = new Map<string, KernelSource>();
function specialisedKernel(base: KernelSource, consts: Record<string, number>): KernelSource {
  const key = `${base.name}${JSON.stringify(consts)}`;
  let k = specialised.get(key);
  if (!k) specialised.set(key, (k = specialize(base, consts)));
  return k;
}

const tiledKernels = new Map<TileName | Vec4TileName, KernelSource>();
function tiledKernel(n: TileName | Vec4TileName): KernelSource {
  let k = tiledKernels.get(n);
  if (!k) {
    k = isVec4(n) ? specialize(TILED_VEC4, { WG: VEC4_TILES[n].WGX, BK: VEC4_TILES[n].BK }) : specialize(TILED, { ...TILES[n] });
    tiledKernels.set(n, k);
  }
  return k;
}

/**
 * A triangular product (causal attention that stores its scores; matmul_subgroup.wgsl TRI), with the
 * diagonal at k = i + off (off = Tk − Tq ≥ 0):
 *   'lower'  C[i][j] only for j ≤ i + off; nothing computed or written past it (causal softmax rows
 *            never read there);
 *   'kUpTo'  A[i][k] = 0 for k > i + off: the sum over k stops there;
 *   'kFrom'  A[i][k] = 0 for k < i − off: the sum starts there.
 * The subgroup kernel only; operands within one binding.
 */
export interface Triangle { kind: 'lower' | 'kUpTo' | 'kFrom'; off: number }
const TRI_MODE = { lower: 1, kUpTo: 2, kFrom: 3 } as const;

function checkTriangle(a: Tensor, b: Tensor, tri: Triangle | undefined, kind: string, fits: boolean): void {
  if (tri && !(Number.isInteger(tri.off) && tri.off >= 0 && fits && kind === 'subgroup')) {
    throw new Error(`matmul: a triangular product needs the subgroup kernel, operands within one binding and a diagonal offset ≥ 0 (${fmt(a.shape)} · ${fmt(b.shape)}, offset ${tri.off}).`);
  }
}

/**
 * C = alpha · A·B (+ bias [N] on every row), then `act`, with no autograd. Inputs are rank ≥ 2 (use
 * reshape for vectors). The subgroup kernel adds the bias and applies the activation as it stores C
 * (`linear` below); the others in passes after.
 */
export function matmulRaw(a: Tensor, b: Tensor, alpha = 1, variant: MatmulVariant = 'auto', tri?: Triangle, bias: Tensor | null = null, act: ProductAct = 'none'): Tensor {
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands must have rank ≥ 2, got ${fmt(a.shape)} and ${fmt(b.shape)}.`);
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new Error('matmul: operands must be f32.');
  const M = a.shape[a.rank - 2], K = a.shape[a.rank - 1], N = b.shape[b.rank - 1];
  if (b.shape[b.rank - 2] !== K) throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)} · ${fmt(b.shape)}.`);
  if (bias && !(bias.rank === 1 && bias.shape[0] === N && bias.dtype === 'f32')) {
    throw new Error(`matmul: the bias must be f32 of shape [${N}], got ${bias.dtype} ${fmt(bias.shape)}.`);
  }
  const batchShape = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  const kind = resolveVariant(variant, M, N, batch);
  if ((bias || act !== 'none') && (kind !== 'subgroup' || tri || (bias && !allFit([bias])))) {
    const c = matmulRaw(a, b, alpha, variant, tri);
    return epilogue(c, bias, act);
  }
  const out = empty([...batchShape, M, N]);
  if (out.size === 0) return out;
  let A = a, B = b;
  let av = batchView(A, batchShape);
  let bv = batchView(B, batchShape);
  // Batch dims that no single stride describes: two strides where they fit one dispatch (one
  // binding each, one grid), else a dense copy (e.g. [2, 1] against [2, 3]).
  const split = (!av || !bv) && batch <= runtime().limits.maxComputeWorkgroupsPerDimension && allFit([a, b, out]) ? twoLevelBatch(a, b, batchShape) : null;
  if (split) {
    const A3 = a.view([batch, M, K], [split.a[0], a.strides[a.rank - 2], a.strides[a.rank - 1]], a.offset);
    const B3 = b.view([batch, K, N], [split.b[0], b.strides[b.rank - 2], b.strides[b.rank - 1]], b.offset);
    const C3 = out.view([batch, M, N], [M * N, N, 1], 0);
    checkTriangle(a, b, tri, kind, true);
    dispatchProduct(kind, A3, B3, C3, alpha, tri, { n: split.n, a2: split.a[1], b2: split.b[1] }, bias, act);
    for (const t of [A3, B3, C3]) t.dispose();
    return out;
  }
  if (!av) { A = denseBatch(a, batchShape); av = batchView(A, batchShape)!; }
  if (!bv) { B = denseBatch(b, batchShape); bv = batchView(B, batchShape)!; }
  checkTriangle(a, b, tri, kind, allFit([A, B, out]));
  if (!allFit([A, B, out]) && K > 1 && !rowsFit(A, B, out)) {
    // A row of A or B's item over a binding (a transposed activation in a weight gradient): the
    // sum over k in two halves, each chunked as it needs.
    const k2 = K >> 1;
    const parts = [[0, k2], [k2, K]].map(([k0, k1]) => {
      const ak = kRange(a, a.rank - 1, k0, k1), bk = kRange(b, b.rank - 2, k0, k1);
      const c = matmulRaw(ak, bk, alpha, variant);
      ak.dispose();
      bk.dispose();
      return c;
    });
    out.dispose();
    const sum = noGrad(() => add(parts[0], parts[1]));
    parts.forEach((c) => c.dispose());
    if (A !== a) A.dispose();
    if (B !== b) B.dispose();
    return epilogue(sum, bias, act);
  }
  // [batch, rows, cols] views; operands over a storage binding go in chunks of batch items, or of
  // the rows of A and C within an item (B bound whole): binding-window.ts.
  const A3 = A.view([batch, M, K], [av.bs, av.rs, av.cs], A.offset);
  const B3 = B.view([batch, K, N], [bv.bs, bv.rs, bv.cs], B.offset);
  const C3 = out.view([batch, M, N], [M * N, N, 1], 0);
  forBatchThenRows('matmul', batch, M, [{ t: A3, rowAxis: 1 }, { t: B3, rowAxis: null }, { t: C3, rowAxis: 1 }], ([a3, b3, c3]) =>
    dispatchProduct(kind, a3, b3, c3, alpha, tri, undefined, bias, act),
  );
  for (const t of [A3, B3, C3]) t.dispose();
  if (A !== a) A.dispose();
  if (B !== b) B.dispose();
  return out;
}

const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;

/** An activation applied as a product is stored (matmul_subgroup.wgsl ACT; no autograd). */
export type ProductAct = 'none' | 'gelu';

/** The bias and activation that a kernel could not apply as it stored c, as passes of their own (c consumed). */
function epilogue(c: Tensor, bias: Tensor | null, act: ProductAct): Tensor {
  let r = c;
  const step = (f: (t: Tensor) => Tensor) => {
    const next = noGrad(() => f(r));
    r.dispose();
    r = next;
  };
  if (bias) step((t) => add(t, bias));
  if (act === 'gelu') step(gelu);
  return r;
}

/**
 * Whether a lane's vec4 of B's last columns stays inside B's storage: always where N is a multiple
 * of 4; otherwise (rows padded to N4, the dense copy above) where the rows are N4 apart and the last
 * item's last row, padding included, lies inside the storage. B [batch, K, N] as dispatchProduct
 * reads it: item bo·n + bi at bo·bbs + bi·b2.
 */
function vec4RowsFit(B: Tensor, N: number, two: { n: number; b2: number }): boolean {
  if (N % 4 === 0) return true;
  const [batch, K] = B.shape, [bbs, brs] = B.strides, N4 = roundUp4(N);
  if (bbs < 0 || two.b2 < 0 || brs < N4) return false;
  const end = B.offset + (batch / two.n - 1) * bbs + (two.n - 1) * two.b2 + (K - 1) * brs + N4;
  return end * 4 <= B.storage.bytes;
}

/** Whether one row of A, one item of B and one row of C each fit a binding (then rows can be chunked). */
function rowsFit(A: Tensor, B: Tensor, C: Tensor): boolean {
  const item = (t: Tensor, rows: number) =>
    t.view([rows, t.shape[t.rank - 1]], [t.strides[t.rank - 2], t.strides[t.rank - 1]], t.offset);
  const views = [item(A, 1), item(B, B.shape[B.rank - 2]), item(C, 1)];
  const ok = views.every(spanFits);
  views.forEach((v) => v.dispose());
  return ok;
}

/** Elements [k0, k1) of `t` along `axis`: a view (no autograd). */
function kRange(t: Tensor, axis: number, k0: number, k1: number): Tensor {
  return t.view(t.shape.map((d, i) => (i === axis ? k1 - k0 : d)), t.strides, t.offset + k0 * t.strides[axis]);
}

/**
 * C3 = alpha · A3·B3 for [b, M, K]·[b, K, N] views (C3's rows dense, N wide) by the chosen kernel.
 * With `two` (a two-level batch, one grid's worth), item b = bo·n + bi of A lies at
 * bo·A.strides[0] + bi·a2, of B at bo·B.strides[0] + bi·b2.
 */
function dispatchProduct(kind: ReturnType<typeof resolveVariant>, A: Tensor, B: Tensor, C: Tensor, alpha: number, tri?: Triangle,
  two = { n: 1, a2: 0, b2: 0 }, bias: Tensor | null = null, act: ProductAct = 'none'): void {
  const [batch, M, K] = A.shape, N = B.shape[2];
  const [abs, ars, acs] = A.strides, [bbs, brs, bcs] = B.strides;
  const texture = kind === 'subgroup' && bFromTexture(M, K, N, batch);
  if (kind === 'subgroup' && !texture && bcs !== 1 && M >= DENSE_B_ROWS) {
    // A B with strided columns (a transposed view: q·kᵀ, g·Wᵀ) costs the subgroup kernel 4 scalar
    // loads per lane and k step where a dense one is a vec4: a dense copy (K·N floats, one item where
    // the batch broadcasts it) pays once M/16 row blocks each stream B. Its rows are padded to a
    // multiple of 4 (N4 columns; the padding is never written and feeds only the columns past N,
    // which are not stored), so that keys of any length (a bidirectional prior's 65) take vec4 loads.
    const broadcast = bbs === 0 && two.b2 === 0;
    const N4 = roundUp4(N);
    const Bd = empty([broadcast ? 1 : batch, K, N4]);
    const src = broadcast ? B.view([1, K, N], [0, brs, bcs], B.offset)
      : B.view([batch / two.n, two.n, K, N], [bbs, two.b2, brs, bcs], B.offset);
    const dst = Bd.view(src.shape, broadcast ? [K * N4, N4, 1] : [two.n * K * N4, K * N4, N4, 1], 0);
    copyInto(src, dst);
    src.dispose();
    dst.dispose();
    // (dense: item b at b·K·N4, which is bo·(n·K·N4) + bi·(K·N4) in the two-level terms)
    const Bv = Bd.view([batch, K, N], [broadcast ? 0 : two.n * K * N4, N4, 1], 0);
    dispatchProduct(kind, A, Bv, C, alpha, tri, { ...two, b2: broadcast ? 0 : K * N4 }, bias, act);
    Bv.dispose();
    Bd.dispose();
    return;
  }
  const TM = blockEdge(M), TN = blockEdge(N), WG = 8;
  const maxZ = runtime().limits.maxComputeWorkgroupsPerDimension;
  // Very large batches are split into chunks of the z grid limit.
  for (let b0 = 0; b0 < batch; b0 += maxZ) {
    const nb = Math.min(maxZ, batch - b0);
    const p = new Params()
      .u32(M, N, K, nb)
      .u32(A.offset + b0 * abs, abs, ars, acs)
      .u32(B.offset + b0 * bbs, bbs, brs, bcs)
      .u32(C.strides[0])
      .f32(alpha)
      .u32(C.offset + b0 * C.strides[0], tri?.off ?? 0)
      .u32(two.n, two.a2, two.b2, bias?.offset ?? 0);
    if (kind === 'subgroup') {
      const d = currentDevice();
      const S = subgroupLanes(d)!, WGY = subgroupsPerWorkgroup(d);
      // B's k rows as vec4s where its columns are dense and every vec4 is aligned (binding 4: B again).
      const bVec4 = bcs === 1 && [B.offset, bbs, brs, two.b2].every((x) => x % 4 === 0) && vec4RowsFit(B, N, two);
      const aTexture = texture && aFromTexture(A, S, tri?.kind);
      const TM = subgroupRows(M, d, texture, aTexture);
      const grid: [number, number, number] = [Math.ceil(M / (TM * WGY)), Math.ceil(N / (4 * S)), nb];
      const triangle: Record<string, number> = tri ? { TRI: TRI_MODE[tri.kind] } : {};
      const constants = { B_VEC4: bVec4 || texture ? 1 : 0, WGY, BIAS: bias ? 1 : 0, ACT: act === 'gelu' ? 1 : 0, ...triangle };
      // Binding 4: B's vec4s (B again, or its texture: one grid, as the texture limits hold the batch);
      // binding 5: the bias, or B again as a stand-in the kernel never reads.
      if (texture) {
        // Binding 6 (A_TEX): A staged as B is.
        const tex = stageTexture(B, two), atex = aTexture ? stageTexture(A, { n: two.n, b2: two.a2 }) : null;
        const k = specialisedKernel(SUBGROUP_TEX, { TM, S, A_TEX: atex ? 1 : 0, TA: Math.max(1, TM / 4), RO_TEX: storageTextureReads() ? 1 : 0 });
        launch(k, p, [A, B, C, tex.view, bias ?? B, ...(atex ? [atex.view] : [])], grid, constants);
        runtime().textures.release(tex);
        if (atex) runtime().textures.release(atex);
      } else {
        launch(specialisedKernel(SUBGROUP, { TM, S, A_TEX: 0, TA: 1 }), p, [A, B, C, B, bias ?? B], grid, constants);
      }
    } else if (kind !== 'register') {
      // Coalesce the slab loads along whichever operand index is contiguous.
      const constants = { A_K_FAST: ars === 1 && acs !== 1 ? 0 : 1, B_N_FAST: brs === 1 && bcs !== 1 ? 0 : 1 };
      const t = isVec4(kind) ? VEC4_TILES[kind] : TILES[kind];
      launch(tiledKernel(kind), p, [A, B, C], [Math.ceil(N / (t.WGX * t.TN)), Math.ceil(M / (t.WGY * t.TM)), nb], constants);
    } else {
      launch(specialisedKernel(REGISTER, { TM, TN }), p, [A, B, C], [Math.ceil(N / (TN * WG)), Math.ceil(M / (TM * WG)), nb], { WGX: WG, WGY: WG });
    }
  }
}

/** Matrix product with autograd; batch dimensions broadcast. `variant` applies to the backward products too. */
export function matmul(a: Tensor, b: Tensor, variant: MatmulVariant = 'auto'): Tensor {
  if (b.rank === 2 && a.rank > 2) return linear(a, b, null, variant);
  const out = matmulRaw(a, b, 1, variant);
  return record(out, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (a.requiresGrad) {
      const bt = transpose(b);
      const full = matmulRaw(g, bt, 1, variant);
      bt.dispose();
      ga = sumBatch(full, a);
    }
    if (b.requiresGrad) {
      const at = transpose(a);
      const full = matmulRaw(at, g, 1, variant);
      at.dispose();
      gb = sumBatch(full, b);
    }
    return [ga, gb];
  });
}

/**
 * A linear layer: x [..., K] · w [K, N] (+ bias [N]) → [..., N] with autograd. One 2-D product over
 * all rows; the bias is added as the product is stored where the kernel can (matmul_subgroup.wgsl
 * BIAS: no second pass over the output); the weight gradient is one 2-D product too, the bias's a
 * column sum.
 */
export function linear(x: Tensor, w: Tensor, bias: Tensor | null = null, variant: MatmulVariant = 'auto', act: ProductAct = 'none'): Tensor {
  if (x.rank < 1 || w.rank !== 2 || x.shape[x.rank - 1] !== w.shape[0]) {
    throw new Error(`linear: input ${fmt(x.shape)} and weight ${fmt(w.shape)} must be [..., K] and [K, N].`);
  }
  const inputs = bias ? [x, w, bias] : [x, w];
  const taped = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  // The activation's backward needs its input: with a gradient to take, a pass of its own.
  if (act === 'gelu' && taped) return gelu(linear(x, w, bias, variant));
  const K = w.shape[0], N = w.shape[1];
  const rows = (t: Tensor, cols: number) => noGrad(() => reshape(t, [-1, cols])); // [R, cols], no tape entry
  const x2 = rows(x, K);
  const o2 = matmulRaw(x2, w, 1, variant, undefined, bias, act);
  x2.dispose();
  const out = noGrad(() => reshape(o2, [...x.shape.slice(0, -1), N])); // a view: o2 is dense
  o2.dispose();
  if (act !== 'none') return out;
  return record(out, bias ? 'linear' : 'matmul', inputs, (g) => {
    let gx: Tensor | null = null, gw: Tensor | null = null, gb: Tensor | null = null;
    const g2 = rows(g, N);
    if (x.requiresGrad) {
      const wt = transpose(w);
      const gx2 = matmulRaw(g2, wt, 1, variant); // [R, N] · [N, K] → [R, K]
      gx = noGrad(() => reshape(gx2, x.shape)); // a view: gx2 is dense
      gx2.dispose();
      wt.dispose();
    }
    if (w.requiresGrad) {
      const x2 = rows(x, K);
      const x2t = transpose(x2);
      gw = matmulRaw(x2t, g2, 1, variant); // [K, R] · [R, N]
      x2.dispose();
      x2t.dispose();
    }
    if (bias?.requiresGrad) gb = sumTo(g2, [N]);
    g2.dispose();
    return bias ? [gx, gw, gb] : [gx, gw];
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

