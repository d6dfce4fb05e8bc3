// The priors learn a synthetic token language: a first-order Markov chain over K = 8 codes with a
// known transition matrix, in sequences of L = 16 (a 4×4 grid). The AR prior's held-out
// cross-entropy must come close to the chain's true entropy (and never beat it: an off-by-one in
// the input/target alignment would let it see the token it predicts); the diffusion (the seed's
// scheme and D3PM's) and mask priors' training losses must fall on the same data.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { makePriorConfig, type PriorKind } from '../src/models/prior/config.js';
import { NoiseRng } from '../src/models/prior/noise.js';
import { Prior } from '../src/models/prior/prior.js';
import { manualSeed } from '../src/nn/init.js';
import { batchLoss, d3pmBatch, makeBatch, PriorTrainer } from '../src/train/prior-trainer.js';

beforeAll(async () => {
  await vq.init();
});

const K = 8, G = 4, L = G * G;

/** Row i: 0.7 on i+1, 0.2 on i+3, the remaining 0.1 spread over the other six codes (mod K). */
const P: number[][] = Array.from({ length: K }, (_, i) => {
  const row = new Array(K).fill(0.1 / 6);
  row[(i + 1) % K] = 0.7;
  row[(i + 3) % K] = 0.2;
  return row;
});
const rowEntropy = (r: number[]) => -r.reduce((s, p) => s + p * Math.log2(p), 0);
/** Bits per token after the first (all rows are permutations of row 0): ≈ 1.415. */
const H_RATE = rowEntropy(P[0]);

/**
 * n chains starting at code 0 (so the first positions' marginals are far from uniform, which the
 * bidirectional priors pick up quickly through the position embeddings).
 */
function sampleChains(n: number, rng: NoiseRng): Int32Array {
  const x = new Int32Array(n * L);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let i = 0; i < L; i++) {
      x[b * L + i] = s;
      let u = rng.next(), next = 0;
      while (next < K - 1 && u >= P[s][next]) u -= P[s][next++];
      s = next;
    }
  }
  return x;
}

function makePrior(kind: PriorKind, noise: 'seed' | 'd3pm' = 'seed'): Prior {
  manualSeed(1);
  return new Prior(makePriorConfig({ prior: kind, codebook: K, grid: G, classes: 0, tokenizerChecksum: 'test', dim: 32, layers: 1, heads: 2, noise, timesteps: noise === 'd3pm' ? 16 : undefined }));
}

function disposePrior(p: Prior): void {
  for (const t of p.parameters()) t.dispose();
}

/** Trains `steps` steps of batch 16 on fresh chains; returns the mean losses (nats) of every `every` steps. */
async function train(prior: Prior, steps: number, lr: number, rng: NoiseRng, every = 10): Promise<number[]> {
  const B = 16, trainer = new PriorTrainer(prior, { lr, totalSteps: steps, warmup: 10 });
  const labels = new Int32Array(B).fill(-1), losses: number[] = [];
  for (let s = 1; s <= steps; s++) {
    trainer.train(makeBatch(prior.config, sampleChains(B, rng), labels, rng));
    if (s % every === 0) losses.push(await trainer.takeLoss());
  }
  trainer.opt.dispose();
  return losses;
}

describe('prior', () => {
  it('the AR prior learns a Markov chain to near its entropy rate', async () => {
    const prior = makePrior('ar');
    const rng = new NoiseRng(5);
    const losses = await train(prior, 100, 2e-2, rng, 20);
    prior.eval();
    // held-out: per-position cross-entropy in bits from the content logits
    const N = 256, x = sampleChains(N, new NoiseRng(1234));
    const batch = makeBatch(prior.config, x, new Int32Array(N).fill(-1), rng);
    const lg = vq.noGrad(() => vq.tidy(() => prior.contentLogits(vq.tensor(batch.inputs, [N, L])).keepAlive()));
    expect(lg.shape).toEqual([N, L, K]);
    const logits = (await lg.toArray()) as Float32Array;
    lg.dispose();
    let first = 0, rest = 0, uniformNats = 0;
    for (let b = 0; b < N; b++) {
      for (let i = 0; i < L; i++) {
        const row = logits.subarray((b * L + i) * K, (b * L + i + 1) * K);
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
        uniformNats += row.reduce((s, v) => s + (lse - v), 0) / K; // mean over codes of −log p
        const bits = (lse - row[x[b * L + i]]) / Math.LN2;
        if (i === 0) first += bits;
        else rest += bits;
      }
    }
    first /= N;
    rest /= N * (L - 1);
    const info = `positions ≥ 1: ${rest.toFixed(3)} bits (entropy rate ${H_RATE.toFixed(3)}), position 0: ${first.toFixed(3)} bits (0); training losses ${losses.map((l) => l.toFixed(3)).join(' ')} nats`;
    expect(rest, info).toBeLessThan(H_RATE + 0.15);
    expect(rest, info).toBeGreaterThan(H_RATE - 0.08); // cannot beat the chain (sampling sd ≈ 0.025 bits)
    expect(first, info).toBeLessThan(0.15); // always code 0
    // batchLoss (the training objective, nats) agrees with the host computation
    const loss = vq.noGrad(() => vq.tidy(() => batchLoss(prior, batch).keepAlive()));
    const nll = ((first + (L - 1) * rest) / L) * Math.LN2;
    expect(await loss.item()).toBeCloseTo(nll, 3);
    loss.dispose();
    // with label smoothing ε (the trainer's option): (1 − ε)·nll + ε·mean over codes of −log p
    const smoothed = vq.noGrad(() => vq.tidy(() => batchLoss(prior, batch, 0.1).keepAlive()));
    expect(await smoothed.item()).toBeCloseTo(0.9 * nll + 0.1 * (uniformNats / (N * L)), 3);
    smoothed.dispose();
    disposePrior(prior);
  });

  it.each(['diffusion', 'mask'] as const)('the %s prior\'s training loss falls', async (kind) => {
    const prior = makePrior(kind);
    const losses = await train(prior, 60, 3e-2, new NoiseRng(8), 6);
    const info = losses.map((l) => l.toFixed(3)).join(' ');
    // mean of the first 12 steps vs the last 12 (the seed scheme's x_b is mostly x_a, quickly
    // copied; the mask prior learns the positions' marginals first, its neighbours much later)
    const n = losses.length;
    const last = (losses[n - 2] + losses[n - 1]) / 2;
    expect(last, info).toBeLessThan((losses[0] + losses[1]) / 2 - 0.15);
    expect(last, info).toBeLessThan(Math.log(K) - 0.1); // better than the uniform guess
    disposePrior(prior);
  });

  it("the d3pm diffusion prior's x_0 cross-entropy falls, and its held-out loss at low noise is far below that at high noise", async () => {
    const prior = makePrior('diffusion', 'd3pm');
    expect(prior.config.transformer.seqLen).toBe(L + 2); // [cond, time, x_t]
    const losses = await train(prior, 60, 3e-2, new NoiseRng(8), 6);
    const info = losses.map((l) => l.toFixed(3)).join(' ');
    const n = losses.length, last = (losses[n - 2] + losses[n - 1]) / 2;
    expect(last, info).toBeLessThan((losses[0] + losses[1]) / 2 - 0.15);
    expect(last, info).toBeLessThan(Math.log(K) - 0.1);
    // the noise level is an input: at t = 1 (nearly clean) x_0 is mostly copied, at t = T it is guessed
    prior.eval();
    const N = 128, x = sampleChains(N, new NoiseRng(99)), labels = new Int32Array(N).fill(-1);
    const at = async (t: number) => {
      const b = d3pmBatch(prior.config, x, labels, new NoiseRng(3), new Int32Array(N).fill(t));
      const v = vq.noGrad(() => vq.tidy(() => batchLoss(prior, b).keepAlive()));
      const r = await v.item();
      v.dispose();
      return r;
    };
    const low = await at(1), high = await at(16);
    expect(low, `t = 1: ${low}, t = T: ${high}`).toBeLessThan(high - 0.5);
    disposePrior(prior);
  });
});
