// D3PM with uniform noise (Austin et al. 2021, "Structured Denoising Diffusion Models in Discrete
// State-Spaces"): the schedule, the training corruption and the closed-form posteriors, host side
// in float64 (training, eval-prior's bound and the tests; the sampler computes the same marginalised
// posterior on the GPU, src/sample/d3pm.ts, and gets the schedule as an option).
//
// Forward process over K codes, levels t = 0..T (t = 0: the clean grid), independently per position:
//   q(x_t | x_0) = ᾱ_t·δ(x_t, x_0) + (1 − ᾱ_t)/K            (Q̄_t = ᾱ_t·I + (1 − ᾱ_t)·11ᵀ/K)
//   q(x_t | x_s) = α·δ(x_t, x_s) + (1 − α)/K,  α = ᾱ_t/ᾱ_s  (s < t: uniform kernels compose by
//                                                            multiplying their ᾱ, Q̄_s·Q_{t|s} = Q̄_t)
// Cosine schedule (Nichol & Dhariwal 2021; D3PM's choice for uniform noise):
//   ᾱ_t = f(t/T)/f(0),  f(u) = cos²(π/2·(u + 0.008)/1.008),  ᾱ_T := 0 exactly (x_T is uniform: the
//   sampler's start).
// Posterior for s < t, x_t = k, x_0 = i (Bayes; the denominator is q(x_t = k | x_0 = i)):
//   q(x_s = j | x_t = k, x_0 = i) = [α δ_jk + (1−α)/K]·[ᾱ_s δ_ij + (1−ᾱ_s)/K] / [ᾱ_t δ_ik + (1−ᾱ_t)/K]
// Marginalised over a predicted distribution p_i = p(x_0 = i | x_t) (the x0-parameterisation):
//   p(x_s = j | x_t = k) = Σ_i p_i·q(x_s = j | x_t = k, x_0 = i)
//                        = [α δ_jk + (1−α)/K]·[ᾱ_s·w_j + (1−ᾱ_s)/K·Σ_i w_i],  w_i = p_i / q(x_t = k | x_0 = i)
//   (already normalised: it sums to Σ_i p_i = 1), O(K) per position with no K×K matrix.
// D3PM writes p_θ(x_s | x_t) ∝ Σ_i q(x_s, x_t | x_0 = i)·p̃_i, which weights each p̃_i by the
// likelihood q(x_t | x_0 = i) once more (w_i = p_i, renormalised); here the network is trained by
// cross-entropy on x_0 alone, so p estimates q(x_0 | x_t), for which the mixture above is the exact
// reverse step. At s = 0 (ᾱ_0 = 1) it reduces to p itself.

import { NoiseRng, replaceRandom } from './noise.js';

/** The cosine schedule's offset s (Nichol & Dhariwal): keeps ᾱ_1 just below 1. */
const COSINE_OFFSET = 0.008;

/** ᾱ_t of the cosine schedule with T levels (t = 0: 1, t = T: 0). */
export function cosineAlphaBar(t: number, T: number): number {
  if (!(Number.isInteger(T) && T >= 1 && t >= 0 && t <= T)) throw new Error(`cosineAlphaBar: level ${t} is not in 0..${T}.`);
  if (t === T) return 0;
  const f = (u: number) => Math.cos(((u + COSINE_OFFSET) / (1 + COSINE_OFFSET)) * (Math.PI / 2)) ** 2;
  return f(t / T) / f(0);
}

/** ᾱ_0..ᾱ_T ([T + 1]). */
export function alphaBars(T: number): Float64Array {
  return Float64Array.from({ length: T + 1 }, (_, t) => cosineAlphaBar(t, T));
}

/** x_t ~ q(x_t | x_0): each token replaced with probability 1 − ᾱ by a uniform code (possibly itself). */
export function corruptUniform(x0: Int32Array, alphaBar: number, K: number, rng: NoiseRng): Int32Array {
  return replaceRandom(x0, 1 - alphaBar, K, rng);
}

/**
 * A training batch's noise for token grids x [B, L]: per item a level t ~ U{1..T} and
 * x_t ~ q(x_t | x_0) ([B·L]). `levels` fixes the items' levels instead of drawing them.
 */
export function d3pmNoise(x: Int32Array, B: number, K: number, T: number, rng: NoiseRng, levels?: Int32Array): { xt: Int32Array; t: Int32Array } {
  const L = x.length / B;
  const bars = alphaBars(T);
  const t = levels ? Int32Array.from(levels) : new Int32Array(B);
  const xt = new Int32Array(x.length);
  for (let b = 0; b < B; b++) {
    if (!levels) t[b] = 1 + rng.int(T);
    if (!(t[b] >= 1 && t[b] <= T)) throw new Error(`d3pmNoise: level ${t[b]} is not in 1..${T}.`);
    xt.set(corruptUniform(x.subarray(b * L, (b + 1) * L), bars[t[b]], K, rng), b * L);
  }
  return { xt, t };
}

function checkLevels(aS: number, aT: number): void {
  if (!(aS >= aT && aS <= 1 && aT >= 0 && aS > 0)) throw new Error(`d3pm posterior: needs 1 ≥ ᾱ_s ≥ ᾱ_t ≥ 0 and ᾱ_s > 0, got ᾱ_s = ${aS}, ᾱ_t = ${aT}.`);
}

/**
 * p(x_s | x_t = k) = Σ_i p_i·q(x_s | x_t = k, x_0 = i) for a predicted distribution p over the K
 * codes, with ᾱ_s = aS ≥ ᾱ_t = aT (s < t). Returns [K], summing to 1.
 */
export function posteriorMix(p: ArrayLike<number>, k: number, aS: number, aT: number): Float64Array {
  checkLevels(aS, aT);
  const K = p.length;
  const alpha = aS > 0 ? aT / aS : 0;
  const w = new Float64Array(K);
  let W = 0;
  for (let i = 0; i < K; i++) {
    w[i] = p[i] / ((i === k ? aT : 0) + (1 - aT) / K);
    W += w[i];
  }
  const out = new Float64Array(K);
  for (let j = 0; j < K; j++) out[j] = ((j === k ? alpha : 0) + (1 - alpha) / K) * (aS * w[j] + ((1 - aS) / K) * W);
  return out;
}

/** q(x_s | x_t = k, x_0 = i) ([K]): the posterior of a known clean token (posteriorMix of a one-hot p). */
export function posterior(i: number, k: number, K: number, aS: number, aT: number): Float64Array {
  const p = new Float64Array(K);
  p[i] = 1;
  return posteriorMix(p, k, aS, aT);
}

/** KL(q ‖ p) in nats (0·log 0 = 0). */
export function klDivergence(q: ArrayLike<number>, p: ArrayLike<number>): number {
  let kl = 0;
  for (let j = 0; j < q.length; j++) if (q[j] > 0) kl += q[j] * Math.log(q[j] / p[j]);
  return kl;
}

/** softmax of a row of logits in float64 (into `out` when given). */
export function softmax64(logits: ArrayLike<number>, out = new Float64Array(logits.length)): Float64Array {
  let m = -Infinity, z = 0;
  for (let j = 0; j < logits.length; j++) m = Math.max(m, logits[j]);
  for (let j = 0; j < logits.length; j++) z += out[j] = Math.exp(logits[j] - m);
  for (let j = 0; j < logits.length; j++) out[j] /= z;
  return out;
}

/**
 * One term of the variational bound of the full T-level chain at one position, in nats: for t ≥ 2,
 * L_{t−1} = KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t)) with p_θ the posterior marginalised over
 * the prediction p; for t = 1, L_0 = −log p_θ(x_0 | x_1) = −log p(x_0) (the same formula: at s = 0
 * both sides reduce to a one-hot and p). Equal to klDivergence(posterior(x0, …), posteriorMix(p, …)),
 * computed in two passes over the K codes without allocating (eval-prior calls it per position).
 */
export function boundTerm(p: ArrayLike<number>, x0: number, xt: number, aS: number, aT: number): number {
  checkLevels(aS, aT);
  const K = p.length, alpha = aS > 0 ? aT / aS : 0, zDiff = (1 - aT) / K;
  let W = 0;
  for (let i = 0; i < K; i++) W += p[i] / ((i === xt ? aT : 0) + zDiff);
  const zTrue = (x0 === xt ? aT : 0) + zDiff; // q(x_t | x_0)
  let kl = 0;
  for (let j = 0; j < K; j++) {
    const f = (j === xt ? alpha : 0) + (1 - alpha) / K; // q(x_t | x_s = j)
    const q = (f * ((j === x0 ? aS : 0) + (1 - aS) / K)) / zTrue;
    if (q <= 0) continue;
    const w = p[j] / ((j === xt ? aT : 0) + zDiff);
    kl += q * Math.log(q / (f * (aS * w + ((1 - aS) / K) * W)));
  }
  return kl;
}
