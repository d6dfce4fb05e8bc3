// Held-out figures of a D3PM prior (eval-prior; train-prior's held-out line and compare use the first):
//   xent  the training objective held out: the x_0 cross-entropy (nats per token) averaged over the
//         noise level t ~ U{1..T}, with t stratified: the levels are cut into M blocks and a grid is
//         evaluated at a seeded level drawn inside its block, so the estimate is unbiased, of low
//         variance, and the same number at every call;
//   bound the variational bound of the full T-level chain (D3PM's L_vb), bits per token, an upper
//         bound on the negative log-likelihood comparable with the AR prior's exact NLL and the mask
//         prior's bound: L_T + Σ_{t=1..T} L_{t−1}, L_T = KL(q(x_T | x_0) ‖ uniform) = 0 (ᾱ_T = 0),
//         L_{t−1} per position from the host posteriors (boundTerm, src/models/prior/d3pm.ts), the sum
//         over t estimated block by block: (levels in the block)·(mean term at the drawn levels).
// Two designs of the evaluation (the passes over the held-out grids):
//   'every-block'  each grid once per block (M passes): eval-prior, the precise numbers;
//   'one-pass'     each grid once, grid r in block r mod M: train-prior's periodic held-out line and
//                  compare, at the seed scheme's cost (one forward per batch of grids).
// A self-conditioned prior is scored as it trains with an estimate: a first pass's argmax on the same
// x_t is its estimate of x_0 (two forwards per batch).

import { noGrad } from '../autograd/tape.js';
import type { PriorConfig } from '../models/prior/config.js';
import { alphaBars, boundTerm, softmax64 } from '../models/prior/d3pm.js';
import { NoiseRng } from '../models/prior/noise.js';
import type { Prior } from '../models/prior/prior.js';
import { tidy } from '../tensor/scope.js';
import { tensor } from '../tensor/tensor.js';
import { batchLoss, d3pmBatch } from '../train/prior-trainer.js';

type Split = { tokens: Int32Array; labels: Int32Array; count: number };

export interface D3PMHeldout {
  /** x_0 cross-entropy averaged over t, nats per token */
  xent: number;
  /** variational bound, bits per token (only when asked: it reads every logit back) */
  boundBits?: number;
}

export interface D3PMHeldoutOptions {
  /** compute the bound too (host KL per position) */
  bound?: boolean;
  /** 'every-block' (default) or 'one-pass' (see above) */
  design?: 'every-block' | 'one-pass';
  /** M, the number of blocks of levels (default 16, at most T) */
  strata?: number;
  batch?: number;
}

/** The M blocks of levels 1..T: [lo, hi] inclusive, sizes differing by at most one. */
export function levelBlocks(T: number, M: number): [number, number][] {
  const m = Math.min(T, M);
  return Array.from({ length: m }, (_, j) => [Math.floor((j * T) / m) + 1, Math.floor(((j + 1) * T) / m)]);
}

export async function d3pmHeldout(prior: Prior, held: Split, c: PriorConfig, o: D3PMHeldoutOptions = {}): Promise<D3PMHeldout> {
  const L = c.grid * c.grid, K = c.codebook, T = c.timesteps!, batch = o.batch ?? 64;
  const bars = alphaBars(T), blocks = levelBlocks(T, o.strata ?? 16), M = blocks.length;
  const passes = o.design === 'one-pass' ? 1 : M;
  // the block of grid r in pass q
  const blockOf = (q: number, r: number) => (o.design === 'one-pass' ? r % M : q);
  const rng = new NoiseRng(4242);
  const p = new Float64Array(K);
  // Σ over passes and grids of (per-token mean) × weight: the block's share of levels ·M, so that the
  // mean over passes and grids is the average over t (xent) or, times T, the sum over t (bound).
  let xent = 0, bound = 0;
  prior.eval();
  try {
    for (let q = 0; q < passes; q++) {
      for (let s = 0; s < held.count; s += batch) {
        const e = Math.min(held.count, s + batch), B = e - s;
        const x0 = held.tokens.subarray(s * L, e * L);
        const weight = new Float64Array(B);
        const levels = Int32Array.from({ length: B }, (_, r) => {
          const [lo, hi] = blocks[blockOf(q, s + r)];
          weight[r] = ((hi - lo + 1) * M) / T;
          return lo + rng.int(hi - lo + 1);
        });
        const b = { ...d3pmBatch(c, x0, held.labels.subarray(s, e), rng, levels), selfCondition: !!c.selfCondition };
        if (!o.bound) {
          // per-grid weights are ≈ 1 (equal blocks: exactly 1); the batch mean carries their mean
          const loss = noGrad(() => tidy(() => batchLoss(prior, b).keepAlive()));
          xent += (await loss.item()) * weight.reduce((a, v) => a + v, 0);
          loss.dispose();
          continue;
        }
        const lg = noGrad(() =>
          tidy(() => {
            const inputs = tensor(b.inputs, [B, L + 2]);
            return (b.selfCondition ? prior.selfConditionedLogits(inputs) : prior.contentLogits(inputs)).keepAlive(); // [B, L, K]
          }),
        );
        const logits = (await lg.toArray()) as Float32Array;
        lg.dispose();
        for (let r = 0; r < B; r++) {
          const t = levels[r];
          let ce = 0, term = 0;
          for (let i = 0; i < L; i++) {
            softmax64(logits.subarray((r * L + i) * K, (r * L + i + 1) * K), p);
            const target = x0[r * L + i];
            ce -= Math.log(p[target]);
            term += boundTerm(p, target, b.inputs[r * (L + 2) + 2 + i], bars[t - 1], bars[t]);
          }
          xent += (weight[r] * ce) / L;
          bound += (weight[r] * term) / L;
        }
      }
    }
  } finally {
    prior.train();
  }
  const n = passes * held.count;
  return o.bound ? { xent: xent / n, boundBits: (T * bound) / n / Math.LN2 } : { xent: xent / n };
}
