// The subgroup matmul with B read from a texture (ops/matmul-b-texture.ts, matmul_b_texture.wgsl
// staging it, matmul_b4_texture.wgsl reading it), and A too where its rows are dense and K a
// multiple of 64 (matmul_subgroup.wgsl A_TEX), where the device has subgroups: forced on shapes
// that take each staging path (a buffer-to-texture copy for dense rows of a multiple of 64 floats; the
// kernel for any strides: transposed, sliced, misaligned, heads of a [B, T, H, d] layout), a broadcast
// B in one layer, the triangular products and the bias and GELU epilogues, each against the float64
// reference and bitwise against the same product with B from its buffer (the sums keep their order),
// with the textures read as read-only storage textures (where the device has them) and as sampled ones.
// matmul.test.ts runs its shared cases with the texture forced too. Where the device has no
// subgroups (Chromium's compat adapter) the texture path never runs; the choice logic runs everywhere.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { matmulRaw, subgroupLanes, subgroupRows, SUBGROUP_ROWS } from '../src/ops/matmul.js';
import { aFromTexture, bFromTexture, matmulBTexture, storageTextureReads, textureLanesOk } from '../src/ops/matmul-b-texture.js';
import { firstMismatch, matmul as refMatmul, Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});
afterEach(() => {
  matmulBTexture.mode = 'auto';
  matmulBTexture.aMode = 'auto';
  matmulBTexture.fetch = 'auto';
});

// (and at most 8 lanes: wider subgroups keep B in its buffer, textureLanesOk)
const hasSubgroups = () => subgroupLanes({ isCpu: vq.runtime().isCpu, subgroups: vq.runtime().report.subgroups }) !== null && textureLanesOk();

/**
 * `f()` read back with B from a texture and from its buffer: equal bitwise, and close to `want`
 * (elements where `keep` is false, never written, are left out).
 */
async function bothPaths(f: () => vq.Tensor, want: Float32Array | null, label: string, K: number,
  keep: (x: number) => boolean = () => true): Promise<Float32Array> {
  const run = async (mode: 'texture' | 'buffer', fetch: 'auto' | 'sampled' = 'auto') => {
    matmulBTexture.mode = mode;
    matmulBTexture.fetch = fetch;
    const t = vq.tidy(f);
    const r = (await t.toArray()) as Float32Array;
    t.dispose();
    return r.map((v, x) => (keep(x) ? v : 0));
  };
  const tex = await run('texture'), sampled = await run('texture', 'sampled'), buf = await run('buffer');
  expect(Array.from(tex), `${label}: texture against buffer`).toEqual(Array.from(buf));
  expect(Array.from(sampled), `${label}: sampled texture against buffer`).toEqual(Array.from(buf));
  if (want) {
    const i = firstMismatch(tex, want, 4e-5 * Math.max(1, Math.sqrt(K)), 1e-4);
    if (i >= 0) expect.fail(`${label}: element ${i} is ${tex[i]}, expected ${want[i]}`);
  }
  return tex;
}

function hostT(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** [Z, rows, cols] → [Z, cols, rows] (each item transposed). */
function hostT3(a: Float32Array, Z: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let z = 0; z < Z; z++) out.set(hostT(a.subarray(z * rows * cols, (z + 1) * rows * cols), rows, cols), z * rows * cols);
  return out;
}

describe('matmul subgroup kernel, B from a texture (where the device has subgroups)', () => {
  // [batch, M, K, N]: below and from 128 rows (8 and 16 rows per subgroup), K tails, N not a
  // multiple of 4, N a multiple of 64 (staged by a copy), one and several items
  const shapes: [number, number, number, number][] = [
    [1, 1, 1, 1], [1, 17, 9, 33], [1, 97, 131, 61], [1, 130, 40, 128], [3, 129, 19, 64], [2, 200, 33, 70], [1, 300, 8, 192],
    // K a multiple of 64: A from a texture too (8 rows a subgroup below 128 rows, 24 from there)
    [1, 17, 64, 33], [2, 200, 128, 70], [1, 130, 192, 128], [3, 131, 64, 64],
  ];

  it.each(shapes)('dense B: batch %i, %i×%i×%i', async (Z, M, K, N) => {
    if (!hasSubgroups()) return;
    const rng = new Rng(Z + M * 7 + K * 31 + N);
    const a = rng.array(Z * M * K), b = rng.array(Z * K * N);
    await bothPaths(() => matmulRaw(vq.tensor(a, [Z, M, K]), vq.tensor(b, [Z, K, N]), 0.5, 'subgroup'),
      refMatmul(a, b, Z, M, K, N).map((v) => 0.5 * v), `${Z}×${M}×${K}×${N}`, K);
  });

  it('strided B (transposed, at an odd offset) staged by the kernel; a broadcast B in one layer', async () => {
    if (!hasSubgroups()) return;
    for (const [Z, M, K, N] of [[2, 140, 21, 65], [1, 33, 64, 128], [3, 128, 9, 3]]) {
      const rng = new Rng(Z * 100 + M + K + N);
      const a = rng.array(Z * M * K), b = rng.array(Z * K * N);
      const want = refMatmul(a, b, Z, M, K, N);
      const bt = new Float32Array(b.length); // B stored as [Z, N, K]
      for (let z = 0; z < Z; z++) bt.set(hostT(b.subarray(z * K * N, (z + 1) * K * N), K, N), z * K * N);
      await bothPaths(() => matmulRaw(vq.tensor(a, [Z, M, K]), vq.transpose(vq.tensor(bt, [Z, N, K]), 1, 2), 1, 'subgroup'), want, `Bᵀ ${Z}×${M}×${K}×${N}`, K);
      // dense rows, but at offset 1 of a longer buffer (not 16-byte aligned for the copy)
      const padded = new Float32Array(b.length + 1);
      padded.set(b, 1);
      const shifted = () => vq.reshape(vq.slice(vq.tensor(padded, [padded.length]), 0, 1, padded.length), [Z, K, N]);
      await bothPaths(() => matmulRaw(vq.tensor(a, [Z, M, K]), shifted(), 1, 'subgroup'), want, `offset B ${Z}×${M}×${K}×${N}`, K);
      // one B for every item
      const b0 = b.subarray(0, K * N), want0 = new Float32Array(Z * M * N);
      for (let z = 0; z < Z; z++) want0.set(refMatmul(a.subarray(z * M * K, (z + 1) * M * K), b0, 1, M, K, N), z * M * N);
      await bothPaths(() => matmulRaw(vq.tensor(a, [Z, M, K]), vq.tensor(b0, [K, N]), 1, 'subgroup'), want0, `broadcast B ${M}×${K}×${N}`, K);
    }
  });

  it('A from a texture: broadcast over the batch, and which products take it', async () => {
    if (!hasSubgroups()) return;
    const [Z, M, K, N] = [3, 150, 64, 40];
    const rng = new Rng(77);
    const a = rng.array(M * K), b = rng.array(Z * K * N);
    const want = new Float32Array(Z * M * N);
    for (let z = 0; z < Z; z++) want.set(refMatmul(a, b.subarray(z * K * N, (z + 1) * K * N), 1, M, K, N), z * M * N);
    await bothPaths(() => matmulRaw(vq.tensor(a, [M, K]), vq.tensor(b, [Z, K, N]), 1, 'subgroup'), want, 'broadcast A', K);
    const dense = vq.tensor(a, [1, M, K]), t = vq.transpose(vq.tensor(rng.array(K * M), [1, K, M]), 1, 2);
    expect(aFromTexture(dense, 8)).toBe(true);
    expect(aFromTexture(dense, 8, 'lower')).toBe(true); // causal scores: the whole k loop
    expect(aFromTexture(dense, 8, 'kUpTo')).toBe(true); // P·v: slabs from k = 0, texels masked past the diagonal
    expect(aFromTexture(dense, 8, 'kFrom')).toBe(false); // its first k is the diagonal, not a multiple of 4
    expect(aFromTexture(dense, 16)).toBe(false); // the slab's lane pattern is for 8 lanes
    expect(aFromTexture(t, 8)).toBe(false); // a transposed A: staged by the kernel, it does not pay
    expect(aFromTexture(vq.tensor(rng.array(M * 40), [1, M, 40]), 8)).toBe(false); // K not a multiple of 64
    matmulBTexture.aMode = 'buffer';
    expect(aFromTexture(dense, 8)).toBe(false);
    matmulBTexture.aMode = 'auto';
    dense.dispose();
    t.dispose();
  });

  it("'kUpTo' with A from a texture: NaN past the diagonal taken as 0, bitwise the buffer path's", async () => {
    if (!hasSubgroups()) return;
    // [batch, M, off, N]: K = M + off a multiple of 64, 24 rows a subgroup, the diagonal inside slabs
    for (const [Z, M, off, N] of [[2, 128, 0, 40], [1, 150, 42, 64], [1, 200, 56, 36]]) {
      const K = M + off;
      const rng = new Rng(M + 3 * off + N);
      const live = (x: number) => x % K <= (Math.floor(x / K) % M) + off;
      const clean = rng.array(Z * M * K).map((v, x) => (live(x) ? v : 0));
      const dirty = clean.map((v, x) => (live(x) ? v : Number.NaN)), b = rng.array(Z * K * N);
      const run = async (aMode: 'auto' | 'buffer') => {
        matmulBTexture.aMode = aMode;
        const A = vq.tensor(dirty, [Z, M, K]);
        if (aMode === 'auto' && subgroupLanes({ isCpu: vq.runtime().isCpu, subgroups: vq.runtime().report.subgroups }) === 8) expect(aFromTexture(A, 8, 'kUpTo')).toBe(true);
        const c = vq.tidy(() => matmulRaw(A, vq.tensor(b, [Z, K, N]), 1, 'subgroup', { kind: 'kUpTo', off }));
        const r = (await c.toArray()) as Float32Array;
        for (const t of [A, c]) t.dispose();
        return r;
      };
      const tex = await run('auto'), buf = await run('buffer');
      expect(Array.from(tex), `kUpTo ${Z}×${M}×${K}×${N}: A's texture against its buffer`).toEqual(Array.from(buf));
      matmulBTexture.fetch = 'sampled';
      expect(Array.from(await run('auto')), `kUpTo ${Z}×${M}×${K}×${N}: A's sampled texture against its buffer`).toEqual(Array.from(buf));
      matmulBTexture.fetch = 'auto';
      const i = firstMismatch(tex, refMatmul(clean, b, Z, M, K, N), 4e-5 * Math.sqrt(K), 1e-4);
      if (i >= 0) expect.fail(`kUpTo ${Z}×${M}×${K}×${N}: element ${i} is ${tex[i]}`);
    }
  });

  it('heads of a [B, T, H, d] layout viewed as [B, H, T, d] (a batch of two strides): q·kᵀ and P·v', async () => {
    if (!hasSubgroups()) return;
    const [Bn, T, H, d] = [2, 130, 3, 8];
    const rng = new Rng(31);
    const q = rng.array(Bn * T * H * d), k = rng.array(Bn * T * H * d), pr = rng.array(Bn * H * T * T);
    const head = (x: Float32Array, b: number, h: number) => {
      const m = new Float32Array(T * d);
      for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) m[t * d + j] = x[((b * T + t) * H + h) * d + j];
      return m;
    };
    const scores = new Float32Array(Bn * H * T * T), weighted = new Float32Array(Bn * H * T * d);
    for (let b = 0; b < Bn; b++) {
      for (let h = 0; h < H; h++) {
        const z = b * H + h;
        scores.set(refMatmul(head(q, b, h), hostT(head(k, b, h), T, d), 1, T, d, T), z * T * T);
        weighted.set(refMatmul(pr.subarray(z * T * T, (z + 1) * T * T), head(k, b, h), 1, T, T, d), z * T * d);
      }
    }
    await bothPaths(() => matmulRaw(vq.permute(vq.tensor(q, [Bn, T, H, d]), [0, 2, 1, 3]), vq.permute(vq.tensor(k, [Bn, T, H, d]), [0, 2, 3, 1]), 1, 'subgroup'), scores, 'q·kᵀ', d);
    await bothPaths(() => matmulRaw(vq.tensor(pr, [Bn, H, T, T]), vq.permute(vq.tensor(k, [Bn, T, H, d]), [0, 2, 1, 3]), 1, 'subgroup'), weighted, 'P·v', T);
  });

  it('triangular products, and the bias and GELU epilogues, as with B from its buffer', async () => {
    if (!hasSubgroups()) return;
    const rng = new Rng(41);
    const [Z, M, K] = [2, 150, 24];
    const a = vq.tensor(rng.array(Z * M * K), [Z, M, K]), kt = vq.tensor(rng.array(Z * M * K), [Z, M, K]);
    // 'lower' writes nothing past the diagonal; kUpTo and kFrom assume A zero past (before) it
    const onOrBelow = (x: number) => x % M <= Math.floor(x / M) % M;
    const mask = vq.tensor(Float32Array.from({ length: M * M }, (_, x) => (onOrBelow(x) ? 1 : 0)), [M, M]);
    await bothPaths(() => matmulRaw(a, vq.transpose(kt, 1, 2), 1, 'subgroup', { kind: 'lower', off: 0 }), null, 'lower', K, onOrBelow);
    // 'lower' with K a multiple of 64: A from a texture too (24 rows a subgroup), against the reference
    {
      const K64 = 64, ha = rng.array(Z * M * K64), hk = rng.array(Z * M * K64);
      const want = refMatmul(ha, hostT3(hk, Z, M, K64), Z, M, K64, M).map((v, x) => (onOrBelow(x) ? v : 0));
      const [a64, k64] = [vq.tensor(ha, [Z, M, K64]), vq.tensor(hk, [Z, M, K64])];
      await bothPaths(() => matmulRaw(a64, vq.transpose(k64, 1, 2), 1, 'subgroup', { kind: 'lower', off: 0 }), want, 'lower, A from a texture', K64, onOrBelow);
      a64.dispose();
      k64.dispose();
    }
    const p = vq.tidy(() => vq.mul(vq.tensor(rng.array(Z * M * M), [Z, M, M]), mask)), v = vq.tensor(rng.array(Z * M * K), [Z, M, K]);
    await bothPaths(() => matmulRaw(p, v, 1, 'subgroup', { kind: 'kUpTo', off: 0 }), null, 'kUpTo', M);
    await bothPaths(() => matmulRaw(vq.transpose(p, 1, 2), v, 1, 'subgroup', { kind: 'kFrom', off: 0 }), null, 'kFrom', M);
    const x = vq.tensor(rng.array(M * K, 2), [M, K]), w = vq.tensor(rng.array(K * 72, 2), [K, 72]), b = vq.tensor(rng.array(72), [72]);
    const fused = await bothPaths(() => vq.noGrad(() => vq.linear(x, w, b, 'subgroup', 'gelu')), null, 'linear + GELU', K);
    const apart = await bothPaths(() => vq.noGrad(() => vq.gelu(vq.linear(x, w, b, 'subgroup'))), null, 'linear, then GELU', K);
    expect(Array.from(fused)).toEqual(Array.from(apart));
    for (const t of [a, kt, mask, p, v, x, w, b]) t.dispose();
  });

  it('a warm product creates no texture: the pool hands the staged one back', async () => {
    if (!hasSubgroups()) return;
    matmulBTexture.mode = 'texture';
    const rng = new Rng(5);
    const a = vq.tensor(rng.array(130 * 20), [130, 20]), b = vq.tensor(rng.array(20 * 36), [20, 36]);
    const once = () => vq.tidy(() => matmulRaw(a, b, 1, 'subgroup')).dispose();
    once();
    await vq.runtime().sync();
    const created = vq.runtime().textures.created;
    for (let i = 0; i < 3; i++) once();
    await vq.runtime().sync();
    expect(vq.runtime().textures.created).toBe(created);
    a.dispose();
    b.dispose();
  });
});

describe('matmul: when B comes from a texture', () => {
  it("'auto' on a CPU adapter with subgroups of at most 8 lanes from 128 rows (16 rows per subgroup there), below only with storage-texture reads; limits refuse a forced texture", () => {
    const cpu = vq.runtime().isCpu;
    // under 128 rows: only where the texels are read as storage textures
    expect(bFromTexture(127, 64, 64, 1)).toBe(cpu && textureLanesOk() && storageTextureReads());
    matmulBTexture.fetch = 'sampled';
    expect(bFromTexture(127, 64, 64, 1)).toBe(false);
    matmulBTexture.fetch = 'auto';
    expect(bFromTexture(128, 64, 64, 1)).toBe(cpu && textureLanesOk());
    if (!textureLanesOk()) {
      // wider subgroups (llvmpipe at 512 bits): a forced texture is one clear error
      matmulBTexture.mode = 'texture';
      expect(() => bFromTexture(1, 1, 1, 1)).toThrow(/more than 8 lanes/);
      matmulBTexture.mode = 'auto';
      return;
    }
    const lim = vq.runtime().limits;
    expect(bFromTexture(4096, lim.maxTextureDimension2D + 1, 64, 1)).toBe(false);
    expect(bFromTexture(4096, 64, 64, lim.maxTextureArrayLayers + 1)).toBe(false);
    matmulBTexture.mode = 'buffer';
    expect(bFromTexture(4096, 64, 64, 1)).toBe(false);
    matmulBTexture.mode = 'texture';
    expect(bFromTexture(1, 1, 1, 1)).toBe(true);
    expect(() => bFromTexture(4096, 64, 4 * lim.maxTextureDimension2D + 4, 1)).toThrow(/does not fit this device's texture limits/);
    const d = { isCpu: true, subgroups: { minSize: 8, maxSize: 8 }, cpu: 'AMD EPYC' };
    expect(subgroupRows(127, d, true)).toBe(8);
    expect(subgroupRows(128, d, true)).toBe(SUBGROUP_ROWS.texture);
    expect(subgroupRows(128, { ...d, cpu: 'Intel(R) Xeon(R)' }, true)).toBe(SUBGROUP_ROWS.texture);
  });

  it('texels are read from read-only storage textures where the WGSL language feature is there, else from sampled ones', () => {
    const feature = 'readonly_and_readwrite_storage_textures';
    expect(storageTextureReads({ wgslFeatures: [] })).toBe(false);
    expect(storageTextureReads({ wgslFeatures: ['packed_4x8_integer_dot_product'] })).toBe(false);
    expect(storageTextureReads({ wgslFeatures: ['packed_4x8_integer_dot_product', feature] })).toBe(true);
    matmulBTexture.fetch = 'sampled';
    expect(storageTextureReads({ wgslFeatures: [feature] })).toBe(false);
    matmulBTexture.fetch = 'auto';
    expect(storageTextureReads()).toBe(vq.runtime().report.wgslFeatures.includes(feature));
  });
});
