// matmul: every kernel ('register' = matmul.wgsl, 'subgroup' = matmul_subgroup.wgsl where the device
// has subgroups, with B from a buffer and from a texture (matmul-b-texture.ts), 'tiled' = matmul_tiled.wgsl in each of its three tiles, the vec4 tiles) against the float64 reference on awkward shapes, strided operands (transposed, sliced), broadcast batches, and
// gradients by finite differences.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { chooseTile, matmulRaw, type MatmulVariant } from '../src/ops/matmul.js';
import { matmulBTexture, textureLanesOk } from '../src/ops/matmul-b-texture.js';
import { gradcheck } from './gradcheck.js';
import { firstMismatch, matmul as refMatmul, Rng } from './reference.js';

// 'subgroup' where the device has subgroups (Dawn on lavapipe; not Chromium's compat adapter, where
// matmul_subgroup.test.ts checks the fallback instead).
await vq.init();
const VARIANTS: MatmulVariant[] = [
  'register',
  ...(vq.runtime().report.subgroups ? (['subgroup'] as const) : []),
  'tiled', 'tiled32', 'tiled64', 'tiled128', 'tiled64v4', 'tiled128v4',
];
/** Each kernel by name, and the subgroup kernel once more with B read from a texture at every size. */
const CASES: [string, MatmulVariant][] = [
  ...VARIANTS.map((v): [string, MatmulVariant] => [v, v]),
  ...(vq.runtime().report.subgroups && textureLanesOk() ? [['subgroup, B from a texture', 'subgroup'] as [string, MatmulVariant]] : []),
];

/** A host matrix batch: data is dense [batch, rows, cols]. */
interface HostMats {
  data: Float32Array;
  batch: number;
  rows: number;
  cols: number;
}

function randMats(rng: Rng, batch: number, rows: number, cols: number): HostMats {
  return { data: rng.array(batch * rows * cols), batch, rows, cols };
}

/** Transposes every matrix of the batch (host). */
function hostT(m: HostMats): HostMats {
  const out = new Float32Array(m.data.length);
  for (let z = 0; z < m.batch; z++)
    for (let i = 0; i < m.rows; i++)
      for (let j = 0; j < m.cols; j++) out[z * m.rows * m.cols + j * m.rows + i] = m.data[z * m.rows * m.cols + i * m.cols + j];
  return { data: out, batch: m.batch, rows: m.cols, cols: m.rows };
}

/** Repeats a single matrix `batch` times (host broadcasting). */
function hostRepeat(m: HostMats, batch: number): HostMats {
  const out = new Float32Array(batch * m.data.length);
  for (let z = 0; z < batch; z++) out.set(m.data, z * m.data.length);
  return { data: out, batch, rows: m.rows, cols: m.cols };
}

/** Reference product of dense host batches (same batch count). */
function ref(a: HostMats, b: HostMats): Float32Array {
  return refMatmul(a.data, b.data, a.batch, a.rows, a.cols, b.cols);
}

/** Runs `f` in a tidy scope and compares its result with `want` (tolerance for a K-term f32 sum). */
async function expectClose(f: () => vq.Tensor, shape: number[], want: Float32Array, label: string, K: number): Promise<void> {
  const t = vq.tidy(f);
  const got = await t.toArray();
  t.dispose();
  expect(t.shape, `${label}: shape`).toEqual(shape);
  // f32 accumulation of K products of N(0,1) values: error grows like √K.
  const atol = 1e-5 * Math.max(1, Math.sqrt(K)) * 4;
  const i = firstMismatch(got, want, atol, 1e-4);
  if (i >= 0) expect.fail(`${label}: element ${i} is ${got[i]}, expected ${want[i]}`);
}

beforeAll(async () => {
  await vq.init();
});

describe.each(CASES)('matmul (%s kernel)', (label, variant) => {
  if (label.includes('texture')) {
    beforeAll(() => void (matmulBTexture.mode = 'texture'));
    afterAll(() => void (matmulBTexture.mode = 'auto'));
  }
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 37, 1],
    [1, 5, 9], // a row vector
    [9, 5, 1], // a column result
    [37, 53, 29], // odd, not multiples of any tile
    [70, 19, 66], // just over one 64×64 tile
    [5, 1000, 7], // long K
    [3, 17, 130], // wide, two tiles and a remainder
    [131, 21, 140], // just over one 128×128 tile
  ];

  it.each(shapes)('dense %i×%i×%i', async (M, K, N) => {
    const rng = new Rng(M * 1000 + K * 10 + N);
    const a = randMats(rng, 1, M, K), b = randMats(rng, 1, K, N);
    await expectClose(() => matmulRaw(vq.tensor(a.data, [M, K]), vq.tensor(b.data, [K, N]), 1, variant), [M, N], ref(a, b), `${M}×${K}×${N}`, K);
  });

  it('alpha scales the product', async () => {
    const rng = new Rng(3);
    const a = randMats(rng, 1, 6, 7), b = randMats(rng, 1, 7, 5);
    const want = ref(a, b).map((v) => -2 * v);
    await expectClose(() => matmulRaw(vq.tensor(a.data, [6, 7]), vq.tensor(b.data, [7, 5]), -2, variant), [6, 5], want, 'alpha', 7);
  });

  it.each([
    [true, false],
    [false, true],
    [true, true],
  ])('transposed views (a: %s, b: %s), 37×53×29 and 70×19×66', async (ta, tb) => {
    for (const [M, K, N] of [
      [37, 53, 29],
      [70, 19, 66],
    ]) {
      const rng = new Rng(M + K + N);
      const a = randMats(rng, 1, M, K), b = randMats(rng, 1, K, N);
      const product = () => {
        // Store the transpose and view it back: same logical values, swapped strides.
        const A = ta ? vq.transpose(vq.tensor(hostT(a).data, [K, M])) : vq.tensor(a.data, [M, K]);
        const B = tb ? vq.transpose(vq.tensor(hostT(b).data, [N, K])) : vq.tensor(b.data, [K, N]);
        expect(A.isContiguous && B.isContiguous).toBe(false);
        return matmulRaw(A, B, 1, variant);
      };
      await expectClose(product, [M, N], ref(a, b), `transposed ${ta}/${tb} ${M}×${K}×${N}`, K);
    }
  });

  it('non-contiguous sliced operands (offsets, row strides wider than the row)', async () => {
    const rng = new Rng(11);
    const [M, K, N] = [13, 21, 10];
    const wideA = randMats(rng, 1, M + 3, K + 5); // take rows 2..2+M, columns 4..4+K
    const wideB = randMats(rng, 1, K, N + 7); // take columns 3..3+N
    const a = new Float32Array(M * K), b = new Float32Array(K * N);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) a[i * K + k] = wideA.data[(i + 2) * (K + 5) + k + 4];
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) b[k * N + j] = wideB.data[k * (N + 7) + j + 3];
    const product = () => {
      const A = vq.slice(vq.slice(vq.tensor(wideA.data, [M + 3, K + 5]), 0, 2, 2 + M), 1, 4, 4 + K);
      const B = vq.slice(vq.tensor(wideB.data, [K, N + 7]), 1, 3, 3 + N);
      expect(A.offset).toBeGreaterThan(0);
      return matmulRaw(A, B, 1, variant);
    };
    await expectClose(product, [M, N], refMatmul(a, b, 1, M, K, N), 'sliced', K);
  });

  it('batched 3-D, with a broadcast 2-D operand and a broadcast [1, M, K] batch', async () => {
    const rng = new Rng(5);
    const [Z, M, K, N] = [3, 9, 11, 67];
    const a3 = randMats(rng, Z, M, K), b3 = randMats(rng, Z, K, N);
    const a1 = randMats(rng, 1, M, K), b2 = randMats(rng, 1, K, N);
    const A3 = () => vq.tensor(a3.data, [Z, M, K]), B3 = () => vq.tensor(b3.data, [Z, K, N]);
    await expectClose(() => matmulRaw(A3(), B3(), 1, variant), [Z, M, N], ref(a3, b3), '[Z,M,K]·[Z,K,N]', K);
    const B2 = () => vq.tensor(b2.data, [K, N]);
    await expectClose(() => matmulRaw(A3(), B2(), 1, variant), [Z, M, N], ref(a3, hostRepeat(b2, Z)), '[Z,M,K]·[K,N]', K);
    const A1 = () => vq.tensor(a1.data, [1, M, K]);
    await expectClose(() => matmulRaw(A1(), B3(), 1, variant), [Z, M, N], ref(hostRepeat(a1, Z), b3), '[1,M,K]·[Z,K,N]', K);
    // Batch of transposed views: [Z, K, M] stored, viewed as [Z, M, K].
    const At = () => vq.transpose(vq.tensor(hostT(a3).data, [Z, K, M]));
    await expectClose(() => matmulRaw(At(), B3(), 1, variant), [Z, M, N], ref(a3, b3), 'transposed batch', K);
  });

  it('4-D batches that broadcast in the middle ([2, 1] against [2, 3])', async () => {
    const rng = new Rng(9);
    const [M, K, N] = [4, 6, 5];
    const a = randMats(rng, 2, M, K), b = randMats(rng, 3, K, N);
    // Reference over the broadcast batch [2, 3]: a's matrix z/3, b's matrix z%3.
    const want = new Float32Array(6 * M * N);
    for (let z = 0; z < 6; z++) {
      const az = a.data.subarray(Math.floor(z / 3) * M * K, (Math.floor(z / 3) + 1) * M * K);
      const bz = b.data.subarray((z % 3) * K * N, ((z % 3) + 1) * K * N);
      want.set(refMatmul(az, bz, 1, M, K, N), z * M * N);
    }
    const product = () => matmulRaw(vq.tensor(a.data, [2, 1, M, K]), vq.tensor(b.data, [3, K, N]), 1, variant);
    await expectClose(product, [2, 3, M, N], want, '[2,1,M,K]·[3,K,N]', K);
  });

  it('heads of a [B, T, H, d] layout viewed as [B, H, T, d]: a batch of two strides, read where it lies', async () => {
    const rng = new Rng(13);
    const [Bn, T, H, d] = [2, 70, 3, 8];
    const q = rng.array(Bn * T * H * d), k = rng.array(Bn * T * H * d), pr = rng.array(Bn * H * T * T);
    // Head (b, h) of x [Bn, T, H, d] as a dense [T, d] matrix (host).
    const head = (x: Float32Array, b: number, h: number) => {
      const m = new Float32Array(T * d);
      for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) m[t * d + j] = x[((b * T + t) * H + h) * d + j];
      return { data: m, batch: 1, rows: T, cols: d };
    };
    const scores = new Float32Array(Bn * H * T * T), weighted = new Float32Array(Bn * H * T * d);
    for (let b = 0; b < Bn; b++) {
      for (let h = 0; h < H; h++) {
        const z = b * H + h;
        scores.set(ref(head(q, b, h), hostT(head(k, b, h))), z * T * T);
        weighted.set(refMatmul(pr.subarray(z * T * T, (z + 1) * T * T), head(k, b, h).data, 1, T, T, d), z * T * d);
      }
    }
    const Q = () => vq.permute(vq.tensor(q, [Bn, T, H, d]), [0, 2, 1, 3]);
    const Kt = () => vq.permute(vq.tensor(k, [Bn, T, H, d]), [0, 2, 3, 1]);   // kᵀ: columns strided
    const V = () => vq.permute(vq.tensor(k, [Bn, T, H, d]), [0, 2, 1, 3]);
    await expectClose(() => matmulRaw(Q(), Kt(), 1, variant), [Bn, H, T, T], scores, 'q·kᵀ over heads', d);
    await expectClose(() => matmulRaw(vq.tensor(pr, [Bn, H, T, T]), V(), 1, variant), [Bn, H, T, d], weighted, 'P·v over heads', T);
  });

  it('rejects mismatched inner dimensions with a clear error', () => {
    vq.tidy(() => {
      expect(() => matmulRaw(vq.zeros([2, 3]), vq.zeros([4, 5]), 1, variant)).toThrow(/inner dimensions differ/);
    });
  });

  it('gradients: plain, transposed operands, batched with a broadcast operand', async () => {
    const rng = new Rng(21);
    const m = (r: number, c: number, z = 1) => ({ data: rng.array(z * r * c), shape: z === 1 ? [r, c] : [z, r, c] });
    await gradcheck((a, b) => vq.matmul(a, b, variant), [m(3, 5), m(5, 4)]);
    await gradcheck((a, b) => vq.matmul(vq.transpose(a), vq.transpose(b), variant), [m(5, 3), m(4, 5)]);
    await gradcheck((a, b) => vq.matmul(a, b, variant), [m(3, 4, 2), m(4, 5)]);
    await gradcheck((a, b) => vq.matmul(a, b, variant), [{ data: rng.array(12), shape: [1, 3, 4] }, m(4, 2, 3)]);
    await gradcheck((a, b) => vq.matmul(a, b, variant), [m(3, 4, 2), { data: rng.array(8), shape: [1, 4, 2] }]);
  });
});

describe('matmul batches beyond the grid limit', () => {
  it('splits a batch larger than maxComputeWorkgroupsPerDimension into several dispatches', async () => {
    const maxZ = vq.runtime().limits.maxComputeWorkgroupsPerDimension;
    const Z = maxZ + 3;
    const a = Float32Array.from({ length: Z }, (_, i) => (i % 7) - 3);
    const b = Float32Array.from({ length: Z * 2 }, (_, i) => (i % 5) - 2);
    const want = new Float32Array(Z * 2);
    for (let z = 0; z < Z; z++) for (let j = 0; j < 2; j++) want[z * 2 + j] = a[z] * b[z * 2 + j];
    const product = () => matmulRaw(vq.tensor(a, [Z, 1, 1]), vq.tensor(b, [Z, 1, 2]), 1, 'register');
    await expectClose(product, [Z, 1, 2], want, `batch ${Z}`, 1);
  });
});

describe('matmul tile choice', () => {
  const all = () => true;
  it('takes the largest tile that still gives ~256 workgroups, else the smallest', () => {
    expect(chooseTile(4096, 4096, 1, all)).toBe('tiled128'); // 1024 tiles of 128²
    expect(chooseTile(1024, 1024, 1, all)).toBe('tiled64'); // 64 of 128², 256 of 64²
    expect(chooseTile(64, 4096, 1, all)).toBe('tiled32'); // skinny: 256 tiles of 32²
    expect(chooseTile(8, 8, 1, all)).toBe('tiled32'); // tiny: the smallest
    expect(chooseTile(1024, 1024, 4, all)).toBe('tiled128'); // a batch counts: 4·64 tiles of 128²
  });
  it('skips tiles the device cannot run (compat: 128 invocations)', () => {
    const compat = (t: { WGX: number; WGY: number }) => t.WGX * t.WGY <= 128;
    expect(chooseTile(4096, 4096, 1, compat)).toBe('tiled64');
    expect(chooseTile(4096, 4096, 1, () => false)).toBeNull();
  });
});
