// The training corruptions of the diffusion priors (src/models/prior/noise.ts), host side: the
// statistics of the seed scheme's (x_a, x_b) pairs and of the absorbing (mask) scheme.

import { describe, expect, it } from 'vitest';
import { cosineMaskRate, diffusionPair, maskBatch, maskCount, NoiseRng, trainingMaskRate } from '../src/models/prior/noise.js';
import { masksAfter } from '../src/sample/diffusion.js';

function randomTokens(n: number, K: number, rng: NoiseRng): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(K));
}

/** Fraction of positions where a and b differ, per item of length L. */
function diffFractions(a: Int32Array, b: Int32Array, L: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < a.length; s += L) {
    let d = 0;
    for (let i = s; i < s + L; i++) if (a[i] !== b[i]) d++;
    out.push(d / L);
  }
  return out;
}

const mean = (v: number[]) => v.reduce((s, a) => s + a, 0) / v.length;

describe('diffusionPair', () => {
  const B = 3000, L = 64, K = 8, extra = 0.1;
  const rng = new NoiseRng(7);
  const x = randomTokens(B * L, K, rng);
  const { xa, xb } = diffusionPair(x, B, K, extra, rng);

  it('x_a replaces a fraction r ~ U(0, 1) of each item by random codes', () => {
    const f = diffFractions(x, xa, L);
    // a replaced token keeps its value with probability 1/K: E[changed] = E[r]·(K − 1)/K
    expect(mean(f)).toBeCloseTo(0.5 * (K - 1) / K, 1.5); // ±0.016; the sampling sd is ≈ 0.005
    // r is uniform: about a quarter of the items fall in each quarter of [0, (K − 1)/K]
    const q = (K - 1) / K / 4;
    for (let j = 0; j < 4; j++) {
      const share = f.filter((v) => v >= j * q && v < (j + 1) * q).length / B;
      expect(share, `quarter ${j}`).toBeGreaterThan(0.2);
      expect(share, `quarter ${j}`).toBeLessThan(0.3);
    }
    expect(xa.every((v) => v >= 0 && v < K)).toBe(true);
  });

  it('x_b replaces a further `extra` fraction of x_a', () => {
    expect(mean(diffFractions(xa, xb, L))).toBeCloseTo(extra * (K - 1) / K, 2); // sd ≈ 0.0008
    expect(xb.every((v) => v >= 0 && v < K)).toBe(true);
  });

  it('is reproducible from the seed', () => {
    const r1 = new NoiseRng(99), r2 = new NoiseRng(99);
    const y = x.subarray(0, 10 * L);
    const a = diffusionPair(y, 10, K, extra, r1), b = diffusionPair(y, 10, K, extra, r2);
    expect(Array.from(a.xa)).toEqual(Array.from(b.xa));
    expect(Array.from(a.xb)).toEqual(Array.from(b.xb));
    expect(Array.from(diffusionPair(y, 10, K, extra, new NoiseRng(100)).xa)).not.toEqual(Array.from(a.xa));
  });
});

describe('maskBatch', () => {
  const B = 4000, L = 50, K = 16, MASK = 16, IGNORE = -100;
  const rng = new NoiseRng(3);
  const x = randomTokens(B * L, K, rng);
  const { input, target } = maskBatch(x, B, MASK, rng, IGNORE);
  const counts = Array.from({ length: B }, (_, b) => input.subarray(b * L, (b + 1) * L).reduce((n, v) => n + (v === MASK ? 1 : 0), 0));

  it('targets are the originals exactly at masked positions and the ignore index elsewhere', () => {
    let bad = -1;
    for (let i = 0; i < B * L && bad < 0; i++) {
      const ok = input[i] === MASK ? target[i] === x[i] : input[i] === x[i] && target[i] === IGNORE;
      if (!ok) bad = i;
    }
    if (bad >= 0) expect.fail(`position ${bad}: x ${x[bad]}, input ${input[bad]}, target ${target[bad]}`);
  });

  it('masks at least one position, a count following the cosine schedule', () => {
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    // count = max(1, ⌈L·cos(π·u/2)⌉), u ~ U(0, 1): its exact mean, by quadrature over u
    const n = 200_000;
    let want = 0;
    for (let i = 0; i < n; i++) want += Math.max(1, Math.ceil(cosineMaskRate((i + 0.5) / n) * L));
    want /= n * L;
    expect(Math.abs(want - 2 / Math.PI)).toBeLessThan(1 / L); // ≈ ∫cos(πu/2)du = 2/π, plus the rounding up
    const got = mean(counts) / L;
    expect(Math.abs(got - want), `mean masked fraction ${got}, expected ${want}`).toBeLessThan(0.015); // sd ≈ 0.005
    // distribution: P(count ≤ m) = P(cos(πu/2) ≤ m/L) = 1 − (2/π)·acos(m/L)
    for (const m of [5, 20, 35, 49]) {
      const p = counts.filter((c) => c <= m).length / B;
      expect(Math.abs(p - (1 - (2 / Math.PI) * Math.acos(m / L))), `P(count ≤ ${m})`).toBeLessThan(0.03);
    }
  });

  it('covers every count from one position to all of them', () => {
    // each count m has probability (2/π)·(acos((m−1)/L) − acos(m/L)) ≥ 1.2% here: ≥ 50 expected items each
    expect([...new Set(counts)].sort((a, b) => a - b)).toEqual(Array.from({ length: L }, (_, i) => i + 1));
  });
});

describe('the mask schedule (MaskGIT cosine, minimum ratio)', () => {
  it('the training rate falls monotonically in u from 1 to the minimum ratio', () => {
    for (const min of [0, 0.05, 0.3]) {
      expect(trainingMaskRate(0, min)).toBeCloseTo(1, 12);
      expect(trainingMaskRate(1, min)).toBeCloseTo(min, 9);
      let prev = Infinity;
      for (let i = 0; i <= 1000; i++) {
        const r = trainingMaskRate(i / 1000, min);
        expect(r).toBeLessThanOrEqual(prev);
        expect(r).toBeGreaterThanOrEqual(min);
        prev = r;
      }
    }
    expect(() => trainingMaskRate(0.5, 1.5)).toThrow(/minimum mask ratio/);
  });

  it('maskBatch respects the minimum ratio and keeps the cosine shape above it', () => {
    const B = 3000, L = 64, K = 16, MASK = 16, min = 0.25;
    const rng = new NoiseRng(5);
    const x = randomTokens(B * L, K, rng);
    const { input } = maskBatch(x, B, MASK, rng, -100, min);
    const counts = Array.from({ length: B }, (_, b) => input.subarray(b * L, (b + 1) * L).reduce((n, v) => n + (v === MASK ? 1 : 0), 0));
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(Math.ceil(min * L));
    expect(Math.min(...counts)).toBeLessThanOrEqual(Math.ceil(min * L) + 1); // the minimum is reached
    expect(Math.max(...counts)).toBe(L);
    // P(rate ≤ m/L) for u ~ U(0, u_max): 1 − acos(m/L)/acos(min)
    for (const m of [20, 32, 50]) {
      const p = counts.filter((c) => c <= m).length / B;
      expect(Math.abs(p - (1 - Math.acos(m / L) / Math.acos(min))), `P(count ≤ ${m})`).toBeLessThan(0.03);
    }
    // minimum 0 is the plain schedule, draw for draw
    const a = maskBatch(x, 50, MASK, new NoiseRng(9), -100, 0), b = maskBatch(x, 50, MASK, new NoiseRng(9));
    expect(Array.from(a.input)).toEqual(Array.from(b.input));
    expect(maskCount(1e-9, L)).toBe(1);
  });

  it("the sampler's schedule: monotone over the steps, from all masked to none", () => {
    for (const [S, L] of [[12, 64], [8, 256], [30, 16]]) {
      expect(masksAfter(0, S, L)).toBe(L);
      expect(masksAfter(S, S, L)).toBe(0);
      for (let s = 1; s <= S; s++) expect(masksAfter(s, S, L)).toBeLessThanOrEqual(masksAfter(s - 1, S, L));
    }
  });
});
