// Plain TypeScript references (float64) for the codebook kernels: nearest-code search as
// Σ(z−e)² (the definition, not the ‖z‖² − 2z·e + ‖e‖² expansion the kernels use), the per-code
// statistics of an EMA codebook update, and row gathering. Shared by kernels-test/codebook.test.ts
// and bench/codebook.ts.

/** Squared Euclidean distance between row n of z and row k of E (both row-major, width D), in float64. */
export function sqDist(z: ArrayLike<number>, n: number, E: ArrayLike<number>, k: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) {
    const t = z[n * D + d] - E[k * D + d];
    s += t * t;
  }
  return s;
}

/**
 * Nearest code per vector. z: [N, D], E: [K, D] → index [N] (ties to the lowest index) and the
 * minimal squared distance [N].
 */
export function nearestCode(z: ArrayLike<number>, E: ArrayLike<number>, N: number, K: number, D: number): { index: Int32Array; dist: Float64Array } {
  const index = new Int32Array(N);
  const dist = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let best = Infinity, bi = 0;
    for (let k = 0; k < K; k++) {
      const s = sqDist(z, n, E, k, D);
      if (s < best) {
        best = s;
        bi = k;
      }
    }
    index[n] = bi;
    dist[n] = best;
  }
  return { index, dist };
}

/**
 * Per-code statistics of an assignment: counts[k] = #{n : index[n] = k}, sums[k] = Σ_{index[n]=k} z[n]
 * (counts [K], sums [K, D]). Also the reference for gatherRows' backward (a scatter-add of rows).
 */
export function codeStats(z: ArrayLike<number>, index: ArrayLike<number>, N: number, K: number, D: number): { counts: Float64Array; sums: Float64Array } {
  const counts = new Float64Array(K);
  const sums = new Float64Array(K * D);
  for (let n = 0; n < N; n++) {
    const k = index[n];
    counts[k]++;
    for (let d = 0; d < D; d++) sums[k * D + d] += z[n * D + d];
  }
  return { counts, sums };
}

/** out[n] = E[index[n]]: [N, D]. */
export function gatherRows(E: ArrayLike<number>, index: ArrayLike<number>, D: number): Float32Array {
  const out = new Float32Array(index.length * D);
  for (let n = 0; n < index.length; n++) for (let d = 0; d < D; d++) out[n * D + d] = E[index[n] * D + d];
  return out;
}
