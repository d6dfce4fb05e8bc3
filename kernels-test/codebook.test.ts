// nearestCode / codeStats / gatherRows (src/ops/codebook.ts) against the float64 references in
// reference-codebook.ts, for every search schedule (forced), on awkward shapes.
import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import type { CodebookSchedule } from '../src/ops/codebook.js';
import { matmulBTexture, textureLanesOk } from '../src/ops/matmul-b-texture.js';
import { firstMismatch, Rng } from './reference.js';
import * as ref from './reference-codebook.js';

const SCHEDULES: CodebookSchedule[] = ['registers', 'tiled', 'subgroup'];
/** 'subgroup' runs where the device has subgroups (Dawn on lavapipe; not Chromium's compat adapter). */
const runs = (s: CodebookSchedule) => s !== 'subgroup' || !!vq.runtime().report.subgroups;

interface Found {
  index: Int32Array;
  dist: Float32Array;
  counts?: Float32Array;
  sums?: Float32Array;
}

async function search(z: Float32Array, E: Float32Array, N: number, K: number, D: number, schedule: CodebookSchedule, stats = false): Promise<Found> {
  const r = vq.tidy(() => {
    const out = vq.nearestCode(vq.tensor(z, [N, D]), vq.tensor(E, [K, D]), { schedule, stats });
    for (const t of Object.values(out)) t.keepAlive();
    return out;
  });
  const found: Found = { index: (await r.index.toArray()) as Int32Array, dist: (await r.dist.toArray()) as Float32Array };
  if (r.counts) found.counts = (await r.counts.toArray()) as Float32Array;
  if (r.sums) found.sums = (await r.sums.toArray()) as Float32Array;
  for (const t of Object.values(r)) t.dispose();
  return found;
}

function sqNorm(x: Float32Array, row: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += x[row * D + d] ** 2;
  return s;
}

/**
 * The chosen code's true distance is the true minimum up to f32 rounding of the search scores
 * (which scale with ‖z‖² + ‖e‖²); the reported distance is Σ(z − e)² of the chosen code.
 */
function expectNearest(found: Found, z: Float32Array, E: Float32Array, N: number, K: number, D: number): void {
  const want = ref.nearestCode(z, E, N, K, D);
  for (let n = 0; n < N; n++) {
    const k = found.index[n];
    expect(k >= 0 && k < K, `vector ${n}: index ${k} out of range`).toBe(true);
    const d = ref.sqDist(z, n, E, k, D);
    const tol = 1e-5 * (sqNorm(z, n, D) + sqNorm(E, k, D) + 1);
    if (d > want.dist[n] + tol) {
      expect.fail(`vector ${n}: chose code ${k} at ${d}, but code ${want.index[n]} is at ${want.dist[n]}`);
    }
    if (!(Math.abs(found.dist[n] - d) <= 1e-5 * (d + 1))) expect.fail(`vector ${n}: reported distance ${found.dist[n]}, true ${d}`);
  }
}

/** K well-separated codes (integer lattice ×4) and vectors near random codes: one right answer. */
function clustered(rng: Rng, N: number, K: number, D: number): { z: Float32Array; E: Float32Array; truth: Int32Array } {
  const E = Float32Array.from({ length: K * D }, () => 4 * (rng.int(9) - 4));
  // Distinct codes: make the first coordinate unique per code (spacing 4).
  for (let k = 0; k < K; k++) E[k * D] = 4 * k;
  const truth = Int32Array.from({ length: N }, () => rng.int(K));
  const z = new Float32Array(N * D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) z[n * D + d] = E[truth[n] * D + d] + 0.5 * (rng.uniform() - 0.5) / Math.sqrt(D);
  return { z, E, truth };
}

beforeAll(async () => {
  await vq.init();
});

describe('nearestCode', () => {
  const shapes: [number, number, number][] = [
    [1001, 1, 3], [1001, 7, 1], [1001, 513, 3], [1001, 513, 64], [33, 7, 256], [257, 2048, 256], [1, 5, 17],
  ];
  for (const schedule of SCHEDULES) {
    for (const [N, K, D] of shapes) {
      it(`${schedule}: random N=${N} K=${K} D=${D} matches brute force`, async () => {
        if (!runs(schedule)) return;
        const rng = new Rng(N * 31 + K * 7 + D);
        const z = rng.array(N * D), E = rng.array(K * D);
        expectNearest(await search(z, E, N, K, D, schedule), z, E, N, K, D);
      });
    }

    it(`${schedule}: exact indices on well-separated data (N=1001 K=513 D=5, N=99 K=70 D=64)`, async () => {
      if (!runs(schedule)) return;
      const rng = new Rng(3);
      for (const [N, K, D] of [[1001, 513, 5], [99, 70, 64]]) {
        const { z, E, truth } = clustered(rng, N, K, D);
        const found = await search(z, E, N, K, D, schedule);
        expect(Array.from(found.index)).toEqual(Array.from(truth));
        expect(Array.from(found.index)).toEqual(Array.from(ref.nearestCode(z, E, N, K, D).index));
      }
    });

    it(`${schedule}: exact ties go to the lowest index`, async () => {
      if (!runs(schedule)) return;
      // Duplicate codes far apart in the codebook (different register blocks and tiles), and
      // vectors equidistant from four distinct codes; small integers keep every score exact.
      const K = 1100, D = 2;
      const rng = new Rng(5);
      const E = new Float32Array(K * D);
      for (let k = 0; k < K; k++) { E[2 * k] = 100 + k; E[2 * k + 1] = -100 - k; }
      const dup: [number, number][] = [[3, 40], [40, 1000], [70, 71], [9, 1099]]; // E[b] := E[a]
      for (const [a, b] of dup) { E[2 * b] = E[2 * a]; E[2 * b + 1] = E[2 * a + 1]; }
      const star = [[0, 1], [2, 1], [1, 0], [1, 2]]; // around (1, 1) at distance 1
      const starAt = [600, 5, 1050, 33];
      starAt.forEach((k, i) => { E[2 * k] = star[i][0]; E[2 * k + 1] = star[i][1]; });
      const targets = [3, 70, 9, 5];
      const N = 301;
      const z = new Float32Array(N * D);
      const want = new Int32Array(N);
      for (let n = 0; n < N; n++) {
        const t = rng.int(targets.length + 1);
        if (t === targets.length) { z[2 * n] = 1; z[2 * n + 1] = 1; want[n] = 5; }
        else { z[2 * n] = E[2 * targets[t]]; z[2 * n + 1] = E[2 * targets[t] + 1]; want[n] = targets[t]; }
      }
      const found = await search(z, E, N, K, D, schedule);
      expect(Array.from(found.index)).toEqual(Array.from(want));
      expect(Array.from(ref.nearestCode(z, E, N, K, D).index)).toEqual(Array.from(want));
    });

    it(`${schedule}: K=16384 with few vectors`, async () => {
      if (!runs(schedule)) return;
      const N = 37, K = 16384, D = 8;
      const rng = new Rng(11);
      const z = rng.array(N * D), E = rng.array(K * D);
      expectNearest(await search(z, E, N, K, D, schedule), z, E, N, K, D);
    });
  }

  // D = 141: past the 16 slabs of 8 dimensions that the subgroup search keeps in private memory on
  // lavapipe (the rest loaded per block), and a remainder of 5 past the last slab.
  it.each([40, 141])('the schedules agree bit for bit (the subgroup one with the codebook from a buffer, a storage and a sampled texture), and repeated runs are bit-identical (with stats), D = %i', async (D) => {
    const N = 777, K = 300;
    const rng = new Rng(13);
    const z = rng.array(N * D), E = rng.array(K * D);
    const a = await search(z, E, N, K, D, 'registers', true);
    const others = [await search(z, E, N, K, D, 'registers', true)];
    for (const s of SCHEDULES.filter((s) => s !== 'registers' && runs(s))) others.push(await search(z, E, N, K, D, s, true));
    if (runs('subgroup')) {
      // the subgroup search with the codebook read from its buffer and through a texture (16 vectors a
      // subgroup), a read-only storage texture where the device has them and a sampled one
      const paths = [['buffer', 'auto'], ['texture', 'auto'], ['texture', 'sampled']] as const;
      for (const [mode, fetch] of textureLanesOk() ? paths : paths.slice(0, 1)) {
        matmulBTexture.mode = mode;
        matmulBTexture.fetch = fetch;
        try {
          others.push(await search(z, E, N, K, D, 'subgroup', true));
        } finally {
          matmulBTexture.mode = 'auto';
          matmulBTexture.fetch = 'auto';
        }
      }
    }
    for (const other of others) {
      expect(other.index).toEqual(a.index);
      expect(new Uint32Array(other.dist.buffer)).toEqual(new Uint32Array(a.dist.buffer));
      expect(new Uint32Array(other.counts!.buffer)).toEqual(new Uint32Array(a.counts!.buffer));
      expect(new Uint32Array(other.sums!.buffer)).toEqual(new Uint32Array(a.sums!.buffer));
    }
  });

  it("'subgroup' forced without subgroups is one clear error; with NaNs in a vector its index is 0, as the register kernel's", async () => {
    const rng = new Rng(29);
    const N = 30, K = 40, D = 9;
    const z = rng.array(N * D), E = rng.array(K * D);
    z.fill(Number.NaN, 5 * D, 6 * D); // vector 5
    if (!runs('subgroup')) {
      expect(() => vq.tidy(() => vq.nearestCode(vq.tensor(z, [N, D]), vq.tensor(E, [K, D]), { schedule: 'subgroup' }))).toThrow(/has no subgroups/);
      return;
    }
    const a = await search(z, E, N, K, D, 'registers'), b = await search(z, E, N, K, D, 'subgroup');
    expect(b.index[5]).toBe(0);
    expect(Array.from(b.index)).toEqual(Array.from(a.index));
  });

  it('takes z of any rank [..., D]; outputs have its leading shape and no gradient', async () => {
    const rng = new Rng(17);
    const z = vq.tensor(rng.array(2 * 3 * 5 * 4), [2, 3, 5, 4]);
    const E = vq.tensor(rng.array(6 * 4), [6, 4]);
    E.requiresGrad = true;
    const r = vq.nearestCode(z, E);
    expect(r.index.shape).toEqual([2, 3, 5]);
    expect(r.index.dtype).toBe('i32');
    expect(r.dist.shape).toEqual([2, 3, 5]);
    expect(() => vq.backward(vq.sum(r.dist))).toThrow(/no gradient/);
    expect(() => vq.tidy(() => vq.nearestCode(z, vq.tensor(rng.array(12), [4, 3])))).toThrow(/\[\.\.\., 3\]/);
    expect(() => vq.tidy(() => vq.nearestCode(z, vq.tensor(rng.array(4), [4])))).toThrow(/\[K, D\]/);
    for (const t of [z, E, r.index, r.dist]) t.dispose();
  });
});

describe('codeStats', () => {
  it('counts and sums of the search match the reference on its own assignment', async () => {
    const N = 1001, K = 513, D = 7;
    const rng = new Rng(19);
    const z = rng.array(N * D), E = rng.array(K * D, 0.5);
    for (const schedule of SCHEDULES.filter(runs)) {
      const found = await search(z, E, N, K, D, schedule, true);
      const want = ref.codeStats(z, found.index, N, K, D);
      expect(Array.from(found.counts!)).toEqual(Array.from(want.counts));
      expect(firstMismatch(found.sums!, want.sums, 1e-4, 1e-5)).toBe(-1);
    }
  });

  it('handles a collapsed codebook (every row to one code) and ignores out-of-range indices', async () => {
    const N = 2049, K = 70, D = 3;
    const rng = new Rng(23);
    const x = rng.array(N * D);
    const index = new Int32Array(N).fill(69);
    index[5] = -1;
    index[6] = 70;
    index[7] = 0;
    const r = vq.codeStats(vq.tensor(x, [N, D]), vq.tensor(index, [N]), K);
    const counts = await r.counts.toArray(), sums = await r.sums.toArray();
    const keep = Array.from(index, (k) => (k >= 0 && k < K ? k : -1));
    const valid = keep.flatMap((k, n) => (k < 0 ? [] : [n]));
    const want = ref.codeStats(
      Float32Array.from(valid.flatMap((n) => Array.from(x.subarray(n * D, n * D + D)))),
      valid.map((n) => index[n]), valid.length, K, D,
    );
    expect(Array.from(counts)).toEqual(Array.from(want.counts));
    expect(counts[69]).toBe(N - 3);
    expect(firstMismatch(sums, want.sums, 1e-4, 1e-5)).toBe(-1);
    r.counts.dispose();
    r.sums.dispose();
  });
});

describe('gatherRows (the VQ layer\'s quantised vectors)', () => {
  it('gathers the chosen codes: their distance to z is the reported one; gradient to E by scatter-add', async () => {
    const N = 50, K = 9, D = 6;
    const rng = new Rng(29);
    const hz = rng.array(N * D), hE = rng.array(K * D), R = rng.array(N * D);
    const E = vq.tensor(hE, [K, D]);
    E.requiresGrad = true;
    const r = vq.tidy(() => {
      const z = vq.tensor(hz, [5, 10, D]);
      const { index, dist } = vq.nearestCode(z, E);
      const q = vq.gatherRows(E, index);
      vq.backward(vq.sum(vq.mul(q, vq.tensor(R, [5, 10, D]))));
      return { q: vq.detach(q), dist, check: vq.sum(vq.square(vq.sub(vq.detach(q), z)), -1) };
    });
    expect(r.q.shape).toEqual([5, 10, D]);
    const want = ref.nearestCode(hz, hE, N, K, D);
    expect(Array.from(await r.q.toArray())).toEqual(Array.from(ref.gatherRows(hE, want.index, D)));
    expect(firstMismatch(await r.check.toArray(), await r.dist.toArray(), 1e-5, 1e-5)).toBe(-1);
    const grad = ref.codeStats(R, want.index, N, K, D).sums;
    expect(firstMismatch(await E.grad!.toArray(), grad, 1e-5, 1e-5)).toBe(-1);
    expect(() => vq.tidy(() => vq.gatherRows(E, vq.tensor([1.5], [1])))).toThrow(/i32/);
    for (const t of [...Object.values(r), E, E.grad!]) t.dispose();
  });
});
