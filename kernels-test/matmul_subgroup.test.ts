// matmul_subgroup.wgsl ('subgroup' variant): where the device has subgroups (Dawn on lavapipe), the
// variant forced against the float64 reference on shapes awkward for its tiles (8 rows; from 128
// rows on, 12 on Intel CPUs and 8 elsewhere, both run here whatever the CPU; × 4·S
// columns per subgroup, two subgroups per workgroup, K in slabs of S = 8 with a tail; 1, primes),
// batched, transposed and sliced operands (the scalar and vec4 B paths), and bitwise against the
// register kernel; where it has none (Chromium's compat adapter), that 'auto' falls back and forcing
// the variant gives one clear error. The choice logic on fake adapter descriptions runs everywhere.
// (matmul.test.ts runs its shared cases on this variant too.)

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { cpuVariant, matmulRaw, SUBGROUP_ROWS, subgroupLanes, subgroupRows, subgroupsPerWorkgroup, type MatmulDevice } from '../src/ops/matmul.js';
import { gradcheck } from './gradcheck.js';
import { windowed } from '../src/ops/binding-window.js';
import { firstMismatch, matmul as refMatmul, Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

const hasSubgroups = () => subgroupLanes({ isCpu: vq.runtime().isCpu, subgroups: vq.runtime().report.subgroups }) !== null;

/** Host transpose of a [rows, cols] matrix. */
/** The product a [M, K] × b [K, N] · alpha by one matmul variant, read back. */
async function product(a: Float32Array, b: Float32Array, [M, K, N]: number[], alpha: number, variant: 'auto' | 'register' | 'subgroup'): Promise<Float32Array> {
  const t = matmulRaw(vq.tensor(a, [M, K]), vq.tensor(b, [K, N]), alpha, variant);
  const r = (await t.toArray()) as Float32Array;
  t.dispose();
  return r;
}

function hostT(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

async function expectProduct(f: () => vq.Tensor, want: Float32Array, label: string, K: number): Promise<void> {
  const t = vq.tidy(f);
  const got = await t.toArray();
  t.dispose();
  const atol = 4e-5 * Math.max(1, Math.sqrt(K));
  const i = firstMismatch(got, want, atol, 1e-4);
  if (i >= 0) expect.fail(`${label}: element ${i} is ${got[i]}, expected ${want[i]}`);
}

describe('matmul subgroup kernel (where the device has subgroups)', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 8, 4], // one row, one slab, one lane's vec4
    [16, 8, 32], // exactly one workgroup tile, one slab
    [17, 9, 33], // one past the tile in every dimension, a 1-step K tail
    [13, 7, 5], // K shorter than a slab: only the tail
    [31, 64, 36], // N a multiple of 4 (vec4 B) but not of the 32-column tile
    [97, 131, 61], // primes
    [48, 1000, 100], // long K
    [2048 / 32, 128, 384 / 4], // a scaled-down transformer product
    [157, 40, 70], // 12-row blocks on Intel (128 rows or more): a partial last workgroup of 24 rows
    [128, 17, 36], // exactly the first row count that takes the CPU's own blocks
  ];

  it.each(shapes)('dense %i×%i×%i', async (M, K, N) => {
    if (!hasSubgroups()) return;
    const rng = new Rng(M * 7919 + K * 31 + N);
    const a = rng.array(M * K), b = rng.array(K * N);
    await expectProduct(() => matmulRaw(vq.tensor(a, [M, K]), vq.tensor(b, [K, N]), 1, 'subgroup'), refMatmul(a, b, 1, M, K, N), `${M}×${K}×${N}`, K);
  });

  it('both CPUs\' row blocks from 128 rows (12 on Intel, 8 elsewhere), whichever CPU runs the test', async () => {
    if (!hasSubgroups()) return;
    const report = vq.runtime().report, cpu = report.cpu;
    try {
      for (const name of ['Intel(R) Xeon(R)', 'AMD EPYC']) {
        report.cpu = name;
        for (const [M, K, N] of [[157, 40, 70], [128, 17, 36], [300, 9, 64]]) {
          const rng = new Rng(M + 3 * K + N);
          const a = rng.array(M * K), b = rng.array(K * N);
          await expectProduct(() => matmulRaw(vq.tensor(a, [M, K]), vq.tensor(b, [K, N]), 1, 'subgroup'), refMatmul(a, b, 1, M, K, N), `${name} ${M}×${K}×${N}`, K);
        }
      }
    } finally {
      report.cpu = cpu;
    }
  });

  it.each([
    [true, false],
    [false, true],
    [true, true],
  ])('transposed views (a: %s, b: %s) at 37×53×29 and 40×19×64', async (ta, tb) => {
    if (!hasSubgroups()) return;
    for (const [M, K, N] of [
      [37, 53, 29],
      [40, 19, 64],
    ]) {
      const rng = new Rng(M + K + N);
      const a = rng.array(M * K), b = rng.array(K * N);
      const product = () => {
        const A = ta ? vq.transpose(vq.tensor(hostT(a, M, K), [K, M])) : vq.tensor(a, [M, K]);
        const B = tb ? vq.transpose(vq.tensor(hostT(b, K, N), [N, K])) : vq.tensor(b, [K, N]);
        return matmulRaw(A, B, 1, 'subgroup');
      };
      await expectProduct(product, refMatmul(a, b, 1, M, K, N), `transposed ${ta}/${tb} ${M}×${K}×${N}`, K);
    }
  });

  it('a column-strided B of any width (q·kᵀ of 65 keys) from its dense copy, rows padded to a multiple of 4, batched and broadcast', async () => {
    if (!hasSubgroups()) return;
    // From 64 rows a transposed B is copied dense first; widths that are not a multiple of 4 pad
    // its rows (65 keys: a bidirectional prior's scores), the padding feeding only unstored columns.
    for (const [Z, M, K, N] of [[3, 65, 32, 65], [2, 70, 9, 3], [1, 128, 17, 29], [2, 64, 8, 66]]) {
      const rng = new Rng(Z * 1000 + M + K + N);
      const a = rng.array(Z * M * K), b = rng.array(Z * K * N);
      const bt = new Float32Array(b.length); // B stored as [Z, N, K]
      for (let z = 0; z < Z; z++) bt.set(hostT(b.subarray(z * K * N, (z + 1) * K * N), K, N), z * K * N);
      const want = refMatmul(a, b, Z, M, K, N).map((v) => 0.5 * v);
      await expectProduct(() => matmulRaw(vq.tensor(a, [Z, M, K]), vq.transpose(vq.tensor(bt, [Z, N, K]), 1, 2), 0.5, 'subgroup'), want, `Bᵀ ${Z}×${M}×${K}×${N}`, K);
      // one B for every item of the batch (broadcast)
      const b0 = b.subarray(0, K * N);
      const want0 = new Float32Array(Z * M * N);
      for (let z = 0; z < Z; z++) want0.set(refMatmul(a.subarray(z * M * K, (z + 1) * M * K), b0, 1, M, K, N), z * M * N);
      await expectProduct(() => matmulRaw(vq.tensor(a, [Z, M, K]), vq.transpose(vq.tensor(bt.subarray(0, K * N), [N, K])), 1, 'subgroup'), want0, `broadcast Bᵀ ${M}×${K}×${N}`, K);
    }
  });

  it('a B whose rows are 4-aligned but whose width is not: vec4 loads only where the last row\'s padding lies in its storage', async () => {
    if (!hasSubgroups()) return;
    const [M, K, W] = [21, 13, 68];
    const rng = new Rng(68);
    const a = rng.array(M * K), wide = rng.array(K * W);
    // Columns 4..4+N of a [K, 68] matrix: its storage holds every padded row (vec4 loads); a window
    // of the view's own span (binding-window.ts, operands over a binding) ends at the last row's N.
    for (const N of [61, 62, 63]) {
      const b = new Float32Array(K * N);
      for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) b[k * N + j] = wide[k * W + 4 + j];
      const view = () => vq.slice(vq.tensor(wide, [K, W]), 1, 4, 4 + N);
      await expectProduct(() => matmulRaw(vq.tensor(a, [M, K]), view(), 1, 'subgroup'), refMatmul(a, b, 1, M, K, N), `columns 4..${4 + N} of ${W}`, K);
      await expectProduct(() => matmulRaw(vq.tensor(a, [M, K]), windowed(view()), 1, 'subgroup'), refMatmul(a, b, 1, M, K, N), `a window of columns 4..${4 + N}`, K);
    }
  });

  it('batched, alpha, and a B whose offset is not a multiple of 4 (the scalar B path)', async () => {
    if (!hasSubgroups()) return;
    const rng = new Rng(17);
    const [Z, M, K, N] = [3, 21, 19, 40];
    const a = rng.array(Z * M * K), b = rng.array(Z * K * N);
    const want = refMatmul(a, b, Z, M, K, N).map((v) => 0.5 * v);
    await expectProduct(() => matmulRaw(vq.tensor(a, [Z, M, K]), vq.tensor(b, [Z, K, N]), 0.5, 'subgroup'), want, 'batched', K);
    // B as a view at offset 1 of a longer buffer: same values, misaligned for vec4 loads.
    const padded = new Float32Array(b.length + 1);
    padded.set(b, 1);
    const B = () => vq.reshape(vq.slice(vq.tensor(padded, [padded.length]), 0, 1, padded.length), [Z, K, N]);
    await expectProduct(() => matmulRaw(vq.tensor(a, [Z, M, K]), B(), 0.5, 'subgroup'), want, 'batched, offset B', K);
  });

  it('sums in the register kernel\'s order: bitwise equal to it (Node and a browser without subgroups agree)', async () => {
    if (!hasSubgroups()) return;
    const rng = new Rng(23);
    for (const [M, K, N] of [
      [33, 77, 40],
      [16, 9, 35],
    ]) {
      const a = rng.array(M * K), b = rng.array(K * N);
      const run = (v: 'register' | 'subgroup') => product(a, b, [M, K, N], 1.5, v);
      expect(await run('subgroup')).toEqual(await run('register'));
    }
  });

  it('is what auto takes on this CPU adapter, and gives the same product as the register kernel', async () => {
    if (!hasSubgroups() || !vq.runtime().isCpu) return;
    const rng = new Rng(5);
    const [M, K, N] = [40, 24, 36];
    const a = rng.array(M * K), b = rng.array(K * N);
    const run = (v: 'auto' | 'subgroup') => product(a, b, [M, K, N], 1, v);
    // Same kernel, same summation order: bitwise equal.
    expect(await run('auto')).toEqual(await run('subgroup'));
  });
});

describe('matmul subgroup kernel: the bias epilogue (linear layers)', () => {
  // [M, K, N]: edge rows and columns of the tiles, a K tail, N not a multiple of 4 (the scalar B path)
  const shapes: [number, number, number][] = [
    [17, 9, 33],
    [31, 64, 36],
    [97, 131, 61],
    [64, 128, 96],
  ];

  it.each(shapes)('C = alpha·A·B + bias at %i×%i×%i, the bias a view at an offset', async (M, K, N) => {
    if (!hasSubgroups()) return;
    const rng = new Rng(M + 3 * K + 7 * N);
    const a = rng.array(M * K), b = rng.array(K * N), bias = rng.array(N + 5);
    const want = refMatmul(a, b, 1, M, K, N).map((v, i) => 0.5 * v + bias[5 + (i % N)]);
    await expectProduct(() => matmulRaw(vq.tensor(a, [M, K]), vq.tensor(b, [K, N]), 0.5, 'subgroup', undefined,
      vq.slice(vq.tensor(bias, [N + 5]), 0, 5, N + 5)), want, `${M}×${K}×${N} + bias`, K);
  });

  it('gives what the product and a separate add give, bitwise, for every kernel', async () => {
    const rng = new Rng(5);
    const [M, K, N] = [40, 48, 64];
    const a = vq.tensor(rng.array(M * K), [M, K]), b = vq.tensor(rng.array(K * N), [K, N]), bias = vq.tensor(rng.array(N), [N]);
    for (const variant of hasSubgroups() ? (['subgroup', 'register', 'auto'] as const) : (['register', 'auto'] as const)) {
      const fused = vq.tidy(() => matmulRaw(a, b, 1, variant, undefined, bias));
      const apart = vq.tidy(() => vq.add(matmulRaw(a, b, 1, variant), bias));
      expect(Array.from(await fused.toArray()), variant).toEqual(Array.from(await apart.toArray()));
      fused.dispose();
      apart.dispose();
    }
    expect(() => matmulRaw(a, b, 1, 'auto', undefined, vq.tensor(rng.array(N - 1), [N - 1]))).toThrow(/bias must be f32 of shape \[64\]/);
    for (const t of [a, b, bias]) t.dispose();
  });

  it('linear(x, w, b): gradients of x, w and b by finite differences (a shape the fused path takes, and a vector input)', async () => {
    const rng = new Rng(9);
    await gradcheck((x, w, b) => vq.linear(x, w, b), [
      { data: rng.array(2 * 9 * 12), shape: [2, 9, 12] },
      { data: rng.array(12 * 40), shape: [12, 40] },
      { data: rng.array(40), shape: [40] },
    ], { maxChecks: 8 });
    // A vector input: [K] → [N], its gradient shaped as it.
    await gradcheck((x, w, b) => vq.linear(x, w, b), [
      { data: rng.array(12), shape: [12] },
      { data: rng.array(12 * 20), shape: [12, 20] },
      { data: rng.array(20), shape: [20] },
    ], { maxChecks: 6 });
    expect(() => vq.linear(vq.tensor(rng.array(6), [2, 3]), vq.tensor(rng.array(8), [4, 2]))).toThrow(/must be \[\.\.\., K\] and \[K, N\]/);
  });
});

describe('matmul subgroup kernel: the GELU epilogue (a linear layer and its activation, sampling)', () => {
  it('linear(x, w, b, act gelu) without a gradient gives gelu(linear(x, w, b)) bitwise, for every kernel and shape', async () => {
    const rng = new Rng(21);
    // [R, K, N]: tile edges, a K tail, N not a multiple of 4; the last a transformer MLP's shape
    for (const [R, K, N] of [[17, 9, 33], [40, 48, 64], [130, 32, 128]]) {
      // values to ±8: GELU's tails (tanh's clamp) and its curved middle both
      const x = vq.tensor(rng.array(R * K, 2), [R, K]), w = vq.tensor(rng.array(K * N, 2), [K, N]), b = vq.tensor(rng.array(N), [N]);
      for (const variant of hasSubgroups() ? (['subgroup', 'register', 'auto'] as const) : (['register', 'auto'] as const)) {
        const fused = vq.noGrad(() => vq.linear(x, w, b, variant, 'gelu'));
        const apart = vq.noGrad(() => vq.gelu(vq.linear(x, w, b, variant)));
        expect(Array.from(await fused.toArray()), `${variant} ${R}×${K}×${N}`).toEqual(Array.from(await apart.toArray()));
        fused.dispose();
        apart.dispose();
      }
      for (const t of [x, w, b]) t.dispose();
    }
  });

  it('with a gradient to take, the activation is a pass of its own: gradients by finite differences', async () => {
    const rng = new Rng(23);
    await gradcheck((x, w, b) => vq.linear(x, w, b, 'auto', 'gelu'), [
      { data: rng.array(2 * 9 * 12), shape: [2, 9, 12] },
      { data: rng.array(12 * 40), shape: [12, 40] },
      { data: rng.array(40), shape: [40] },
    ], { maxChecks: 8 });
  });
});

describe('matmul subgroup kernel: triangular products (causal attention that stores its scores)', () => {
  // [batch, M, K, N, off]: rows past one workgroup (24), odd sizes, off 0 and > 0, K tails
  const cases: [number, number, number, number, number][] = [
    [1, 1, 8, 1, 0], [2, 37, 29, 37, 0], [1, 33, 12, 50, 17], [3, 70, 9, 70, 0], [1, 16, 64, 48, 32],
  ];
  /** Zeros where keep(i, k) is false: the operand a triangular product may assume. */
  const zeroed = (a: Float32Array, Z: number, M: number, K: number, keep: (i: number, k: number) => boolean) =>
    a.map((v, x) => (keep(Math.floor(x / K) % M, x % K) ? v : 0));

  it.each(cases)("'lower': C[i][j] for j ≤ i + off, nothing written past it (batch %i, %i×%i×%i, off %i)", async (Z, M, K, N, off) => {
    if (!hasSubgroups()) return;
    const rng = new Rng(M * 31 + N + off);
    const a = rng.array(Z * M * K), b = rng.array(Z * K * N);
    const past = (x: number) => x % N > (Math.floor(x / N) % M) + off;
    const want = refMatmul(a, b, Z, M, K, N).map((v, x) => (past(x) ? 7 : 0.5 * v)); // 7: not compared
    // B as a transposed view, as q·kᵀ reads it (and as a dense one: the vec4 path)
    const bt = new Float32Array(Z * K * N);
    for (let z = 0; z < Z; z++) bt.set(hostT(b.subarray(z * K * N, (z + 1) * K * N), K, N), z * K * N);
    for (const B of [() => vq.transpose(vq.tensor(bt, [Z, N, K]), 1, 2), () => vq.tensor(b, [Z, K, N])]) {
      const c = vq.tidy(() => matmulRaw(vq.tensor(a, [Z, M, K]), B(), 0.5, 'subgroup', { kind: 'lower', off }));
      const got = (await c.toArray()) as Float32Array;
      c.dispose();
      const masked = got.map((v, x) => (past(x) ? 7 : v));
      const i = firstMismatch(masked, want, 4e-5 * Math.sqrt(K), 1e-4);
      if (i >= 0) expect.fail(`lower: element ${i} is ${got[i]}, expected ${want[i]}`);
    }
  });

  it.each(cases)("'kUpTo' and 'kFrom': the sum over k cut at the diagonal, A read as 0 past it whatever it holds (batch %i, %i×%i×%i, off %i)", async (Z, M, _K, N, off) => {
    if (!hasSubgroups()) return;
    const rng = new Rng(M * 17 + N + off);
    // kUpTo: A [M, M + off] lower (P, dS); kFrom: A [M + off, M] = a lower one transposed (Pᵀ, dSᵀ).
    // The operands hold NaN past the diagonal (causal attention writes nothing there); the reference 0.
    const K = M + off;
    const live = (i: number, k: number) => k <= i + off;
    const lower = zeroed(rng.array(Z * M * K), Z, M, K, live), b = rng.array(Z * K * N);
    const dirty = lower.map((v, x) => (live(Math.floor(x / K) % M, x % K) ? v : Number.NaN));
    await expectProduct(() => matmulRaw(vq.tensor(dirty, [Z, M, K]), vq.tensor(b, [Z, K, N]), 1, 'subgroup', { kind: 'kUpTo', off }), refMatmul(lower, b, Z, M, K, N), 'kUpTo', K);
    const b2 = rng.array(Z * M * N);
    const upperT = () => vq.transpose(vq.tensor(dirty, [Z, M, K]), 1, 2); // [Z, K, M]: row j live from i = j − off
    const host = new Float32Array(Z * K * M);
    for (let z = 0; z < Z; z++) host.set(hostT(lower.subarray(z * M * K, (z + 1) * M * K), M, K), z * K * M);
    await expectProduct(() => matmulRaw(upperT(), vq.tensor(b2, [Z, M, N]), 1, 'subgroup', { kind: 'kFrom', off }), refMatmul(host, b2, Z, K, M, N), 'kFrom', M);
  });

  it('refuses a negative offset or a kernel other than the subgroup one', () => {
    vq.tidy(() => {
      expect(() => matmulRaw(vq.zeros([4, 4]), vq.zeros([4, 4]), 1, 'register', { kind: 'lower', off: 0 })).toThrow(/triangular product needs the subgroup kernel/);
      if (hasSubgroups()) expect(() => matmulRaw(vq.zeros([4, 4]), vq.zeros([4, 4]), 1, 'subgroup', { kind: 'kFrom', off: -1 })).toThrow(/offset ≥ 0/);
    });
  });
});

describe('matmul subgroup kernel (where the device has none)', () => {
  it("'auto' falls back to another kernel, and forcing 'subgroup' is one clear error", async () => {
    if (hasSubgroups()) return;
    const rng = new Rng(3);
    const [M, K, N] = [9, 10, 11];
    const a = rng.array(M * K), b = rng.array(K * N);
    await expectProduct(() => matmulRaw(vq.tensor(a, [M, K]), vq.tensor(b, [K, N])), refMatmul(a, b, 1, M, K, N), 'auto fallback', K);
    vq.tidy(() => {
      expect(() => matmulRaw(vq.zeros([2, 3]), vq.zeros([3, 4]), 1, 'subgroup')).toThrow(/'subgroup' variant needs a device with the 'subgroups' feature/);
    });
  });
});

describe('matmul kernel choice on CPU adapters (fake adapter descriptions)', () => {
  const dev = (subgroups: MatmulDevice['subgroups']): MatmulDevice => ({ isCpu: true, subgroups });
  const lvp = dev({ minSize: 8, maxSize: 8 }); // lavapipe (AVX2 lanes)
  it('takes the subgroup kernel where the device has subgroups of 4 to 32 lanes', () => {
    expect(subgroupLanes(lvp)).toBe(8);
    expect(subgroupLanes(dev({ minSize: 16, maxSize: 16 }))).toBe(16);
    expect(subgroupLanes(dev({ minSize: 4, maxSize: 64 }))).toBe(4); // the smallest size: S lanes lie within one subgroup
    expect(cpuVariant(lvp, 1024, 1024)).toBe('subgroup');
    expect(cpuVariant(lvp, 2048, 128)).toBe('subgroup');
    expect(cpuVariant(lvp, 64, 4096)).toBe('subgroup'); // large B: parity measured, no exception
  });
  it('takes 8 rows per subgroup for thin products (a sampler\'s batch), SUBGROUP_ROWS by CPU from 128 rows', () => {
    const xeon = { ...lvp, cpu: 'Intel(R) Xeon(R) Platinum 8488C' }, epyc = { ...lvp, cpu: 'AMD EPYC 9R14 96-Core Processor' };
    for (const d of [lvp, xeon, epyc]) {
      expect(subgroupRows(8, d)).toBe(8);
      expect(subgroupRows(127, d)).toBe(8);
    }
    expect(subgroupRows(128, xeon)).toBe(SUBGROUP_ROWS.intel);
    expect(subgroupRows(128, epyc)).toBe(SUBGROUP_ROWS.other);
    expect(subgroupRows(4096, lvp)).toBe(SUBGROUP_ROWS.other); // CPU unknown (a browser)
    expect(cpuVariant(lvp, 9, 384)).toBe('subgroup'); // 9 rows: one block of 8 and a partial one
  });
  it('stacks subgroups in a workgroup only where every subgroup has the same size', () => {
    expect(subgroupsPerWorkgroup(lvp)).toBe(2);
    expect(subgroupsPerWorkgroup(dev({ minSize: 4, maxSize: 64 }))).toBe(1);
  });
  it('falls back to the register kernel without subgroups, with sizes the kernel is not built for, on thin products and beyond the grid limit', () => {
    expect(subgroupLanes(dev(null))).toBeNull(); // Chromium's compat adapter
    expect(cpuVariant(dev(null), 1024, 1024)).toBe('register');
    expect(cpuVariant(dev({ minSize: 1, maxSize: 1 }), 1024, 1024)).toBe('register');
    expect(cpuVariant(dev({ minSize: 64, maxSize: 64 }), 1024, 1024)).toBe('register');
    expect(cpuVariant(dev({ minSize: 12, maxSize: 12 }), 1024, 1024)).toBe('register');
    expect(cpuVariant(lvp, 4, 1024)).toBe('register'); // fewer rows than a subgroup's block
    expect(cpuVariant(lvp, 1024, 8)).toBe('register'); // columns for a quarter of the lanes
    expect(cpuVariant(lvp, 1024, 16)).toBe('subgroup');
    expect(cpuVariant(lvp, 2 * SUBGROUP_ROWS.other * 70000, 64)).toBe('register'); // 70000 workgroups of two row blocks
    expect(cpuVariant(lvp, 2 * SUBGROUP_ROWS.other * 30000, 64)).toBe('subgroup');
  });
});
