// Kernel Inception Distance (Bińkowski et al. 2018), in the feature space of our own trained
// networks (no downloaded weights): the unbiased estimate of the squared maximum mean discrepancy
// between two feature sets under the cubic polynomial kernel
//   k(a, b) = (a·b / d + 1)³
//   MMD²_u = Σ_{i≠j} k(xᵢ,xⱼ) / (s(s−1)) + Σ_{i≠j} k(yᵢ,yⱼ) / (t(t−1)) − 2·Σ_{i,j} k(xᵢ,yⱼ) / (s·t)
// averaged over random subsets (x: s rows, y: t rows, drawn without replacement). Unlike FID it is
// unbiased, so it is comparable across sample counts and its expectation is 0 when both sets come
// from one distribution (a single estimate may then be slightly negative).
//
// Cost per subset is O((s + t)²·d). When the three kernel matrices of the whole sets fit in
// `maxCacheEntries` float64 values they are computed once (O((n + m)²·d)) and every subset only
// sums O((s + t)²) cached entries: the default 100 subsets of 1000 out of 1000 rows then cost about
// one subset.

// mulberry32 with no device code behind it, so this module also runs in a page without a GPU
import { NoiseRng } from '../models/prior/noise.js';

export interface KidOptions {
  /** rows per subset, clipped to each set's size; default min(1000, n, m) (when that is n = m every
   * subset is the whole sets and kidStd is 0) */
  subsetSize?: number;
  /** number of random subsets averaged; default 100 */
  subsets?: number;
  /** seed of the subset draw; default 0 */
  seed?: number;
  /** largest n² + m² + n·m for which the whole kernel matrices are cached; default 2²² (32 MiB) */
  maxCacheEntries?: number;
}

type Rows = Float32Array | Float64Array;

/** k(a, b) = (a·b / d + 1)³ for rows i of `a` and j of `b` (both [·, d]). */
function kernel(a: Rows, i: number, b: Rows, j: number, d: number): number {
  let dot = 0;
  const oa = i * d, ob = j * d;
  for (let c = 0; c < d; c++) dot += a[oa + c] * b[ob + c];
  const v = dot / d + 1;
  return v * v * v;
}

/** Kernel matrix [na, nb] between rows of a and b. */
function kernelMatrix(a: Rows, na: number, b: Rows, nb: number, d: number): Float64Array {
  const k = new Float64Array(na * nb);
  for (let i = 0; i < na; i++) for (let j = 0; j < nb; j++) k[i * nb + j] = kernel(a, i, b, j, d);
  return k;
}

/** The first `s` entries of a uniformly random permutation of 0..n−1 (partial Fisher–Yates). */
export function subsetIndices(n: number, s: number, rng: NoiseRng): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < s; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  return idx.subarray(0, s);
}

/** Rows `idx` of x [·, d] gathered into a contiguous [idx.length, d] array. */
function gather(x: Rows, idx: Int32Array, d: number): Float64Array {
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) for (let c = 0; c < d; c++) out[r * d + c] = x[idx[r] * d + c];
  return out;
}

/** Unbiased MMD² from the three kernel sums (off-diagonal sums for the within-set terms). */
function mmd2(sumXX: number, s: number, sumYY: number, t: number, sumXY: number): number {
  return sumXX / (s * (s - 1)) + sumYY / (t * (t - 1)) - (2 * sumXY) / (s * t);
}

/** Unbiased MMD² between all rows of x [s, d] and y [t, d] under the cubic kernel. */
export function mmd2Unbiased(x: Rows, s: number, y: Rows, t: number, d: number): number {
  let sxx = 0, syy = 0, sxy = 0;
  for (let i = 0; i < s; i++) for (let j = i + 1; j < s; j++) sxx += kernel(x, i, x, j, d);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) syy += kernel(y, i, y, j, d);
  for (let i = 0; i < s; i++) for (let j = 0; j < t; j++) sxy += kernel(x, i, y, j, d);
  return mmd2(2 * sxx, s, 2 * syy, t, sxy);
}

/**
 * KID between feature sets x [n, d] and y [m, d] (row-major): the mean of the unbiased MMD² over
 * `subsets` random subsets, and the (population) standard deviation of the per-subset estimates
 * (their spread, not the standard error of kid).
 */
export function kernelInceptionDistance(x: Rows, n: number, y: Rows, m: number, d: number, opts: KidOptions = {}): { kid: number; kidStd: number } {
  const size = opts.subsetSize ?? Math.min(1000, n, m);
  const s = Math.min(size, n), t = Math.min(size, m);
  if (s < 2 || t < 2) throw new Error(`KID needs at least 2 rows per subset (got ${s} and ${t})`);
  const subsets = opts.subsets ?? 100;
  if (subsets < 1) throw new Error('KID needs at least one subset');
  const rng = new NoiseRng((opts.seed ?? 0) >>> 0);
  const cached = n * n + m * m + n * m <= (opts.maxCacheEntries ?? 1 << 22);
  const kxx = cached ? kernelMatrix(x, n, x, n, d) : null;
  const kyy = cached ? kernelMatrix(y, m, y, m, d) : null;
  const kxy = cached ? kernelMatrix(x, n, y, m, d) : null;

  const values = new Float64Array(subsets);
  for (let r = 0; r < subsets; r++) {
    const ix = subsetIndices(n, s, rng), iy = subsetIndices(m, t, rng);
    if (kxx && kyy && kxy) {
      let sxx = 0, syy = 0, sxy = 0;
      for (let a = 0; a < s; a++) for (let b = a + 1; b < s; b++) sxx += kxx[ix[a] * n + ix[b]];
      for (let a = 0; a < t; a++) for (let b = a + 1; b < t; b++) syy += kyy[iy[a] * m + iy[b]];
      for (let a = 0; a < s; a++) for (let b = 0; b < t; b++) sxy += kxy[ix[a] * m + iy[b]];
      values[r] = mmd2(2 * sxx, s, 2 * syy, t, sxy);
    } else {
      values[r] = mmd2Unbiased(gather(x, ix, d), s, gather(y, iy, d), t, d);
    }
  }
  let kid = 0;
  for (const v of values) kid += v / subsets;
  let variance = 0;
  for (const v of values) variance += (v - kid) ** 2 / subsets;
  return { kid, kidStd: Math.sqrt(variance) };
}
