// Classifier-free guidance (src/sample/guidance.ts): the mixing formula, the 2B-row wrappers around
// fake logits functions (what the wrapped function is called with, and what it returns), the same
// through real priors (AR with its KV cache: the guided batch at S = 1 gives exactly the plain
// conditional logits, step by step, and the same samples), and label drop at training time.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { conditionToken, makePriorConfig, nullToken, type PriorKind } from '../src/models/prior/config.js';
import { NoiseRng } from '../src/models/prior/noise.js';
import { Prior } from '../src/models/prior/prior.js';
import { disposeCache } from '../src/models/transformer/transformer.js';
import { manualSeed } from '../src/nn/init.js';
import { sampleAR, type CachedLogits } from '../src/sample/ar.js';
import { sampleMask } from '../src/sample/diffusion.js';
import { guidanceScaleAt, guideCached, guideFull, mixGuidance, type ConditionedLogits } from '../src/sample/guidance.js';
import { classCounts, dropLabels } from '../src/train/prior-trainer.js';
import { Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

const read = async (t: vq.Tensor): Promise<Float32Array> => {
  const v = (await t.toArray()) as Float32Array;
  t.dispose();
  return v;
};
const randomArray = (n: number, seed: number) => {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal() * 3);
};
/** Runs f under noGrad/tidy and reads its result back. */
const run = (f: () => vq.Tensor) => read(vq.noGrad(() => vq.tidy(() => f().keepAlive())));

describe('mixGuidance', () => {
  it('is exactly cond at S = 1, exactly uncond at S = 0, uncond + S·(cond − uncond) otherwise', async () => {
    const c = randomArray(6 * 5, 1), u = randomArray(6 * 5, 2);
    const mix = (s: number) => run(() => mixGuidance(vq.tensor(c, [6, 5]), vq.tensor(u, [6, 5]), s));
    expect(await mix(1)).toEqual(c);
    expect(await mix(0)).toEqual(u);
    const g = await mix(3);
    for (let i = 0; i < c.length; i++) expect(g[i]).toBeCloseTo(u[i] + 3 * (c[i] - u[i]), 4);
  });

  it('schedules: constant S, linear from 1 to S', () => {
    expect([0, 0.5, 1].map((u) => guidanceScaleAt({ scale: 3 }, u))).toEqual([3, 3, 3]);
    expect([0, 0.5, 1].map((u) => guidanceScaleAt({ scale: 3, schedule: 'linear' }, u))).toEqual([1, 2, 3]);
  });
});

const V = 5, VIN = 9, COND = 7, NULL = 8;

describe('guideCached (fake AR logits)', () => {
  /** Logits at input position q: table[q][input token] ([VIN, V] random per position); records every call's inputs. */
  function fake(L: number) {
    const tables = Array.from({ length: L + 1 }, (_, q) => randomArray(VIN * V, 100 + q));
    const calls: { pos: number; inputs: Int32Array; shape: number[] }[] = [];
    const pending: vq.Tensor[] = [];
    const fn: CachedLogits = (inputs, pos) => {
      const n = inputs.shape[1];
      pending.push(inputs.keepAlive());
      calls.push({ pos, inputs: new Int32Array(0), shape: [...inputs.shape] });
      const cols = Array.from({ length: n }, (_, j) => vq.embedding(vq.slice(inputs, 1, j, j + 1), vq.tensor(tables[pos + j], [VIN, V])));
      return n === 1 ? cols[0] : vq.concat(cols, 1);
    };
    const flush = async () => {
      for (let i = 0; i < pending.length; i++) {
        calls[calls.length - pending.length + i].inputs = (await pending[i].toArray()) as Int32Array;
        pending[i].dispose();
      }
      pending.length = 0;
    };
    return { fn, calls, flush };
  }

  it('runs cond and uncond rows in one 2B batch; S = 1 gives the cond logits, S = 0 the uncond ones', async () => {
    const B = 2, L = 4, P = 2;
    const prefix = Int32Array.of(1, 2, 3, 4); // [B, P]
    const first = Int32Array.of(COND, 1, 2, COND - 1, 3, 4); // [B, 1+P]
    for (const [S, startExpect] of [[1, [COND, COND - 1]], [0, [NULL, NULL]]] as const) {
      const { fn, calls, flush } = fake(L);
      const g = guideCached(fn, { scale: S, batch: B, length: L, uncond: new Int32Array(B).fill(NULL) });
      const got = await run(() => g(vq.tensor(first, [B, 1 + P]), 0));
      await flush();
      // one call, 2B rows: the conditional rows as given, then the same prefix after the null token
      expect(calls.map((c) => c.shape)).toEqual([[2 * B, 1 + P]]);
      expect(Array.from(calls[0].inputs)).toEqual([COND, 1, 2, COND - 1, 3, 4, NULL, 1, 2, NULL, 3, 4]);
      // reference: the fake on B rows with the expected conditioning
      const { fn: ref } = fake(L);
      const refIn = Int32Array.from(first);
      refIn[0] = startExpect[0];
      refIn[1 + P] = startExpect[1];
      expect(got).toEqual(await run(() => ref(vq.tensor(refIn, [B, 1 + P]), 0)));
      // a later single-token call: both halves get the same token
      const got2 = await run(() => g(vq.tensor(Int32Array.of(5, 6), [B, 1]), 3));
      await flush();
      expect(Array.from(calls[1].inputs)).toEqual([5, 6, 5, 6]);
      expect(calls[1].pos).toBe(3);
      expect(got2).toEqual(await run(() => ref(vq.tensor(Int32Array.of(5, 6), [B, 1]), 3)));
    }
    expect(prefix.length).toBe(B * P);
  });

  it('S = 2 mixes the two halves', async () => {
    const B = 1, L = 3;
    const { fn } = fake(L);
    const g = guideCached(fn, { scale: 2, batch: B, length: L, uncond: Int32Array.of(NULL) });
    const got = await run(() => g(vq.tensor(Int32Array.of(COND), [1, 1]), 0));
    const { fn: ref } = fake(L);
    const c = await run(() => ref(vq.tensor(Int32Array.of(COND), [1, 1]), 0));
    const u = await run(() => ref(vq.tensor(Int32Array.of(NULL), [1, 1]), 0));
    for (let i = 0; i < V; i++) expect(got[i]).toBeCloseTo(2 * c[i] - u[i], 4);
    expect(Math.max(...c.map((v, i) => Math.abs(v - got[i])))).toBeGreaterThan(0.1); // really mixed
  });
});

describe('guideFull (fake bidirectional logits)', () => {
  it('one 2B-row call per step with cond then uncond tokens; S = 1 / 0 give cond / uncond logits; linear ramps', async () => {
    const B = 2, L = 3, K = 4;
    // logits[b, i, k] = x[b, i]·(k + 1) + 10·cond[b]·k  (host-built, so cond vs uncond differ)
    const seen: { rows: number; cond: number[] }[] = [];
    const f: ConditionedLogits = (x, cond) => {
      seen.push({ rows: x.shape[0], cond: [...cond] });
      return vq.tidy(() => {
        const xs = vq.reshape(vq.cast(x, 'f32'), [x.shape[0], L, 1]);
        const k = vq.tensor(Float32Array.from({ length: K }, (_, j) => j + 1), [1, 1, K]);
        const ck = vq.tensor(Float32Array.from({ length: cond.length * K }, (_, i) => 10 * cond[Math.floor(i / K)] * (i % K)), [cond.length, 1, K]);
        return vq.add(vq.mul(xs, k), ck);
      });
    };
    const x = Int32Array.of(1, 2, 3, 0, 1, 2);
    const cond = Int32Array.of(2, 3), uncond = Int32Array.of(1, 1);
    for (const S of [1, 0]) {
      seen.length = 0;
      const g = guideFull(f, { scale: S, cond, uncond, steps: 4 });
      const got = await run(() => g(vq.tensor(x, [B, L])));
      expect(seen).toEqual([{ rows: 2 * B, cond: [2, 3, 1, 1] }]);
      expect(got).toEqual(await run(() => f(vq.tensor(x, [B, L]), S === 1 ? cond : uncond)));
    }
    // linear from 1 to S = 3 over 3 steps: scales 1, 2, 3
    const g = guideFull(f, { scale: 3, schedule: 'linear', cond, uncond, steps: 3 });
    const c = await run(() => f(vq.tensor(x, [B, L]), cond)), u = await run(() => f(vq.tensor(x, [B, L]), uncond));
    for (const s of [1, 2, 3]) {
      const got = await run(() => g(vq.tensor(x, [B, L])));
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(u[i] + s * (c[i] - u[i]), 3);
    }
  });
});

function classPrior(kind: PriorKind, classes = 3): Prior {
  manualSeed(7);
  const p = new Prior(makePriorConfig({ prior: kind, codebook: 16, grid: 3, classes, tokenizerChecksum: 'test', dim: 32, layers: 2, heads: 2, labelDrop: 0.1 }));
  // Larger embeddings than the init's, so that the class token moves the logits visibly.
  for (const t of p.parameters()) if (t.shape.length === 2 && t.shape[0] === p.config.transformer.vocabIn) {
    vq.copyInto(vq.tensor(randomArray(t.size, 9).map((v) => v / 3), t.shape), t);
  }
  p.eval();
  return p;
}
const disposePrior = (p: Prior) => p.parameters().forEach((t) => t.dispose());

describe('guidance through the real AR prior and its KV cache', () => {
  it('the guided 2B-row batch at S = 1 gives the plain conditional logits at every step (and S = 0 the unconditional ones)', async () => {
    const prior = classPrior('ar');
    const c = prior.config, B = 3, L = c.grid ** 2;
    const start = Int32Array.of(0, 2, 1).map((l) => conditionToken(c, l));
    const nulls = new Int32Array(B).fill(nullToken(c));
    const r = new Rng(3);
    const toks = Int32Array.from({ length: B * L }, () => Math.floor(r.uniform() * c.codebook));
    const col = (i: number) => Int32Array.from({ length: B }, (_, b) => toks[b * L + i]);
    /** Per-step logits of a cached logits function of B rows, fed `first` then the fixed tokens. */
    const steps = async (fn: CachedLogits, first: Int32Array): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for (let i = 0; i < L; i++) out.push(await run(() => fn(vq.tensor(i === 0 ? first : col(i - 1), [B, 1]), i)));
      return out;
    };
    const plainRun = async (first: Int32Array) => {
      const cache = prior.net.newCache(B);
      const v = await steps((inp, pos) => prior.net.forwardCached(inp, cache, pos), first);
      disposeCache(cache);
      return v;
    };
    const guidedRun = async (S: number) => {
      const cache = prior.net.newCache(2 * B);
      const v = await steps(guideCached((inp, pos) => prior.net.forwardCached(inp, cache, pos), { scale: S, batch: B, length: L, uncond: nulls }), start);
      disposeCache(cache);
      return v;
    };
    const cond = await plainRun(start), uncond = await plainRun(nulls);
    const g1 = await guidedRun(1), g0 = await guidedRun(0);
    for (let i = 0; i < L; i++) {
      expect(g1[i], `step ${i}, S = 1`).toEqual(cond[i]);
      expect(g0[i], `step ${i}, S = 0`).toEqual(uncond[i]);
    }
    // the class token matters (else the test could not tell cond from uncond)
    const diff = Math.max(...cond[L - 1].map((v, k) => Math.abs(v - uncond[L - 1][k])));
    expect(diff).toBeGreaterThan(1e-2);

    // end to end: sampleAR with the guided function at S = 1 draws the plain conditional samples
    const sample = async (guided: boolean) => {
      const cache = prior.net.newCache(guided ? 2 * B : B);
      const plain: CachedLogits = (inp, pos) => prior.net.forwardCached(inp, cache, pos);
      const fn = guided ? guideCached(plain, { scale: 1, batch: B, length: L, uncond: nulls }) : plain;
      const t = await sampleAR(fn, { batch: B, length: L }, { start, seed: 11 });
      disposeCache(cache);
      return Array.from(t);
    };
    expect(await sample(true)).toEqual(await sample(false));
    disposePrior(prior);
  });

  it('mask prior: one 2B-row call per step; S = 1 samples as the plain conditional sampler', async () => {
    const prior = classPrior('mask');
    const c = prior.config, B = 2, L = c.grid ** 2;
    const start = Int32Array.of(1, 2).map((l) => conditionToken(c, l));
    let rows: number[] = [];
    const f: ConditionedLogits = (x, cond) => {
      rows.push(x.shape[0]);
      return prior.contentLogits(vq.concat([vq.tensor(cond, [cond.length, 1]), x], 1));
    };
    const o = { steps: 4, seed: 5, codebook: c.codebook, maskToken: c.codebook + 1 };
    const plain = await sampleMask((x) => f(x, start), { batch: B, length: L }, o);
    rows = [];
    const guided = await sampleMask(guideFull(f, { scale: 1, cond: start, uncond: new Int32Array(B).fill(nullToken(c)), steps: 4 }), { batch: B, length: L }, o);
    expect(rows).toEqual(new Array(guided.evals).fill(2 * B));
    expect(Array.from(guided.tokens)).toEqual(Array.from(plain.tokens));
    disposePrior(prior);
  });
});

describe('label drop (training)', () => {
  it.each([0.1, 0.3])('drops labels at rate %f (4000 seeded draws, ±4 sd)', (p) => {
    const N = 4000;
    const labels = Int32Array.from({ length: N }, (_, i) => i % 10);
    const rng = new NoiseRng(2024);
    const dropped = dropLabels(labels, p, rng);
    const nulls = labels.reduce((a, l) => a + (l === -1 ? 1 : 0), 0);
    expect(nulls).toBe(dropped);
    const sd = Math.sqrt(N * p * (1 - p));
    expect(Math.abs(dropped - N * p), `${dropped} of ${N} dropped, expected ${N * p} ± ${(4 * sd).toFixed(0)}`).toBeLessThan(4 * sd);
    // the kept labels are unchanged
    labels.forEach((l, i) => l !== -1 && expect(l).toBe(i % 10));
  });

  it('p = 0 drops nothing and draws nothing; p = 1 drops all', () => {
    const labels = Int32Array.from({ length: 50 }, (_, i) => i % 3);
    const rng = new NoiseRng(9);
    expect(dropLabels(labels, 0, rng)).toBe(0);
    expect(rng.state).toBe(9);
    expect(dropLabels(labels, 1, rng)).toBe(50);
    expect(() => dropLabels(labels, 1.5, rng)).toThrow(/label drop/);
  });

  it('classCounts counts the labels per class', () => {
    expect(classCounts([0, 2, 2, -1, 5, 1, 2], 3)).toEqual([1, 1, 3]);
  });
});
