// Plain TypeScript (float64) references for the vector quantizer (src/models/tokenizer/quantizer.ts)
// and its EMA codebook kernels (shaders/vq_ema_accumulate.wgsl, shaders/vq_ema_normalize.wgsl).

/** z_e [N, D, G, G] (NCHW) → rows [M = N·G·G, D] in (n, y, x) order, as the quantizer flattens it. */
export function flattenNCHW(ze: ArrayLike<number>, N: number, D: number, G: number): Float64Array {
  const out = new Float64Array(N * G * G * D);
  for (let n = 0; n < N; n++)
    for (let d = 0; d < D; d++)
      for (let p = 0; p < G * G; p++) out[(n * G * G + p) * D + d] = ze[(n * D + d) * G * G + p];
  return out;
}

/** rows [M, D] → [N, D, G, G] (the inverse of flattenNCHW). */
export function unflattenNCHW(rows: ArrayLike<number>, N: number, D: number, G: number): Float64Array {
  const out = new Float64Array(N * D * G * G);
  for (let n = 0; n < N; n++)
    for (let d = 0; d < D; d++)
      for (let p = 0; p < G * G; p++) out[(n * D + d) * G * G + p] = rows[(n * G * G + p) * D + d];
  return out;
}

/** mean over all M·D entries of (z − E[index])². */
export function meanSquaredError(z: ArrayLike<number>, E: ArrayLike<number>, index: ArrayLike<number>, D: number): number {
  let s = 0;
  for (let m = 0; m < index.length; m++) for (let d = 0; d < D; d++) s += (z[m * D + d] - E[index[m] * D + d]) ** 2;
  return s / (index.length * D);
}

/**
 * Gradients of mean((z − E[index])²) over M·D entries: with respect to E (the codebook loss, z
 * detached): dE[k] = Σ_{m: index m = k} 2(E[k] − z[m]) / (M·D); with respect to z (the commitment
 * loss before β, E detached): dz[m] = 2(z[m] − E[index m]) / (M·D).
 */
export function mseGrads(z: ArrayLike<number>, E: ArrayLike<number>, index: ArrayLike<number>, K: number, D: number): { dE: Float64Array; dz: Float64Array } {
  const M = index.length;
  const dE = new Float64Array(K * D);
  const dz = new Float64Array(M * D);
  for (let m = 0; m < M; m++)
    for (let d = 0; d < D; d++) {
      const diff = z[m * D + d] - E[index[m] * D + d];
      dz[m * D + d] = (2 * diff) / (M * D);
      dE[index[m] * D + d] -= (2 * diff) / (M * D);
    }
  return { dE, dz };
}

export interface EmaState {
  /** [K] EMA counts N_k */
  count: Float64Array;
  /** [K, D] EMA sums m_k */
  sum: Float64Array;
  /** [K, D] codebook E */
  codebook: Float64Array;
}

/**
 * One EMA codebook step (van den Oord et al. 2017, appendix A.1, with Laplace smoothing):
 *   N_k ← d·N_k + (1−d)·count_k,  m_k ← d·m_k + (1−d)·sum_k,  n = Σ_k N_k,
 *   E_k ← m_k / ((N_k + ε) / (n + K·ε) · n).
 * With `restartBelow`, codes whose new N_k is below restartBelow · n/K are reported in `restarted` and left out of
 * the update (their new rows depend on the kernel's hash; the caller checks them separately).
 */
export function emaStep(
  s: EmaState,
  counts: ArrayLike<number>,
  sums: ArrayLike<number>,
  K: number,
  D: number,
  decay: number,
  eps: number,
  restartBelow = -Infinity,
): EmaState & { restarted: number[]; n: number } {
  const count = Float64Array.from(s.count, (v, k) => decay * v + (1 - decay) * counts[k]);
  const sum = Float64Array.from(s.sum, (v, i) => decay * v + (1 - decay) * sums[i]);
  const n = count.reduce((a, b) => a + b, 0);
  const codebook = Float64Array.from(s.codebook);
  const restarted: number[] = [];
  for (let k = 0; k < K; k++) {
    if (count[k] < (restartBelow * n) / K) {
      restarted.push(k);
      continue;
    }
    const smoothed = ((count[k] + eps) / (n + K * eps)) * n;
    for (let d = 0; d < D; d++) codebook[k * D + d] = sum[k * D + d] / smoothed;
  }
  return { count, sum, codebook, restarted, n };
}
