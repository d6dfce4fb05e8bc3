// sample_filter.wgsl (filterLogits): temperature, top-k and top-p against the sorting reference,
// on awkward vocabularies (1, 2, 7, and more than one workgroup's worth of columns), ties, and very
// negative (already-masked) logits.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { filterLogits, type FilterOptions } from '../src/sample/filter.js';
import { Rng } from './reference.js';
import { CUT, sampleFilter } from './sample_filter.reference.js';

beforeAll(async () => {
  await vq.init();
});

async function filtered(x: Float32Array, N: number, V: number, o: FilterOptions): Promise<Float32Array> {
  const y = vq.tidy(() => filterLogits(vq.tensor(x, [N, V]), o).keepAlive());
  expect(y.shape).toEqual([N, V]);
  const out = (await y.toArray()) as Float32Array;
  y.dispose();
  return out;
}

/** Same kept set as the reference, kept values equal (rows the reference marks ambiguous: skipped). */
function compareRows(got: Float32Array, x: Float32Array, N: number, V: number, o: FilterOptions, label: string): number {
  const { y: want, ambiguous } = sampleFilter(x, N, V, o);
  for (let r = 0; r < N; r++) {
    if (ambiguous.has(r)) continue;
    for (let i = r * V; i < (r + 1) * V; i++) {
      const keptGot = got[i] > CUT / 2, keptWant = want[i] > CUT / 2;
      if (keptGot !== keptWant) expect.fail(`${label}: row ${r}, column ${i - r * V} (value ${x[i]}): ${keptGot ? 'kept' : 'cut'}, reference ${keptWant ? 'keeps' : 'cuts'} it`);
      if (keptWant && !(Math.abs(got[i] - want[i]) <= 1e-6 * Math.max(1, Math.abs(want[i])))) expect.fail(`${label}: row ${r}, column ${i - r * V}: ${got[i]}, expected ${want[i]}`);
    }
  }
  return ambiguous.size;
}

const OPTIONS: FilterOptions[] = [
  {},
  { temperature: 0.7 },
  { temperature: 3 },
  { topK: 1 },
  { topK: 3 },
  { topK: 1000 },
  { topK: 1005 },
  { topP: 0.9 },
  { topP: 0.3 },
  { topP: 1e-6 },
  { temperature: 1.7, topK: 5, topP: 0.6 },
  { temperature: 0.5, topK: 40, topP: 0.95 },
];

describe('sample_filter', () => {
  it('matches the sorting reference on random rows (V = 1, 2, 7, 1000)', async () => {
    const rng = new Rng(12);
    let skipped = 0, rows = 0;
    for (const V of [1, 2, 7, 1000]) {
      const N = 5;
      const x = rng.array(N * V, 3);
      for (const o of OPTIONS) {
        skipped += compareRows(await filtered(x, N, V, o), x, N, V, o, `V ${V} ${JSON.stringify(o)}`);
        rows += N;
      }
    }
    expect(skipped, 'ambiguous rows').toBeLessThan(rows / 20);
  });

  it('top-k keeps exactly the k largest of distinct values, all ties at the threshold', async () => {
    const V = 300, rng = new Rng(3);
    // a permutation of 0..V−1: distinct values
    const perm = Array.from({ length: V }, (_, i) => i);
    for (let i = V - 1; i > 0; i--) { const j = rng.int(i + 1); [perm[i], perm[j]] = [perm[j], perm[i]]; }
    const x = Float32Array.from(perm, (p) => p / 10);
    for (const k of [1, 2, 17, 299]) {
      const y = await filtered(x, 1, V, { topK: k });
      const kept = [...y.keys()].filter((i) => y[i] > CUT / 2);
      expect(kept.length, `k ${k}`).toBe(k);
      for (const i of kept) expect(perm[i]).toBeGreaterThanOrEqual(V - k);
    }
    // ties: the three 2s all stay with k = 2; with k = 4 the 1 joins them
    const tie = Float32Array.of(1, 2, 2, 0, 2);
    expect(Array.from(await filtered(tie, 1, 5, { topK: 2 }))).toEqual([CUT, 2, 2, CUT, 2].map(Math.fround));
    expect(Array.from(await filtered(tie, 1, 5, { topK: 4 }))).toEqual([1, 2, 2, CUT, 2].map(Math.fround));
    // equal logits under top-p: all tie, all stay
    expect(Array.from(await filtered(new Float32Array(6), 1, 6, { topP: 0.2 }))).toEqual(new Array(6).fill(0));
  });

  it('top-p keeps the smallest set with mass ≥ p', async () => {
    // probabilities 0.5, 0.25, 0.125, 0.125 (logits = ln p)
    const probs = [0.125, 0.5, 0.125, 0.25];
    const x = Float32Array.from(probs, Math.log);
    const kept = async (p: number) => {
      const y = await filtered(x, 1, 4, { topP: p });
      return [...y.keys()].filter((i) => y[i] > CUT / 2);
    };
    expect(await kept(0.4)).toEqual([1]);
    expect(await kept(0.6)).toEqual([1, 3]);
    expect(await kept(0.74)).toEqual([1, 3]);
    expect(await kept(0.8)).toEqual([0, 1, 2, 3]); // the two 0.125s tie
  });

  it('is exact when some logits are already masked (very negative)', async () => {
    const V = 9;
    const x = Float32Array.of(0.3, -1e30, 1.2, 0.9, -1e30, 0.1, 1.1, -3e38, 0.95);
    for (const o of [{ topK: 3 }, { topK: 1 }, { topP: 0.5 }, { topK: 4, topP: 0.9, temperature: 0.8 }]) {
      compareRows(await filtered(x, 1, V, o), x, 1, V, o, `masked row ${JSON.stringify(o)}`);
    }
  });

  it('passes the logits through where nothing is scaled or cut, as a dense [N, V] (a transposed view too)', async () => {
    const rng = new Rng(5);
    const [N, V] = [3, 7];
    const xt = rng.array(V * N, 3); // stored [V, N], viewed as [N, V]
    const want = new Float32Array(N * V);
    for (let r = 0; r < N; r++) for (let c = 0; c < V; c++) want[r * V + c] = xt[c * N + r];
    for (const o of [{}, { temperature: 1, topK: 0, topP: 1 }, { topK: V }]) {
      const y = filterLogits(vq.transpose(vq.tensor(xt, [V, N])), o);
      expect(y.shape).toEqual([N, V]);
      expect(y.isContiguous).toBe(true);
      expect(Array.from((await y.toArray()) as Float32Array), JSON.stringify(o)).toEqual(Array.from(want));
      y.dispose();
    }
  });

  it('rejects bad options', () => {
    vq.tidy(() => {
      const x = vq.zeros([2, 3]);
      expect(() => filterLogits(x, { temperature: 0 })).toThrow(/temperature/);
      expect(() => filterLogits(x, { topK: 1.5 })).toThrow(/top-k/);
      expect(() => filterLogits(x, { topP: 0 })).toThrow(/top-p/);
      expect(() => filterLogits(vq.zeros([6]), {})).toThrow(/\[N, V\]/);
    });
  });
});
