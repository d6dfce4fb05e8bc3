// The samplers (src/sample/ar.ts, diffusion.ts) driven by FAKE logits functions: no model, so the
// expected tokens are known exactly. Filtering itself is tested in sample_filter.test.ts.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { sampleAR, type CachedLogits } from '../src/sample/ar.js';
import { DIFFUSION_SAMPLER_DEFAULTS, diffusionTemperature, masksAfter, sampleDiffusion, sampleMask, type FullLogits } from '../src/sample/diffusion.js';
import { Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

const V = 7; // output vocabulary (codes)
const START = 7, START2 = 8, VIN = 9; // input vocabulary: codes, then two conditioning tokens

/**
 * A fake cached-logits function: the logits at input position q are table[q][input token at q]
 * ([VIN, V] per position), so the prediction depends on the position and the previous token only.
 * Records (pos, n) of every call.
 */
function fakeAR(tables: Float32Array[]): { fn: CachedLogits; calls: [number, number][] } {
  const calls: [number, number][] = [];
  const fn: CachedLogits = (inputs, pos) => {
    const [B, n] = inputs.shape;
    calls.push([pos, n]);
    const cols = Array.from({ length: n }, (_, j) => vq.embedding(vq.slice(inputs, 1, j, j + 1), vq.tensor(tables[pos + j], [VIN, V])));
    return n === 1 ? cols[0] : vq.concat(cols, 1); // [B, n, V]
  };
  return { fn, calls };
}

/** Tables putting `big` on next(q, prev) and 0 elsewhere. */
function ruleTables(L: number, next: (q: number, prev: number) => number, big = 30): Float32Array[] {
  return Array.from({ length: L + 1 }, (_, q) => {
    const t = new Float32Array(VIN * V);
    for (let prev = 0; prev < VIN; prev++) t[prev * V + next(q, prev)] = big;
    return t;
  });
}

const rule = (q: number, prev: number) => (prev * 5 + q * 3 + 1) % V;

/** Content token i is predicted at input position i from content token i − 1 (the start token at 0). */
function chain(start: number, L: number, next: (q: number, prev: number) => number, prefix: number[] = []): number[] {
  const out = [...prefix];
  for (let i = prefix.length; i < L; i++) out.push(next(i, i === 0 ? start : out[i - 1]));
  return out;
}

describe('sampleAR', () => {
  it('follows the fake logits, one conditioned call then one token per call', async () => {
    const L = 11, B = 2;
    const { fn, calls } = fakeAR(ruleTables(L, rule));
    const steps: number[] = [];
    const got = await sampleAR(fn, { batch: B, length: L }, { start: Int32Array.of(START, START2), seed: 4, onStep: (d) => void steps.push(d) });
    expect(Array.from(got.subarray(0, L))).toEqual(chain(START, L, rule));
    expect(Array.from(got.subarray(L))).toEqual(chain(START2, L, rule));
    expect(calls).toEqual(Array.from({ length: L }, (_, i) => [i, 1]));
    expect(steps).toEqual(Array.from({ length: L }, (_, i) => i + 1));
  });

  it('keeps the prefix and conditions the first sampled position on it', async () => {
    const L = 10, B = 3, P = 4, rng = new Rng(8);
    const prefix = Int32Array.from({ length: B * P }, () => rng.int(V));
    const { fn, calls } = fakeAR(ruleTables(L, rule));
    const got = await sampleAR(fn, { batch: B, length: L }, { start: new Int32Array(B).fill(START), prefix, prefixLength: P, seed: 1 });
    for (let b = 0; b < B; b++) {
      expect(Array.from(got.subarray(b * L, (b + 1) * L)), `item ${b}`).toEqual(chain(START, L, rule, Array.from(prefix.subarray(b * P, (b + 1) * P))));
    }
    // the prefill call covers the conditioning token and the whole prefix
    expect(calls[0]).toEqual([0, P + 1]);
    expect(calls.slice(1)).toEqual(Array.from({ length: L - P - 1 }, (_, i) => [P + 1 + i, 1]));
  });

  it('top-k 1 and a tiny top-p pick the argmax even at a high temperature', async () => {
    const L = 9, B = 4, rng = new Rng(21);
    const tables = Array.from({ length: L + 1 }, () => rng.array(VIN * V)); // distinct random logits
    const argmax = (q: number, prev: number) => {
      const row = tables[q].subarray(prev * V, (prev + 1) * V);
      return row.indexOf(Math.max(...row));
    };
    const want = chain(START, L, argmax);
    for (const o of [{ topK: 1, temperature: 50 }, { topP: 1e-4, temperature: 20 }]) {
      for (const seed of [0, 1, 2]) {
        const got = await sampleAR(fakeAR(tables).fn, { batch: B, length: L }, { start: new Int32Array(B).fill(START), seed, ...o });
        for (let b = 0; b < B; b++) expect(Array.from(got.subarray(b * L, (b + 1) * L)), `${JSON.stringify(o)} seed ${seed}`).toEqual(want);
      }
    }
  });

  it('a fixed seed repeats exactly; different seeds differ (flat distribution)', async () => {
    const L = 16, B = 4;
    const flat = Array.from({ length: L + 1 }, () => new Float32Array(VIN * V));
    const run = (seed: number) => sampleAR(fakeAR(flat).fn, { batch: B, length: L }, { start: new Int32Array(B).fill(START), seed });
    const a = await run(5), b = await run(5), c = await run(6);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    // the items of one batch differ too, and every code occurs (64 draws over 7 codes)
    expect(Array.from(a.subarray(0, L))).not.toEqual(Array.from(a.subarray(L, 2 * L)));
    expect(new Set(a).size).toBe(V);
  });

  it('rejects a bad prefix or start', async () => {
    const { fn } = fakeAR(ruleTables(4, rule));
    await expect(sampleAR(fn, { batch: 2, length: 4 }, { start: Int32Array.of(START) })).rejects.toThrow(/start tokens/);
    await expect(sampleAR(fn, { batch: 1, length: 4 }, { start: Int32Array.of(START), prefixLength: 4, prefix: new Int32Array(4) })).rejects.toThrow(/prefix length/);
    await expect(sampleAR(fn, { batch: 1, length: 4 }, { start: Int32Array.of(START), prefixLength: 2, prefix: new Int32Array(3) })).rejects.toThrow(/prefix holds/);
  });
});

const K = 8, MASK = 8;

/** A fake full-logits function: fixed logits [B, L, K] whatever the input; counts calls. */
function fakeFull(logits: Float32Array, B: number, L: number): { fn: FullLogits; calls: () => number } {
  let n = 0;
  const fn: FullLogits = (x) => {
    expect(x.shape).toEqual([B, L]);
    n++;
    return vq.tensor(logits, [B, L, K]);
  };
  return { fn, calls: () => n };
}

/** Random logits with a clear argmax (margin ≥ 1 over the runner-up) per position. */
function peaked(rng: Rng, n: number): { logits: Float32Array; argmax: number[] } {
  const logits = new Float32Array(n * K), argmax: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.int(K);
    argmax.push(a);
    for (let k = 0; k < K; k++) logits[i * K + k] = k === a ? 3 : rng.uniform() * 2;
  }
  return { logits, argmax };
}

describe('sampleDiffusion', () => {
  it('converges to the argmax at a low temperature and stops when nothing changes', async () => {
    const B = 3, L = 13, rng = new Rng(4);
    const { logits, argmax } = peaked(rng, B * L);
    const fake = fakeFull(logits, B, L);
    const frames: [number, Int32Array][] = [];
    const r = await sampleDiffusion(fake.fn, { batch: B, length: L }, {
      steps: 20, codebook: K, temperature: 0.05, seed: 3, onStep: (s, t) => void frames.push([s, Int32Array.from(t)]),
    });
    expect(Array.from(r.tokens)).toEqual(argmax);
    // step 1 reaches the argmax, step 2 changes nothing and ends the run
    expect(r.evals).toBe(2);
    expect(fake.calls()).toBe(2);
    expect(frames.map(([s]) => s)).toEqual([0, 1, 2]);
    // step 0: uniformly random codes (not already the answer)
    const start = frames[0][1];
    expect(start.every((v) => v >= 0 && v < K)).toBe(true);
    expect(Array.from(start)).not.toEqual(argmax);
  });

  it('keeps given tokens fixed at every step; runs all steps while tokens keep changing', async () => {
    const B = 2, L = 20, steps = 6, rng = new Rng(9);
    const flat = new Float32Array(B * L * K); // uniform: tokens keep changing
    const fixedMask = Uint8Array.from({ length: B * L }, () => (rng.uniform() < 0.4 ? 1 : 0));
    const given = Int32Array.from({ length: B * L }, () => rng.int(K));
    const frames: Int32Array[] = [];
    const r = await sampleDiffusion(fakeFull(flat, B, L).fn, { batch: B, length: L }, {
      steps, codebook: K, seed: 11, fixedMask, given, onStep: (_, t) => void frames.push(Int32Array.from(t)),
    });
    expect(r.evals).toBe(steps);
    expect(frames.length).toBe(steps + 1);
    for (const [s, f] of frames.entries()) {
      for (let i = 0; i < B * L; i++) if (fixedMask[i]) expect(f[i], `step ${s}, position ${i}`).toBe(given[i]);
    }
    // the free positions did change between steps
    let changed = 0;
    for (let i = 0; i < B * L; i++) if (!fixedMask[i] && frames[1][i] !== frames[2][i]) changed++;
    expect(changed).toBeGreaterThan(0);
  });
});

/**
 * A fake denoiser like the seed's network: logits = copy·onehot(current token) + pull·onehot(target)
 * (copy > pull: it mostly predicts its input back, as a network trained to undo 10% more noise does
 * on a random grid; only the target token beats the other codes). Records every input.
 */
function copyBiased(target: Int32Array, B: number, L: number, copy: number, pull: number): { fn: FullLogits; inputs: Int32Array[] } {
  const eye = new Float32Array(K * K);
  for (let k = 0; k < K; k++) eye[k * K + k] = copy;
  const pullT = new Float32Array(B * L * K);
  for (let i = 0; i < B * L; i++) pullT[i * K + target[i]] = pull;
  const inputs: Int32Array[] = [];
  const fn: FullLogits = (x) => {
    expect(x.shape).toEqual([B, L]);
    inputs.push(new Int32Array(0)); // one entry per call
    return vq.add(vq.embedding(x, vq.tensor(eye, [K, K])), vq.tensor(pullT, [B, L, K]));
  };
  return { fn, inputs };
}

describe('sampleDiffusion: the assembling chain', () => {
  const B = 2, L = 64;
  const target = Int32Array.from({ length: B * L }, (_, i) => (i * 5 + 3) % K);
  const matches = (t: Int32Array) => t.reduce((n, v, i) => n + (v === target[i] ? 1 : 0), 0);

  it("copy-biased: the seed's settings (T 0.5, whole grid) freeze early far from the target; the defaults get there", async () => {
    const seedWay = await sampleDiffusion(copyBiased(target, B, L, 6, 2).fn, { batch: B, length: L }, { steps: 32, codebook: K, temperature: 0.5, seed: 1 });
    expect(seedWay.evals).toBeLessThanOrEqual(3);
    expect(matches(seedWay.tokens)).toBeLessThan(B * L * 0.3);
    const fake = copyBiased(target, B, L, 4, 2);
    const r = await sampleDiffusion(fake.fn, { batch: B, length: L }, { ...DIFFUSION_SAMPLER_DEFAULTS, codebook: K, seed: 1 });
    expect(r.evals).toBe(DIFFUSION_SAMPLER_DEFAULTS.steps + 1);
    expect(matches(r.tokens)).toBeGreaterThan(B * L * 0.9);
  });

  it('the defaults reach a strongly preferred target over many steps, a few positions per step', async () => {
    const fake = copyBiased(target, B, L, 0, 8);
    const frames: Int32Array[] = [];
    const r = await sampleDiffusion(fake.fn, { batch: B, length: L }, {
      ...DIFFUSION_SAMPLER_DEFAULTS, codebook: K, seed: 1, onStep: (_, t) => void frames.push(Int32Array.from(t)),
    });
    expect(Array.from(r.tokens)).toEqual(Array.from(target));
    expect(r.evals).toBe(fake.inputs.length);
    // gradual: no step changes more than ⌈changeFraction·L⌉ positions per item (the final argmax aside)
    const cap = Math.ceil(DIFFUSION_SAMPLER_DEFAULTS.changeFraction * L);
    for (let s = 1; s < frames.length - 1; s++) {
      for (let b = 0; b < B; b++) {
        let d = 0;
        for (let i = b * L; i < (b + 1) * L; i++) if (frames[s][i] !== frames[s - 1][i]) d++;
        expect(d, `step ${s}, item ${b}`).toBeLessThanOrEqual(cap);
      }
    }
    // so the chain needs ≥ (L − matches at the start)/cap steps before the argmax; it arrives before the end
    const first = frames.findIndex((f) => matches(f) === B * L);
    expect(first).toBeGreaterThanOrEqual(Math.ceil((L - matches(frames[0]) / B) / cap) - 1);
    expect(first).toBeGreaterThan(1);
    expect(first).toBeLessThan(frames.length - 1);
    expect(matches(frames[Math.floor(first / 2)])).toBeGreaterThan(matches(frames[0]) + L / 2);
  });

  it('changes the most confident positions first and respects given tokens', async () => {
    // a fake with fixed logits: positions 0..7 strongly want code 1, the rest mildly code 2
    const L1 = 32, logits = new Float32Array(L1 * K);
    for (let i = 0; i < L1; i++) logits[i * K + (i < 8 ? 1 : 2)] = i < 8 ? 30 : 3;
    const fixedMask = new Uint8Array(L1), given = new Int32Array(L1);
    fixedMask[3] = 1; given[3] = 5;
    const frames: Int32Array[] = [];
    const start: Int32Array[] = [];
    await sampleDiffusion(fakeFull(logits, 1, L1).fn, { batch: 1, length: L1 }, {
      steps: 4, codebook: K, temperature: 1, changeFraction: 0.25, minSteps: 4, seed: 3, fixedMask, given,
      onStep: (s, t) => void (s === 0 ? start : frames).push(Int32Array.from(t)),
    });
    // step 1 changes ⌈0.25·31⌉ = 8 free positions at most; the 7 free strong ones that were not already 1 come first
    const changed = [...frames[0].keys()].filter((i) => frames[0][i] !== start[0][i]);
    expect(changed.length).toBeLessThanOrEqual(8);
    for (let i = 0; i < 8; i++) if (i !== 3) expect(frames[0][i], `position ${i}`).toBe(1);
    for (const f of frames) expect(f[3]).toBe(5);
  });

  it('runs at least minSteps while nothing changes, then ends with one argmax evaluation', async () => {
    const { logits, argmax } = peaked(new Rng(12), 2 * 13);
    const fake = fakeFull(logits, 2, 13);
    const steps: number[] = [];
    const r = await sampleDiffusion(fake.fn, { batch: 2, length: 13 }, {
      steps: 30, minSteps: 9, temperature: 0.05, finalArgmax: true, codebook: K, seed: 2, onStep: (s) => void steps.push(s),
    });
    expect(Array.from(r.tokens)).toEqual(argmax);
    expect(r.evals).toBe(10); // 9 chain steps (nothing changes after the first) + the argmax
    expect(fake.calls()).toBe(10);
    expect(steps).toEqual(Array.from({ length: 11 }, (_, i) => i));
  });

  it('the temperature falls geometrically from the first to the last step', () => {
    expect(diffusionTemperature(1, 10, 2, 0.5)).toBeCloseTo(2, 12);
    expect(diffusionTemperature(10, 10, 2, 0.5)).toBeCloseTo(0.5, 12);
    for (let s = 2; s <= 10; s++) expect(diffusionTemperature(s, 10, 2, 0.5)).toBeLessThan(diffusionTemperature(s - 1, 10, 2, 0.5));
    expect(diffusionTemperature(5, 9, 1, 0.25)).toBeCloseTo(0.5, 12); // the geometric mean half-way
    expect(diffusionTemperature(1, 1, 0.7, 0.1)).toBe(0.7);
  });

  it('rejects bad options', async () => {
    const fn = fakeFull(new Float32Array(4 * K), 1, 4).fn;
    await expect(sampleDiffusion(fn, { batch: 1, length: 4 }, { steps: 2, codebook: K, changeFraction: 0 })).rejects.toThrow(/changeFraction/);
    await expect(sampleDiffusion(fn, { batch: 1, length: 4 }, { steps: 2, codebook: K, minSteps: 0 })).rejects.toThrow(/minSteps/);
    await expect(sampleDiffusion(fn, { batch: 1, length: 4 }, { steps: 2, codebook: K, temperatureEnd: 0 })).rejects.toThrow(/final temperature/);
  });
});

describe('sampleDiffusion: corrector steps', () => {
  it("re-noise about 10% of the free positions as in training, then draw x_a | x_b (a fake that copies its input)", async () => {
    const B = 2, L = 500, C = 3, target = new Int32Array(B * L);
    const fixedMask = Uint8Array.from({ length: B * L }, (_, i) => (i % L < 100 ? 1 : 0));
    const given = Int32Array.from({ length: B * L }, (_, i) => i % K);
    const frames: [number, Int32Array][] = [];
    // copy 30, pull 0: the draw returns its input, so a corrector step's change is exactly its re-noising
    const r = await sampleDiffusion(copyBiased(target, B, L, 30, 0).fn, { batch: B, length: L }, {
      steps: 2, minSteps: 2, codebook: K, seed: 5, correctorSteps: C, finalArgmax: true, fixedMask, given,
      onStep: (s, t) => void frames.push([s, Int32Array.from(t)]),
    });
    expect(r.evals).toBe(2 + C + 1);
    expect(frames.map(([s]) => s)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const free = B * (L - 100), expected = free * 0.1 * (1 - 1 / K);
    for (let c = 3; c < 3 + C; c++) {
      let d = 0;
      for (let i = 0; i < B * L; i++) {
        if (fixedMask[i]) expect(frames[c][1][i]).toBe(given[i]);
        else if (frames[c][1][i] !== frames[c - 1][1][i]) d++;
      }
      expect(d, `corrector step ${c - 2}`).toBeGreaterThan(expected * 0.6);
      expect(d, `corrector step ${c - 2}`).toBeLessThan(expected * 1.4);
    }
    expect(Array.from(frames[6][1])).toEqual(Array.from(frames[5][1])); // the argmax of a copying net keeps its input
  });

  it('a network sure of its answer is followed from any re-noised grid; bad options are refused', async () => {
    const { logits, argmax } = peaked(new Rng(21), 3 * 16);
    for (let i = 0; i < logits.length; i++) logits[i] *= 10; // near-deterministic at temperature 1
    const fake = fakeFull(logits, 3, 16);
    const r = await sampleDiffusion(fake.fn, { batch: 3, length: 16 }, { steps: 1, codebook: K, seed: 4, temperature: 1, correctorSteps: 4 });
    expect(Array.from(r.tokens)).toEqual(argmax);
    expect(r.evals).toBe(5);
    expect(fake.calls()).toBe(5);
    const fn = fakeFull(new Float32Array(4 * K), 1, 4).fn;
    await expect(sampleDiffusion(fn, { batch: 1, length: 4 }, { steps: 2, codebook: K, correctorSteps: -1 })).rejects.toThrow(/correctorSteps/);
    await expect(sampleDiffusion(fn, { batch: 1, length: 4 }, { steps: 2, codebook: K, correctorSteps: 1, correctorNoise: 0 })).rejects.toThrow(/correctorNoise/);
  });
});

describe('sampleMask', () => {
  /** Masked count per sequence in a frame. */
  const maskedPer = (t: Int32Array, B: number, L: number) =>
    Array.from({ length: B }, (_, b) => t.subarray(b * L, (b + 1) * L).reduce((n, v) => n + (v === MASK ? 1 : 0), 0));

  it('unmasks on the cosine schedule, never touches given tokens, and ends fully unmasked', async () => {
    const B = 3, L = 37, S = 7, rng = new Rng(2);
    const { logits } = peaked(rng, B * L);
    // item 1 has 9 given tokens
    const fixedMask = new Uint8Array(B * L), given = new Int32Array(B * L);
    for (let i = 0; i < 9; i++) { const p = L + rng.int(L); fixedMask[p] = 1; given[p] = rng.int(K); }
    const free = [0, 1, 2].map((b) => L - fixedMask.subarray(b * L, (b + 1) * L).reduce((a, v) => a + v, 0));
    const frames: [number, Int32Array][] = [];
    const fake = fakeFull(logits, B, L);
    const r = await sampleMask(fake.fn, { batch: B, length: L }, {
      steps: S, codebook: K, maskToken: MASK, seed: 5, fixedMask, given, onStep: (s, t) => void frames.push([s, Int32Array.from(t)]),
    });
    expect(r.evals).toBe(S);
    expect(fake.calls()).toBe(S);
    expect(frames.map(([s]) => s)).toEqual(Array.from({ length: S + 1 }, (_, s) => s));
    for (const [s, f] of frames) {
      expect(maskedPer(f, B, L), `step ${s}`).toEqual(free.map((n) => masksAfter(s, S, n)));
      for (let i = 0; i < B * L; i++) if (fixedMask[i]) expect(f[i]).toBe(given[i]);
    }
    // an unmasked token never changes again
    for (let s = 1; s <= S; s++) {
      for (let i = 0; i < B * L; i++) if (frames[s - 1][1][i] !== MASK) expect(frames[s][1][i]).toBe(frames[s - 1][1][i]);
    }
    expect(r.tokens.every((v) => v >= 0 && v < K)).toBe(true);
  });

  it('unmasks at least one token per step; stops early once all are unmasked', async () => {
    const B = 2, L = 16, S = 40;
    const { logits } = peaked(new Rng(3), B * L);
    const frames: Int32Array[] = [];
    const r = await sampleMask(fakeFull(logits, B, L).fn, { batch: B, length: L }, {
      steps: S, codebook: K, maskToken: MASK, seed: 1, onStep: (_, t) => void frames.push(Int32Array.from(t)),
    });
    // ⌊16·cos(π/2·s/40)⌋ falls by less than one per step early on, so every step unmasks exactly
    // one token and the run ends after L = 16 evaluations, not S = 40.
    expect(masksAfter(1, S, L)).toBe(L - 1);
    expect(masksAfter(2, S, L)).toBe(L - 1);
    expect(r.evals).toBe(L);
    for (let s = 1; s < frames.length; s++) {
      const before = maskedPer(frames[s - 1], B, L), after = maskedPer(frames[s], B, L);
      for (let b = 0; b < B; b++) {
        expect(after[b]).toBe(Math.min(before[b] - 1, masksAfter(s, S, L)));
      }
    }
    expect(r.tokens.includes(MASK)).toBe(false);
  });

  it('unmasks the most confident positions first (no confidence noise)', async () => {
    // 8 sharply peaked positions (log p ≈ 0) and 8 flat ones (log p = −ln 8): step 1 of 2 unmasks
    // 16 − ⌊16·cos(π/4)⌋ = 5 positions, all peaked.
    const L = 16, rng = new Rng(6);
    const logits = new Float32Array(L * K), peakedAt = new Set<number>();
    while (peakedAt.size < 8) peakedAt.add(rng.int(L));
    for (const i of peakedAt) logits[i * K + rng.int(K)] = 40;
    const frames: Int32Array[] = [];
    await sampleMask(fakeFull(logits, 1, L).fn, { batch: 1, length: L }, {
      steps: 2, codebook: K, maskToken: MASK, seed: 2, confidenceTemperature: 0, onStep: (_, t) => void frames.push(Int32Array.from(t)),
    });
    const unmasked = [...frames[1].keys()].filter((i) => frames[1][i] !== MASK);
    expect(unmasked.length).toBe(5);
    for (const i of unmasked) expect(peakedAt.has(i), `position ${i}`).toBe(true);
  });
});
