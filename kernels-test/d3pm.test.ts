// D3PM with uniform noise: the closed-form posteriors (src/models/prior/d3pm.ts) against a brute-force
// reference built from explicit K×K one-step transition matrices (Bayes with the matrices), the
// sampler's GPU posterior against the host one, the prior's config (the scheme stored, the input
// layout [cond, time, x_t]), and the sampler (src/sample/d3pm.ts) driven by FAKE
// logits functions (no model: what the chain must do is known exactly).

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { checkPriorConfig, isD3PM, makePriorConfig, noiseOf, prefixLength, timeToken } from '../src/models/prior/config.js';
import { alphaBars, boundTerm, cosineAlphaBar, klDivergence, posterior, posteriorMix, softmax64 } from '../src/models/prior/d3pm.js';
import { Prior } from '../src/models/prior/prior.js';
import { d3pmLevels, posteriorLogits, sampleD3PM, type TimedLogits } from '../src/sample/d3pm.js';
import { guideFull, type ConditionedLogits } from '../src/sample/guidance.js';
import { Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

type Mat = Float64Array[]; // rows

const eyeMat = (K: number): Mat => Array.from({ length: K }, (_, i) => Float64Array.from({ length: K }, (_, j) => (i === j ? 1 : 0)));
const matmul = (a: Mat, b: Mat): Mat => a.map((row) => Float64Array.from({ length: b[0].length }, (_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));

/**
 * The one-step matrices Q_1..Q_T of the forward chain, built as D3PM defines them: Q_t = (1 − β_t)·I +
 * β_t·11ᵀ/K with 1 − β_t = ᾱ_t/ᾱ_{t−1} (row i: x_{t−1} = i, column j: x_t = j).
 */
function stepMatrices(K: number, T: number): Mat[] {
  const bars = alphaBars(T);
  return Array.from({ length: T }, (_, n) => {
    const keep = bars[n + 1] / bars[n];
    return Array.from({ length: K }, (_, i) => Float64Array.from({ length: K }, (_, j) => (i === j ? keep : 0) + (1 - keep) / K));
  });
}

/** Q_{a+1}·…·Q_b (the identity when a = b). */
const product = (Q: Mat[], a: number, b: number, K: number): Mat => Q.slice(a, b).reduce((m, q) => matmul(m, q), eyeMat(K));

/** q(x_s = · | x_t = k, x_0 = i) by Bayes with the matrices: Q̄_s[i, j]·Q_{t|s}[j, k] normalised over j. */
function bruteForcePosterior(Q: Mat[], K: number, s: number, t: number, i: number, k: number): Float64Array {
  const barS = product(Q, 0, s, K), ts = product(Q, s, t, K);
  const u = Float64Array.from({ length: K }, (_, j) => barS[i][j] * ts[j][k]);
  const z = u.reduce((a, v) => a + v, 0);
  return u.map((v) => v / z);
}

const randomDist = (K: number, rng: Rng): Float64Array => softmax64(Float64Array.from({ length: K }, () => 2 * rng.normal()));

const PAIRS: [number, number][] = [[0, 1], [0, 5], [3, 4], [2, 7], [5, 10], [9, 10], [1, 9], [0, 10]];

describe('uniform-noise schedule and posteriors (host)', () => {
  const K = 5, T = 10;
  const Q = stepMatrices(K, T);

  it('the cosine ᾱ falls from 1 to exactly 0, and the one-step matrices compose to q(x_t | x_0)', () => {
    const bars = alphaBars(T);
    expect(bars[0]).toBe(1);
    expect(bars[T]).toBe(0);
    for (let t = 1; t <= T; t++) expect(bars[t]).toBeLessThan(bars[t - 1]);
    expect(cosineAlphaBar(1, 1000)).toBeGreaterThan(0.9999); // the offset keeps the first level nearly clean
    for (const t of [1, 4, 10]) {
      const bar = product(Q, 0, t, K);
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) expect(bar[i][j]).toBeCloseTo((i === j ? bars[t] : 0) + (1 - bars[t]) / K, 12);
    }
  });

  it('q(x_s | x_t, x_0) matches Bayes with the transition matrices for every x_0, x_t and several s < t', () => {
    const bars = alphaBars(T);
    for (const [s, t] of PAIRS) {
      for (let i = 0; i < K; i++) {
        for (let k = 0; k < K; k++) {
          const got = posterior(i, k, K, bars[s], bars[t]), want = bruteForcePosterior(Q, K, s, t, i, k);
          for (let j = 0; j < K; j++) expect(got[j], `s ${s} t ${t} x0 ${i} xt ${k} xs ${j}`).toBeCloseTo(want[j], 10);
        }
      }
    }
  });

  it('the posterior marginalised over a predicted x̂_0 distribution matches Σ_x0 p(x0)·(Bayes with the matrices)', () => {
    const bars = alphaBars(T), rng = new Rng(3);
    for (const [s, t] of PAIRS) {
      for (let k = 0; k < K; k++) {
        const p = randomDist(K, rng);
        const want = new Float64Array(K);
        for (let i = 0; i < K; i++) bruteForcePosterior(Q, K, s, t, i, k).forEach((v, j) => (want[j] += p[i] * v));
        const got = posteriorMix(p, k, bars[s], bars[t]);
        expect(got.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 12);
        for (let j = 0; j < K; j++) expect(got[j], `s ${s} t ${t} xt ${k}`).toBeCloseTo(want[j], 10);
        if (s === 0) for (let j = 0; j < K; j++) expect(got[j]).toBeCloseTo(p[j], 12); // at s = 0: p itself
      }
    }
  });

  it('the bound term: 0 for an exact x_0 prediction, −log p(x_0) at t = 1, positive otherwise', () => {
    const bars = alphaBars(T), rng = new Rng(5);
    const onehot = (i: number) => Float64Array.from({ length: K }, (_, j) => (j === i ? 1 : 0));
    expect(boundTerm(onehot(2), 2, 4, bars[3], bars[4])).toBeCloseTo(0, 12);
    const p = randomDist(K, rng);
    expect(boundTerm(p, 1, 3, bars[0], bars[1])).toBeCloseTo(-Math.log(p[1]), 10);
    expect(boundTerm(p, 1, 3, bars[4], bars[6])).toBeGreaterThan(0);
    // the allocation-free term is KL(posterior ‖ marginalised posterior), for every x_0, x_t
    for (const [s, t] of PAIRS) {
      for (let i = 0; i < K; i++) {
        for (let k = 0; k < K; k++) {
          const q = randomDist(K, rng);
          expect(boundTerm(q, i, k, bars[s], bars[t])).toBeCloseTo(klDivergence(posterior(i, k, K, bars[s], bars[t]), posteriorMix(q, k, bars[s], bars[t])), 10);
        }
      }
    }
  });
});

describe('the GPU posterior of the sampler', () => {
  it('softmax(posteriorLogits) equals the host posteriorMix, at every kind of level pair', async () => {
    const K = 7, N = 12, T = 10, bars = alphaBars(T), rng = new Rng(11);
    const logits = Float32Array.from({ length: N * K }, () => 3 * rng.normal());
    const cur = Int32Array.from({ length: N }, () => rng.int(K));
    const eye = vq.tensor(Float32Array.from({ length: K * K }, (_, i) => (i % (K + 1) === 0 ? 1 : 0)), [K, K]);
    for (const [s, t] of PAIRS.filter(([s]) => s > 0)) {
      const out = vq.noGrad(() => vq.tidy(() => vq.softmax(posteriorLogits(vq.tensor(logits, [N, K]), vq.tensor(cur, [N]), eye, bars[s], bars[t])).keepAlive()));
      const got = (await out.toArray()) as Float32Array;
      out.dispose();
      for (let n = 0; n < N; n++) {
        const want = posteriorMix(softmax64(logits.subarray(n * K, (n + 1) * K)), cur[n], bars[s], bars[t]);
        for (let j = 0; j < K; j++) expect(got[n * K + j], `s ${s} t ${t} row ${n}`).toBeCloseTo(want[j], 5);
      }
    }
    eye.dispose();
  });
});

/** A fake network that predicts `target` [B, L] with logit `big` at every level; records the levels it is called at. */
function fixedGrid(target: Int32Array, B: number, L: number, K: number, big = 20): { fn: TimedLogits; levels: number[] } {
  const levels: number[] = [];
  const lg = new Float32Array(B * L * K);
  for (let i = 0; i < B * L; i++) lg[i * K + target[i]] = big;
  const fn: TimedLogits = (x, t) => {
    expect(x.shape).toEqual([B, L]);
    levels.push(t);
    return vq.tensor(lg, [B, L, K]);
  };
  return { fn, levels };
}

describe('sampleD3PM (fake logits)', () => {
  const K = 16, B = 8, L = 64, T = 64;
  const bars = alphaBars(T);
  const rng = new Rng(17);
  const target = Int32Array.from({ length: B * L }, () => rng.int(K));
  const share = (x: Int32Array) => x.reduce((a, v, i) => a + (v === target[i] ? 1 : 0), 0) / x.length;

  it('runs all S steps down the levels and converges to the predicted grid, each frame as noisy as q(x_s | x_0)', async () => {
    const S = 16, { fn, levels } = fixedGrid(target, B, L, K);
    const frames: Int32Array[] = [];
    const r = await sampleD3PM(fn, { batch: B, length: L }, { steps: S, seed: 2, codebook: K, alphaBar: bars, onStep: (_, x) => void frames.push(Int32Array.from(x)) });
    const lv = d3pmLevels(S, T);
    expect(levels).toEqual(lv.slice(1).reverse()); // T = t_S, …, t_1: one evaluation per step
    expect(r.evals).toBe(S);
    expect(frames).toHaveLength(S + 1);
    expect(Array.from(r.tokens)).toEqual(Array.from(target));
    expect(share(frames[0])).toBeLessThan(0.2); // uniformly random start
    // After step i the grid is at level s = lv[S − i]: with an exact one-hot x̂_0, x_s ~ q(x_s | x_0),
    // so the share of target tokens is ᾱ_s + (1 − ᾱ_s)/K (512 positions: sd ≤ 0.022).
    for (const i of [4, 8, 12, 15]) {
      const s = lv[S - i], want = bars[s] + (1 - bars[s]) / K;
      expect(share(frames[i]), `after step ${i} (level ${s})`).toBeCloseTo(want, 1);
    }
  });

  it('corrector steps: C more evaluations at the level pair t_2 → t_1, still converging; a draw at the end also converges', async () => {
    const S = 8, C = 3, { fn, levels } = fixedGrid(target, B, L, K);
    const r = await sampleD3PM(fn, { batch: B, length: L }, { steps: S, seed: 5, codebook: K, alphaBar: bars, correctorSteps: C, finalArgmax: false });
    const lv = d3pmLevels(S, T);
    expect(r.evals).toBe(S + C);
    expect(levels).toEqual([...lv.slice(2).reverse(), ...new Array(C).fill(lv[2]), lv[1]]);
    expect(Array.from(r.tokens)).toEqual(Array.from(target));
  });

  it('completion keeps the given tokens and fills the rest from the network', async () => {
    const S = 8, given = Int32Array.from({ length: B * L }, () => rng.int(K));
    const fixedMask = Uint8Array.from({ length: B * L }, (_, i) => (i % L < 16 ? 1 : 0));
    const { fn } = fixedGrid(target, B, L, K);
    const r = await sampleD3PM(fn, { batch: B, length: L }, { steps: S, seed: 9, codebook: K, alphaBar: bars, fixedMask, given });
    for (let i = 0; i < B * L; i++) expect(r.tokens[i]).toBe(fixedMask[i] ? given[i] : target[i]);
  });

  it('refuses more steps than levels, and a schedule that does not run from 1 to 0', async () => {
    const { fn } = fixedGrid(target, B, L, K);
    await expect(sampleD3PM(fn, { batch: B, length: L }, { steps: T + 1, codebook: K, alphaBar: bars })).rejects.toThrow(/steps must be an integer in 1\.\.64/);
    await expect(sampleD3PM(fn, { batch: B, length: L }, { steps: 4, codebook: K, alphaBar: bars.map((v) => v * 0.9) })).rejects.toThrow(/ᾱ_0 = 1/);
    expect(d3pmLevels(3, 64)).toEqual([0, 21, 43, 64]);
  });

  it('classifier-free guidance passes the level to both halves of the 2B-row call', async () => {
    const Bg = 2, Lg = 4, Kg = 5, calls: { rows: number; t: number }[] = [];
    const f: ConditionedLogits<[number]> = (x, cond, t) => {
      calls.push({ rows: x.shape[0], t });
      return vq.tensor(Float32Array.from({ length: x.shape[0] * Lg * Kg }, (_, i) => (i % Kg === Math.floor(i / (Lg * Kg)) % Kg ? 10 : 0)), [x.shape[0], Lg, Kg]);
    };
    const g = guideFull(f, { scale: 2, cond: Int32Array.of(7, 8), uncond: Int32Array.of(6, 6), steps: 4 });
    const r = await sampleD3PM(g, { batch: Bg, length: Lg }, { steps: 4, codebook: Kg, alphaBar: alphaBars(8) });
    expect(calls).toEqual([8, 6, 4, 2].map((t) => ({ rows: 2 * Bg, t })));
    expect(r.tokens).toHaveLength(Bg * Lg);
  });
});

describe('the d3pm prior config', () => {
  const base = { prior: 'diffusion' as const, codebook: 16, grid: 3, classes: 4, tokenizerChecksum: 'test', dim: 16, layers: 1, heads: 2 };

  it('round-trips through JSON (the checkpoint) with its scheme, levels and input layout', async () => {
    const c = makePriorConfig({ ...base, noise: 'd3pm', timesteps: 12 });
    const back = checkPriorConfig(JSON.parse(JSON.stringify(c)), 'test');
    expect(back).toEqual(c);
    expect(back).toMatchObject({ noise: 'd3pm', timesteps: 12 });
    expect(isD3PM(back)).toBe(true);
    expect(prefixLength(back)).toBe(2);
    // vocabulary: 16 codes, start, mask, 4 classes, then the 12 level tokens
    expect(back.transformer).toMatchObject({ vocabIn: 16 + 2 + 4 + 12, seqLen: 9 + 2, causal: false });
    expect(timeToken(back, 1)).toBe(22);
    expect(timeToken(back, 12)).toBe(33);
    expect(() => timeToken(back, 13)).toThrow(/not in 1\.\.12/);
    const prior = new Prior(back);
    const lg = vq.noGrad(() => prior.contentLogits(vq.tensor(new Int32Array(2 * 11).fill(3), [2, 11])));
    expect(lg.shape).toEqual([2, 9, 16]);
    lg.dispose();
    prior.parameters().forEach((t) => t.dispose());
  });

  it('the seed scheme stays the default (older checkpoints have no noise field); d3pm is refused for other kinds', () => {
    const seed = makePriorConfig(base);
    expect(seed.noise).toBeUndefined();
    expect(noiseOf(seed)).toBe('seed');
    expect(prefixLength(seed)).toBe(1);
    expect(seed.transformer).toMatchObject({ vocabIn: 16 + 2 + 4, seqLen: 10 });
    expect(() => makePriorConfig({ ...base, prior: 'ar', noise: 'd3pm' })).toThrow(/d3pm noise applies to the diffusion prior only/);
    expect(() => makePriorConfig({ ...base, prior: 'mask', noise: 'd3pm' })).toThrow(/diffusion prior only/);
    expect(() => checkPriorConfig({ ...seed, noise: 'gaussian' }, 'ckpt')).toThrow(/unknown diffusion noise 'gaussian'/);
    expect(() => checkPriorConfig({ ...seed, noise: 'd3pm' }, 'ckpt')).toThrow(/without valid timesteps/);
  });
});
