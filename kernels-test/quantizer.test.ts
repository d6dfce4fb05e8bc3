// The vector quantizer (src/models/tokenizer/quantizer.ts) against float64 host references
// (quantizer.reference.ts, reference-codebook.ts): nearest codes, the quantized output, the
// straight-through gradient, the commitment and codebook losses and their gradients, the EMA
// codebook update (vq_ema_*.wgsl) over one and two steps, dead-code restarts, and usage statistics.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import type { QuantizerConfig } from '../src/models/tokenizer/config.js';
import { usageStats, VectorQuantizer, type QuantizerOutput } from '../src/models/tokenizer/quantizer.js';
import { firstMismatch, Rng } from './reference.js';
import * as cb from './reference-codebook.js';
import * as ref from './quantizer.reference.js';

beforeAll(async () => {
  await vq.init();
});

const BASE: QuantizerConfig = { beta: 0.25, ema: true, decay: 0.99, eps: 1e-5, l2norm: false, restartBelow: 0.03 };

function quantizer(K: number, D: number, cfg: Partial<QuantizerConfig> = {}): VectorQuantizer {
  return new VectorQuantizer(K, D, { ...BASE, ...cfg });
}

/** Overwrites the quantizer's state tensors ('codebook', 'ema_count', 'ema_sum') with host values. */
function setState(q: VectorQuantizer, values: Record<string, ArrayLike<number>>): void {
  const state = q.stateDict();
  vq.tidy(() => {
    for (const [k, v] of Object.entries(values)) vq.copyInto(vq.tensor(Float32Array.from(v), state[k].shape), state[k]);
  });
}

async function readState(q: VectorQuantizer): Promise<Record<string, Float32Array>> {
  const entries = Object.entries(q.stateDict());
  const data = await Promise.all(entries.map(([, t]) => t.toArray()));
  return Object.fromEntries(entries.map(([k], i) => [k, data[i] as Float32Array]));
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, label: string, atol = 1e-6, rtol = 1e-5): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  const i = firstMismatch(got, want, atol, rtol);
  if (i >= 0) expect.fail(`${label}: element ${i} is ${got[i]}, expected ${want[i]}`);
}

/** The chosen codes are nearest up to f32 rounding of the kernel's scores (see codebook.test.ts). */
function expectNearest(index: ArrayLike<number>, z: ArrayLike<number>, E: ArrayLike<number>, K: number, D: number, label: string): void {
  const M = index.length;
  const want = cb.nearestCode(z, E, M, K, D);
  for (let m = 0; m < M; m++) {
    const k = index[m];
    expect(k >= 0 && k < K, `${label}: index ${k} out of range`).toBe(true);
    const d = cb.sqDist(z, m, E, k, D);
    if (d > want.dist[m] + 1e-5 * (1 + want.dist[m])) expect.fail(`${label}: vector ${m} chose code ${k} at ${d}; code ${want.index[m]} is at ${want.dist[m]}`);
  }
}

interface Forward {
  zq: Float32Array;
  indices: Int32Array;
  loss: number;
  gathered: Float32Array;
  counts?: Float32Array;
  sums?: Float32Array;
}

/** q.forward(ze) in a scope; reads back zq, indices, loss and permute(gatherRows(codebook, indices)). */
async function forward(q: VectorQuantizer, ze: vq.Tensor, stats = false): Promise<Forward> {
  const r = vq.tidy(() => {
    const out = q.forward(ze, stats);
    const gathered = vq.permute(vq.gatherRows(q.codebook, out.indices), [0, 3, 1, 2]);
    return [out.zq, out.indices, out.loss, gathered, ...(out.counts ? [out.counts, out.sums!] : [])].map((t) => t.keepAlive());
  });
  const d = await Promise.all(r.map((t) => t.toArray()));
  for (const t of r) t.dispose();
  return {
    zq: d[0] as Float32Array, indices: d[1] as Int32Array, loss: d[2][0], gathered: d[3] as Float32Array,
    counts: d[4] as Float32Array | undefined, sums: d[5] as Float32Array | undefined,
  };
}

describe('VectorQuantizer forward', () => {
  const N = 2, D = 5, G = 3, K = 13, M = N * G * G;

  it('indices are the nearest codes, zq holds their rows, the loss is β·mean((z_e − q)²), stats match', async () => {
    const rng = new Rng(11);
    const q = quantizer(K, D, { beta: 0.3 });
    const E = Float32Array.from(rng.array(K * D));
    setState(q, { codebook: E });
    const zeHost = Float32Array.from(rng.array(N * D * G * G));
    const ze = vq.tensor(zeHost, [N, D, G, G]);
    const f = await forward(q, ze, true);
    const flat = ref.flattenNCHW(zeHost, N, D, G);
    expectNearest(f.indices, flat, E, K, D, 'EMA mode');
    // zq = z_e + (q − z_e) in f32: the code rows up to one rounding.
    const want = ref.unflattenNCHW(cb.gatherRows(E, f.indices, D), N, D, G);
    expectClose(f.zq, want, 'zq vs the codebook rows', 1e-6, 1e-6);
    expectClose(f.zq, f.gathered, 'zq vs permute(gatherRows(codebook, indices))', 1e-6, 1e-6);
    expectClose([f.loss], [0.3 * ref.meanSquaredError(flat, E, f.indices, D)], 'commitment loss');
    const st = cb.codeStats(flat, f.indices, M, K, D);
    expectClose(f.counts!, st.counts, 'counts');
    expectClose(f.sums!, st.sums, 'sums', 1e-5);
    ze.dispose();
    q.dispose();
  });

  it('clustered data: indices equal the brute-force nearest codes exactly', async () => {
    const rng = new Rng(12);
    const q = quantizer(K, D);
    // Well-separated codes (first coordinate 3k) and vectors close to a random code each.
    const E = Float32Array.from({ length: K * D }, (_, i) => (i % D === 0 ? 3 * (i / D) : rng.normal()));
    const truth = Int32Array.from({ length: M }, () => rng.int(K));
    const flat = Float64Array.from({ length: M * D }, (_, i) => E[truth[Math.floor(i / D)] * D + (i % D)] + 0.1 * (rng.uniform() - 0.5));
    setState(q, { codebook: E });
    const ze = vq.tensor(Float32Array.from(ref.unflattenNCHW(flat, N, D, G)), [N, D, G, G]);
    const f = await forward(q, ze);
    expect(Array.from(f.indices)).toEqual(Array.from(truth));
    expect(Array.from(f.indices)).toEqual(Array.from(cb.nearestCode(Float32Array.from(flat), E, M, K, D).index));
    ze.dispose();
    q.dispose();
  });

  it('straight-through: d(sum(zq · R))/d z_e = R exactly; the EMA codebook gets no gradient', async () => {
    const rng = new Rng(13);
    const q = quantizer(K, D);
    const ze = vq.tensor(rng.array(N * D * G * G), [N, D, G, G]);
    ze.requiresGrad = true;
    const R = Float32Array.from(rng.array(N * D * G * G));
    vq.tidy(() => {
      const out = q.forward(ze);
      vq.backward(vq.sum(vq.mul(out.zq, vq.tensor(R, [N, D, G, G]))));
    });
    expect(Array.from(await ze.grad!.toArray())).toEqual(Array.from(R));
    expect(q.codebook.requiresGrad).toBe(false);
    expect(q.codebook.grad).toBeNull();
    expect(q.parameters()).toEqual([]);
    ze.grad!.dispose();
    ze.dispose();
    q.dispose();
  });

  it('rotation trick: the value is the code; d(sum(zq · R))/d z_e = λ·Rotᵀ·R per vector (float64 reference)', async () => {
    const rng = new Rng(14);
    const q = quantizer(K, D, { estimator: 'rotation' });
    const E = Float32Array.from(rng.array(K * D));
    setState(q, { codebook: E });
    const zeHost = Float32Array.from(rng.array(N * D * G * G));
    const ze = vq.tensor(zeHost, [N, D, G, G]);
    ze.requiresGrad = true;
    const R = Float32Array.from(rng.array(N * D * G * G));
    const [zq, idx] = vq.tidy(() => {
      const out = q.forward(ze);
      vq.backward(vq.sum(vq.mul(out.zq, vq.tensor(R, [N, D, G, G]))));
      return [out.zq.keepAlive(), out.indices.keepAlive()];
    });
    const indices = (await idx.toArray()) as Int32Array;
    const flat = ref.flattenNCHW(zeHost, N, D, G), gflat = ref.flattenNCHW(R, N, D, G);
    expectClose(await zq.toArray(), ref.unflattenNCHW(cb.gatherRows(E, indices, D), N, D, G), 'zq = the code rows', 1e-5, 1e-4);
    // Per vector: Rot = I − 2·r·rᵀ + 2·q̂·ẑᵀ (r = (ẑ + q̂)/‖ẑ + q̂‖), λ = ‖q‖/‖z‖; grad = λ·Rotᵀ·g.
    const want = new Float64Array(M * D);
    for (let m = 0; m < M; m++) {
      const z = Array.from({ length: D }, (_, c) => flat[m * D + c]);
      const c0 = Array.from({ length: D }, (_, c) => E[indices[m] * D + c]);
      const g = Array.from({ length: D }, (_, c) => gflat[m * D + c]);
      const norm = (v: number[]) => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
      const zh = z.map((x) => x / norm(z)), qh = c0.map((x) => x / norm(c0));
      const w = zh.map((x, c) => x + qh[c]);
      const r = w.map((x) => x / norm(w));
      const lambda = norm(c0) / norm(z);
      // Rotᵀ·g = g − 2·r·(r·g) + 2·ẑ·(q̂·g)
      const rg = r.reduce((a, x, c) => a + x * g[c], 0), qg = qh.reduce((a, x, c) => a + x * g[c], 0);
      for (let c = 0; c < D; c++) want[m * D + c] = lambda * (g[c] - 2 * r[c] * rg + 2 * zh[c] * qg);
      // Rot·ẑ = q̂: the rotation takes the encoder output's direction onto the code's.
      const rz = r.reduce((a, x, c) => a + x * zh[c], 0), ez = zh.reduce((a, x) => a + x * x, 0);
      for (let c = 0; c < D; c++) expect(Math.abs(zh[c] - 2 * r[c] * rz + 2 * qh[c] * ez - qh[c])).toBeLessThan(1e-9);
    }
    expectClose(await ze.grad!.toArray(), ref.unflattenNCHW(want, N, D, G), 'rotated gradient', 1e-5, 1e-4);
    // Not the straight-through gradient.
    expect(firstMismatch(await ze.grad!.toArray(), R, 1e-3, 1e-3)).toBeGreaterThanOrEqual(0);
    for (const t of [zq, idx, ze.grad!, ze]) t.dispose();
    q.dispose();
  });

  it('learned codebook (ema false): loss (1+β)·mean((z_e − q)²); codebook and encoder gradients match the reference', async () => {
    const rng = new Rng(14);
    const beta = 0.4;
    const q = quantizer(K, D, { ema: false, beta });
    expect(q.parameters()).toEqual([q.codebook]);
    const E = Float32Array.from(rng.array(K * D));
    setState(q, { codebook: E });
    const zeHost = Float32Array.from(rng.array(N * D * G * G));
    const ze = vq.tensor(zeHost, [N, D, G, G]);
    ze.requiresGrad = true;
    const idx = vq.tidy(() => {
      const out = q.forward(ze);
      expect(out.counts).toBeUndefined(); // no statistics unless asked in learned mode
      vq.backward(out.loss);
      return [out.loss, out.indices].map((t) => t.keepAlive());
    });
    const [lossArr, indices, dE, dze] = await Promise.all([idx[0].toArray(), idx[1].toArray(), q.codebook.grad!.toArray(), ze.grad!.toArray()]);
    const flat = ref.flattenNCHW(zeHost, N, D, G);
    const mse = ref.meanSquaredError(flat, E, indices, D);
    expectClose(lossArr, [(1 + beta) * mse], 'loss');
    const g = ref.mseGrads(flat, E, indices, K, D);
    expectClose(dE, g.dE, 'codebook gradient');
    expectClose(dze, ref.unflattenNCHW(g.dz.map((v) => beta * v), N, D, G), 'encoder gradient (commitment only)');
    for (const t of idx) t.dispose();
    ze.grad!.dispose();
    ze.dispose();
    q.dispose();
  });
});

describe('VectorQuantizer EMA update', () => {
  const N = 2, D = 4, G = 3, K = 7, M = N * G * G;

  /** forward + emaUpdate in one scope; returns the batch's host rows and indices. */
  async function emaStep(q: VectorQuantizer, zeHost: Float32Array, restart: boolean, seed: number): Promise<{ flat: Float64Array; indices: Int32Array }> {
    const ze = vq.tensor(zeHost, [N, D, G, G]);
    const indices = vq.tidy(() => {
      const out: QuantizerOutput = q.forward(ze);
      q.emaUpdate(out, restart, seed);
      return out.indices.keepAlive();
    });
    const idx = (await indices.toArray()) as Int32Array;
    indices.dispose();
    ze.dispose();
    return { flat: ref.flattenNCHW(zeHost, N, D, G), indices: idx };
  }

  it('follows N ← dN + (1−d)c, m ← dm + (1−d)s, E = m / Laplace-smoothed N for two steps', async () => {
    const rng = new Rng(21);
    const decay = 0.8, eps = 0.5; // large ε so that the smoothing is visible at f32 tolerance
    const q = quantizer(K, D, { decay, eps });
    let s: ref.EmaState = {
      codebook: Float64Array.from(Float32Array.from(rng.array(K * D))),
      count: Float64Array.from(Float32Array.from({ length: K }, () => 0.5 + 2 * rng.uniform())),
      sum: Float64Array.from(Float32Array.from(rng.array(K * D))),
    };
    s.count[K - 1] = Math.fround(0.01); // below restartBelow, but restarts are off this test
    setState(q, { codebook: s.codebook, ema_count: s.count, ema_sum: s.sum });
    for (let step = 0; step < 2; step++) {
      const zeHost = Float32Array.from(rng.array(N * D * G * G));
      const { flat, indices } = await emaStep(q, zeHost, false, step);
      expectNearest(indices, flat, s.codebook, K, D, `step ${step}`);
      const st = cb.codeStats(flat, indices, M, K, D);
      const want = ref.emaStep(s, st.counts, st.sums, K, D, decay, eps);
      const got = await readState(q);
      expectClose(got.ema_count, want.count, `step ${step}: ema_count`);
      expectClose(got.ema_sum, want.sum, `step ${step}: ema_sum`);
      expectClose(got.codebook, want.codebook, `step ${step}: codebook`, 1e-5, 1e-5);
      s = { count: Float64Array.from(got.ema_count), sum: Float64Array.from(got.ema_sum), codebook: Float64Array.from(got.codebook) };
    }
    q.dispose();
  });

  it('restarts dead codes onto rows of this batch (count 1); live codes follow the EMA formula', async () => {
    const rng = new Rng(22);
    const decay = 0.9, eps = 1e-3, restartBelow = 0.5;
    const q = quantizer(K, D, { decay, eps, restartBelow });
    const E = Float32Array.from(rng.array(K * D));
    const dead = [2, 5];
    for (const k of dead) for (let d = 0; d < D; d++) E[k * D + d] = 100 + k; // far from every input
    const s: ref.EmaState = {
      codebook: Float64Array.from(E),
      count: Float64Array.from({ length: K }, (_, k) => (dead.includes(k) ? Math.fround(0.01) : 1)),
      sum: Float64Array.from(E),
    };
    setState(q, { codebook: s.codebook, ema_count: s.count, ema_sum: s.sum });
    const zeHost = Float32Array.from(rng.array(N * D * G * G));
    const { flat, indices } = await emaStep(q, zeHost, true, 1234);
    for (const k of dead) expect(indices.includes(k)).toBe(false);
    const st = cb.codeStats(flat, indices, M, K, D);
    const want = ref.emaStep(s, st.counts, st.sums, K, D, decay, eps, restartBelow);
    expect(want.restarted).toEqual(dead);
    const got = await readState(q);
    const flat32 = Float32Array.from(flat);
    for (const k of dead) {
      const row = Array.from(got.codebook.subarray(k * D, (k + 1) * D));
      const at = Array.from({ length: M }, (_, m) => m).filter((m) => row.every((v, d) => v === flat32[m * D + d]));
      expect(at.length, `restarted code ${k} = [${row}] is not a row of the batch`).toBeGreaterThan(0);
      expect(got.ema_count[k]).toBe(1);
      expect(Array.from(got.ema_sum.subarray(k * D, (k + 1) * D))).toEqual(row);
    }
    for (let k = 0; k < K; k++) {
      if (dead.includes(k)) continue;
      expectClose([got.ema_count[k]], [want.count[k]], `live code ${k}: count`);
      expectClose(got.ema_sum.subarray(k * D, (k + 1) * D), want.sum.subarray(k * D, (k + 1) * D), `live code ${k}: sum`);
      expectClose(got.codebook.subarray(k * D, (k + 1) * D), want.codebook.subarray(k * D, (k + 1) * D), `live code ${k}: row`, 1e-5);
    }
    q.dispose();
  });

  it('without restart, an unused code keeps decaying and is not moved', async () => {
    const rng = new Rng(23);
    const q = quantizer(K, D, { decay: 0.9, restartBelow: 0.5 });
    const E = Float32Array.from(rng.array(K * D));
    for (let d = 0; d < D; d++) E[3 * D + d] = 50;
    setState(q, { codebook: E, ema_count: Array.from({ length: K }, (_, k) => (k === 3 ? 0.01 : 1)), ema_sum: E });
    await emaStep(q, Float32Array.from(rng.array(N * D * G * G)), false, 0);
    const got = await readState(q);
    expectClose([got.ema_count[3]], [0.009], 'decayed count');
    // m/Ñ with a tiny count: the row grows instead of jumping to a batch vector
    expect(got.codebook[3 * D]).toBeGreaterThan(50);
    q.dispose();
  });

  it('usage: takeUsage counts the assignments since the last call and resets; eval without stats counts nothing', async () => {
    const rng = new Rng(24);
    const q = quantizer(K, D);
    const hist = new Float64Array(K);
    for (let b = 0; b < 2; b++) {
      const zeHost = Float32Array.from(rng.array(N * D * G * G));
      const ze = vq.tensor(zeHost, [N, D, G, G]);
      const f = await forward(q, ze);
      for (const i of f.indices) hist[i]++;
      ze.dispose();
    }
    const u = await q.takeUsage();
    expect(Array.from(u)).toEqual(Array.from(hist));
    expect(u.reduce((a, b) => a + b, 0)).toBe(2 * M);
    expect(Array.from(await q.takeUsage())).toEqual(new Array(K).fill(0));
    q.eval();
    const ze = vq.tensor(rng.array(N * D * G * G), [N, D, G, G]);
    await forward(q, ze);
    expect(Array.from(await q.takeUsage())).toEqual(new Array(K).fill(0));
    const f = await forward(q, ze, true);
    const u2 = await q.takeUsage();
    expect(u2.reduce((a, b) => a + b, 0)).toBe(M);
    expect(Array.from(u2)).toEqual(Array.from(f.counts!));
    ze.dispose();
    q.dispose();
  });

  it('usageStats: fraction of codes used and the perplexity exp(H)', () => {
    const a = usageStats(Float32Array.from([2, 2, 0, 0]));
    expect(a.usage).toBe(0.5);
    expect(a.perplexity).toBeCloseTo(2, 10);
    const b = usageStats(Float32Array.from([3, 3, 3, 3]));
    expect(b.usage).toBe(1);
    expect(b.perplexity).toBeCloseTo(4, 10);
    const c = usageStats(Float32Array.from([7, 0, 0, 0, 0]));
    expect(c.usage).toBe(0.2);
    expect(c.perplexity).toBeCloseTo(1, 10);
    const p = [1, 2, 5].map((v) => v / 8);
    expect(usageStats(Float32Array.from([1, 2, 5, 0])).perplexity).toBeCloseTo(Math.exp(-p.reduce((h, x) => h + x * Math.log(x), 0)), 10);
  });
});
