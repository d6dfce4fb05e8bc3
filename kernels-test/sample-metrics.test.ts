// Sample-quality metrics on the host (src/eval): KID against the textbook formula computed naively
// here, improved precision/recall and the memorisation checks on point sets whose answers are
// known by hand.
import { describe, expect, it } from 'vitest';
import { kernelInceptionDistance, mmd2Unbiased } from '../src/eval/kid.js';
import { knnRadii2, precisionRecall } from '../src/eval/precision-recall.js';
import { copies, median, nearestDistances, nnRatio } from '../src/eval/memorisation.js';

/** Deterministic N(mean, 1) rows [n, d] (mulberry32 + Box–Muller, written out so the test does not share the code under test). */
function gaussianRows(n: number, d: number, seed: number, mean = 0): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n * d);
  for (let i = 0; i < out.length; i++) out[i] = mean + Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

function row(x: Float32Array, i: number, d: number): number[] {
  return Array.from(x.subarray(i * d, (i + 1) * d));
}

/** The textbook estimators, written naively: unbiased (U-statistic) or biased (V-statistic, diagonals kept). */
function naiveMmd2(x: Float32Array, n: number, y: Float32Array, m: number, d: number, opts: { biased?: boolean; scale?: number } = {}): number {
  const scale = opts.scale ?? 1 / d;
  const k = (a: number[], b: number[]) => Math.pow(a.reduce((s, v, c) => s + v * b[c], 0) * scale + 1, 3);
  let xx = 0, yy = 0, xy = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (opts.biased || i !== j) xx += k(row(x, i, d), row(x, j, d));
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) if (opts.biased || i !== j) yy += k(row(y, i, d), row(y, j, d));
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) xy += k(row(x, i, d), row(y, j, d));
  const px = opts.biased ? n * n : n * (n - 1), py = opts.biased ? m * m : m * (m - 1);
  return xx / px + yy / py - (2 * xy) / (n * m);
}

describe('KID', () => {
  const n = 20, m = 25, d = 5;
  const x = gaussianRows(n, d, 1), y = gaussianRows(m, d, 2, 0.3);
  const ref = naiveMmd2(x, n, y, m, d);

  it('equals the naive unbiased MMD² with the cubic kernel when one subset is the whole sets', () => {
    const tol = 1e-12 * Math.max(1, Math.abs(ref));
    expect(Math.abs(mmd2Unbiased(x, n, y, m, d) - ref)).toBeLessThan(tol);
    for (const maxCacheEntries of [undefined, 0]) {
      const r = kernelInceptionDistance(x, n, y, m, d, { subsetSize: m, subsets: 3, maxCacheEntries });
      expect(Math.abs(r.kid - ref)).toBeLessThan(tol);
      expect(r.kidStd).toBeLessThan(tol);
    }
    // The comparison is tight enough to catch the usual mistakes: the biased estimator, or the
    // kernel without its 1/d scale.
    expect(Math.abs(naiveMmd2(x, n, y, m, d, { biased: true }) - ref)).toBeGreaterThan(1e6 * tol);
    expect(Math.abs(naiveMmd2(x, n, y, m, d, { scale: 1 }) - ref)).toBeGreaterThan(1e6 * tol);
  });

  it('defaults to subsets of min(1000, n, m) rows', () => {
    // n = m = 30: every subset is a permutation of the whole sets.
    const a = gaussianRows(30, d, 3), b = gaussianRows(30, d, 4, 0.3);
    const r = kernelInceptionDistance(a, 30, b, 30, d);
    const full = naiveMmd2(a, 30, b, 30, d);
    expect(Math.abs(r.kid - full)).toBeLessThan(1e-12 * Math.max(1, Math.abs(full)));
    expect(r.kidStd).toBeLessThan(1e-12);
  });

  it('draws the same subsets with and without the kernel cache, and is seeded', () => {
    const a = gaussianRows(60, d, 5), b = gaussianRows(50, d, 6, 0.2);
    const opts = { subsetSize: 15, subsets: 20, seed: 7 };
    const cached = kernelInceptionDistance(a, 60, b, 50, d, opts);
    const direct = kernelInceptionDistance(a, 60, b, 50, d, { ...opts, maxCacheEntries: 0 });
    expect(Math.abs(cached.kid - direct.kid)).toBeLessThan(1e-12);
    expect(Math.abs(cached.kidStd - direct.kidStd)).toBeLessThan(1e-12);
    expect(cached.kidStd).toBeGreaterThan(0);
    expect(kernelInceptionDistance(a, 60, b, 50, d, opts)).toEqual(cached);
    expect(kernelInceptionDistance(a, 60, b, 50, d, { ...opts, seed: 8 }).kid).not.toBe(cached.kid);
  });

  it('is about 0 for two samples of one distribution and clearly positive for different ones', () => {
    const D = 8, N = 400;
    const a = gaussianRows(N, D, 11), b = gaussianRows(N, D, 12), c = gaussianRows(N, D, 13, 0.5);
    const opts = { subsetSize: 100, subsets: 50 };
    const same = kernelInceptionDistance(a, N, b, N, D, opts);
    const diff = kernelInceptionDistance(a, N, c, N, D, opts);
    // (here: same −0.004 ± 0.039, diff 1.19 ± 0.24)
    expect(Math.abs(same.kid)).toBeLessThan(same.kidStd);
    expect(diff.kid).toBeGreaterThan(20 * same.kidStd);
    expect(diff.kid).toBeGreaterThan(3 * diff.kidStd);
    expect(Math.abs(same.kid)).toBeLessThan(0.01 * diff.kid);
  });
});

/** Points [n, 2] from coordinate pairs. */
const pts = (...p: [number, number][]) => Float64Array.from(p.flat());
const square = (x: number, y: number, side = 1): [number, number][] => [[x, y], [x + side, y], [x, y + side], [x + side, y + side]];

describe('improved precision and recall', () => {
  it('radius is the distance to the k-th nearest other point', () => {
    // 0..7 on a line: ends have neighbours at 1, 2, 3; the rest have two at 1, then one at 2.
    const line = Float64Array.from({ length: 8 }, (_, i) => i);
    expect(Array.from(knnRadii2(line, 8, 1, 3))).toEqual([9, 4, 4, 4, 4, 4, 4, 9]);
    expect(Array.from(knnRadii2(line, 8, 1, 1))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    // a unit square: neighbours at 1, 1, √2
    expect(Array.from(knnRadii2(pts(...square(0, 0)), 4, 2, 3))).toEqual([2, 2, 2, 2]);
    expect(() => knnRadii2(pts(...square(0, 0)), 4, 2, 4)).toThrow();
  });

  it('counts generated points inside the real balls and real points inside the generated balls', () => {
    // Real: three unit squares far apart (every radius √2). Generated: a half-size square inside the
    // first (radii √0.5) and a unit square far from all real points.
    const real = pts(...square(0, 0), ...square(100, 0), ...square(200, 0));
    const fake = pts(...square(0.25, 0.25, 0.5), ...square(0, 50));
    const r = precisionRecall(real, 12, fake, 8, 2);
    // precision: the 4 inner points (0.354 from a corner) of 8; recall: the first square's corners
    // (0.354 from an inner point, radius 0.707) of 12.
    expect(r.precision).toBe(0.5);
    expect(r.recall).toBe(4 / 12);
  });

  it('uses the k-th neighbour radius itself, boundary included', () => {
    // Real: a unit square, radius² 2 (with the point itself counted as a neighbour it would be 1).
    const real = pts(...square(0, 0));
    // (-0.8, -0.8): 1.28 from (0,0), inside only with the right radius; (-1, -1): exactly on the
    // boundary; (-1.1, -1.1): 2.42 outside; (3, 3): 8 outside.
    const fake = pts([-0.8, -0.8], [-1, -1], [-1.1, -1.1], [3, 3]);
    expect(precisionRecall(real, 4, fake, 4, 2).precision).toBe(0.5);
    // Each generated point's third neighbour is far away ((3,3), or (-1.1,-1.1) for (3,3)): radius²
    // 28.88 around (-0.8,-0.8) reaches (1,1) at 6.48, so recall is 1 (the paper's outlier caveat).
    expect(Array.from(knnRadii2(fake, 4, 2, 3)).map((v) => +v.toFixed(9))).toEqual([28.88, 32, 33.62, 33.62]);
    expect(precisionRecall(real, 4, fake, 4, 2).recall).toBe(1);
  });
});

describe('memorisation', () => {
  it('copies: share of sampled grids equal to a training grid', () => {
    const train = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // exact copy, one token off, exact copy, the reverse of a training grid
    const samples = Int32Array.from([1, 2, 3, 4, 5, 7, 7, 8, 9, 3, 2, 1]);
    expect(copies(samples, 4, train, 3, 3)).toBe(0.5);
    // 1,23 and 12,3 are different grids
    expect(copies(Int32Array.from([1, 23]), 1, Int32Array.from([12, 3]), 1, 2)).toBe(0);
    expect(copies(new Int32Array(0), 0, train, 3, 3)).toBe(0);
  });

  it('nnRatio: median nearest-train distance of samples over that of held-out images', () => {
    const train = pts([0, 0], [10, 0], [20, 0]);
    const heldOut = pts([1, 0], [12, 0], [23, 0]); // nearest: 1, 2, 3 → median 2
    const samples = pts([0, 0], [10, 0.5], [20, 1], [5, 0]); // nearest: 0, 0.5, 1, 5 → median 0.75
    expect(Array.from(nearestDistances(samples, 4, train, 3, 2))).toEqual([0, 0.5, 1, 5]);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([5, 0, 1, 0.5])).toBe(0.75);
    expect(nnRatio(samples, 4, train, 3, heldOut, 3, 2)).toBe(0.375);
    // held-out images themselves score 1
    expect(nnRatio(heldOut, 3, train, 3, heldOut, 3, 2)).toBe(1);
  });
});
