// The transformer backbone: causality of the mask, batch independence, and the key/value-cache
// decoding path (forwardCached) against the full forward pass.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import type { TransformerConfig } from '../src/models/transformer/config.js';
import { disposeCache, Transformer } from '../src/models/transformer/transformer.js';
import { manualSeed } from '../src/nn/init.js';
import { firstMismatch, Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

// vocab 11, 9 positions (odd, not a power of two), 2 layers, 2 heads of 8.
function model(causal: boolean, seed = 3): Transformer {
  manualSeed(seed);
  const c: TransformerConfig = {
    kind: 'vqgpu-transformer', version: 1, vocabIn: 11, vocabOut: 7, seqLen: 9,
    dim: 16, layers: 2, heads: 2, mlpRatio: 4, dropout: 0, causal,
  };
  const m = new Transformer(c);
  m.eval();
  return m;
}

function randomTokens(rng: Rng, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(vocab));
}

/** tokens [B, T] → logits [B, T, V] on the host (no autograd). */
async function logitsOf(m: Transformer, tokens: Int32Array, B: number): Promise<Float32Array> {
  const t = vq.noGrad(() => vq.tidy(() => m.forward(vq.tensor(tokens, [B, tokens.length / B])).keepAlive()));
  const out = (await t.toArray()) as Float32Array;
  t.dispose();
  return out;
}

/** Max |a − b| over the logits of position range [t0, t1) of item b. */
function maxDiff(a: Float32Array, b: Float32Array, item: number, t0: number, t1: number, T: number, V: number): number {
  let m = 0;
  for (let t = t0; t < t1; t++) for (let v = 0; v < V; v++) {
    const i = (item * T + t) * V + v;
    m = Math.max(m, Math.abs(a[i] - b[i]));
  }
  return m;
}

function disposeModel(m: Transformer): void {
  for (const p of m.parameters()) p.dispose();
}

describe('transformer', () => {
  it('causal: changing token t leaves positions < t unchanged and changes positions ≥ t', async () => {
    const m = model(true);
    const B = 2, T = 9, V = 7, rng = new Rng(5);
    const x = randomTokens(rng, B * T, 11);
    const base = await logitsOf(m, x, B);
    for (const t of [0, 4, 8]) {
      const y = Int32Array.from(x);
      y[t] = (y[t] + 1 + rng.int(10)) % 11; // item 0 only
      const got = await logitsOf(m, y, B);
      expect(maxDiff(got, base, 0, 0, t, T, V), `positions < ${t}`).toBeLessThanOrEqual(1e-6);
      for (let s = t; s < T; s++) expect(maxDiff(got, base, 0, s, s + 1, T, V), `position ${s} ≥ ${t}`).toBeGreaterThan(1e-4);
      // the other item of the batch is untouched
      expect(maxDiff(got, base, 1, 0, T, T, V), 'item 1').toBeLessThanOrEqual(1e-6);
    }
    disposeModel(m);
  });

  it('bidirectional: changing token t changes earlier positions too', async () => {
    const m = model(false);
    const B = 2, T = 9, V = 7, rng = new Rng(6);
    const x = randomTokens(rng, B * T, 11);
    const base = await logitsOf(m, x, B);
    const y = Int32Array.from(x);
    y[6] = (y[6] + 3) % 11;
    const got = await logitsOf(m, y, B);
    for (let s = 0; s < T; s++) expect(maxDiff(got, base, 0, s, s + 1, T, V), `position ${s}`).toBeGreaterThan(1e-4);
    expect(maxDiff(got, base, 1, 0, T, T, V), 'item 1').toBeLessThanOrEqual(1e-6);
    expect(() => vq.tidy(() => m.forwardCached(vq.tensor(new Int32Array(2), [2, 1]), [], 0))).toThrow(/causal/);
    disposeModel(m);
  });

  // Decoding schedules over T = 9 positions: one token per call, and a prefill chunk then single steps.
  const SCHEDULES: [string, number[]][] = [
    ['one token per call', [1, 1, 1, 1, 1, 1, 1, 1, 1]],
    ['prefill 4, then single steps', [4, 1, 1, 1, 1, 1]],
    ['chunks 2, 3, 1, 3', [2, 3, 1, 3]],
  ];

  it.each(SCHEDULES)('cached decoding equals the full forward (B = 3): %s', async (_, chunks) => {
    const m = model(true, 11);
    const B = 3, T = 9, V = 7, rng = new Rng(7);
    const x = randomTokens(rng, B * T, 11);
    const want = await logitsOf(m, x, B);
    const got = new Float32Array(B * T * V);
    const cache = m.newCache(B);
    try {
      let pos = 0;
      for (const n of chunks) {
        const chunk = new Int32Array(B * n);
        for (let b = 0; b < B; b++) chunk.set(x.subarray(b * T + pos, b * T + pos + n), b * n);
        const lg = vq.noGrad(() => vq.tidy(() => m.forwardCached(vq.tensor(chunk, [B, n]), cache, pos).keepAlive()));
        expect(lg.shape).toEqual([B, n, V]);
        const data = (await lg.toArray()) as Float32Array;
        lg.dispose();
        for (let b = 0; b < B; b++) got.set(data.subarray(b * n * V, (b + 1) * n * V), (b * T + pos) * V);
        pos += n;
      }
      expect(pos).toBe(T);
    } finally {
      disposeCache(cache);
    }
    const bad = firstMismatch(got, want, 1e-4, 1e-4);
    if (bad >= 0) expect.fail(`logit ${bad} (item ${Math.floor(bad / (T * V))}, position ${Math.floor(bad / V) % T}): cached ${got[bad]}, full ${want[bad]}`);
    disposeModel(m);
  });

  it('refuses positions past seqLen', () => {
    const m = model(true);
    expect(() => vq.tidy(() => m.forward(vq.tensor(new Int32Array(10), [1, 10])))).toThrow(/seqLen/);
    const cache = m.newCache(1);
    expect(() => vq.tidy(() => m.forwardCached(vq.tensor(new Int32Array(2), [1, 2]), cache, 8))).toThrow(/seqLen/);
    disposeCache(cache);
    disposeModel(m);
  });
});
