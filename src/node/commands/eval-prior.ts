// vqgpu eval-prior --prior RUN --tokens CACHE [--json]: held-out figures of a prior, one JSON line.
//   ar:        nll_bits_per_token (exact: the AR likelihood), unigram_bits_per_token (baseline)
//   diffusion: denoise_loss_bits (cross-entropy of x_a given x_b, fixed noise); no likelihood bound
//   d3pm:      denoise_loss_bits: the x_0 cross-entropy averaged over t ~ U{1..T} (stratified), and
//              bound_bits_per_token: the variational bound of the T-level chain ≥ NLL per token
//              (src/node/d3pm-heldout.ts), comparable with ar's nll and mask's bound
//   mask:      bound_bits_per_token: the order-agnostic bound E_{n~U{1..L}} [mean over the n masked
//              positions of −log₂ p(x_i | rest)] ≥ NLL per token (Hoogeboom et al. 2022, OA-ARDM),
//              estimated with stratified n; plus denoise_loss_bits at the training mask rates.

import { noGrad } from '../../autograd/tape.js';
import { maskToken, conditionToken, isD3PM, kindLabel, type PriorConfig } from '../../models/prior/config.js';
import { NoiseRng } from '../../models/prior/noise.js';
import type { Prior } from '../../models/prior/prior.js';
import { batchLoss, IGNORE, makeBatch, type PriorBatch } from '../../train/prior-trainer.js';
import { splitTokens } from '../../data/token-cache.js';
import { tidy } from '../../tensor/scope.js';
import { parseFlags, type FlagSpec } from '../../io/flags.js';
import { checkCacheMatchesPrior, loadPriorRun, readTokenCache } from '../prior-run.js';
import { d3pmHeldout } from '../d3pm-heldout.js';

type Split = { tokens: Int32Array; labels: Int32Array; count: number };

async function lossOf(prior: Prior, b: PriorBatch): Promise<number> {
  const t = noGrad(() => tidy(() => batchLoss(prior, b).keepAlive()));
  const v = await t.item();
  t.dispose();
  return v;
}

/** Mean held-out loss (nats per predicted token) of the training objective, with fixed noise. */
export async function heldoutLoss(prior: Prior, held: Split, c: PriorConfig, batch = 64): Promise<{ loss: number }> {
  // d3pm: averaged over t (stratified), each grid once (eval-prior's own line evaluates every block)
  if (isD3PM(c)) return { loss: (await d3pmHeldout(prior, held, c, { batch, design: 'one-pass' })).xent };
  const L = c.grid * c.grid;
  const rng = new NoiseRng(12345);
  let sum = 0, n = 0;
  prior.eval();
  for (let s = 0; s < held.count; s += batch) {
    const e = Math.min(held.count, s + batch);
    const b = makeBatch(c, held.tokens.subarray(s * L, e * L), held.labels.subarray(s, e), rng);
    const counted = b.targets.reduce((a, t) => a + (t !== IGNORE ? 1 : 0), 0);
    sum += (await lossOf(prior, b)) * counted;
    n += counted;
  }
  prior.train();
  return { loss: sum / Math.max(n, 1) };
}

/** Entropy (bits) of the code frequencies of a split: the baseline every prior must beat. */
export function unigramBits(tokens: Int32Array, K: number): number {
  const counts = new Float64Array(K);
  for (const t of tokens) counts[t]++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / tokens.length) * Math.log2(c / tokens.length);
  return h;
}

/** The OA-ARDM bound for the mask prior (bits per token), n stratified over 1..L. */
async function maskBound(prior: Prior, held: Split, c: PriorConfig, strata = 16, batch = 64): Promise<number> {
  const L = c.grid * c.grid;
  const rng = new NoiseRng(777);
  const ns = Array.from({ length: Math.min(strata, L) }, (_, i) => Math.max(1, Math.round(((i + 0.5) / Math.min(strata, L)) * L)));
  let total = 0;
  prior.eval();
  for (const n of ns) {
    let sum = 0, count = 0;
    for (let s = 0; s < held.count; s += batch) {
      const e = Math.min(held.count, s + batch), B = e - s;
      const inputs = new Int32Array(B * (L + 1)), targets = new Int32Array(B * L).fill(IGNORE);
      for (let b = 0; b < B; b++) {
        const x = held.tokens.subarray((s + b) * L, (s + b + 1) * L);
        inputs[b * (L + 1)] = conditionToken(c, held.labels[s + b]);
        inputs.set(x, b * (L + 1) + 1);
        const pos = Array.from({ length: L }, (_, i) => i);
        for (let i = 0; i < n; i++) {
          const j = i + rng.int(L - i);
          [pos[i], pos[j]] = [pos[j], pos[i]];
          inputs[b * (L + 1) + 1 + pos[i]] = maskToken(c);
          targets[b * L + pos[i]] = x[pos[i]];
        }
      }
      sum += (await lossOf(prior, { inputs, targets, B })) * B;
      count += B;
    }
    total += sum / count;
  }
  prior.train();
  return total / ns.length / Math.LN2;
}

export const EVAL_PRIOR_FLAGS: Record<string, FlagSpec> = {
  prior: { type: 'string', help: 'prior run folder', required: true },
  tokens: { type: 'string', help: 'token cache', required: true },
  json: { type: 'boolean', help: 'print only the JSON line' },
};

export async function evalPrior(argv: string[]): Promise<void> {
  const f = parseFlags(argv, EVAL_PRIOR_FLAGS, 'eval-prior');
  const { prior, config, ckpt } = await loadPriorRun(f.prior as string);
  const cache = readTokenCache(f.tokens as string);
  checkCacheMatchesPrior(cache, f.tokens as string, config, f.prior as string);
  const held = splitTokens(cache, 'heldout');
  if (!held.count) throw new Error(`token cache '${f.tokens}' has no held-out items.`);
  const unigram = unigramBits(splitTokens(cache, 'train').tokens, config.codebook);
  const line: Record<string, unknown> = { step: ckpt.step, kind: config.prior };
  if (isD3PM(config)) {
    const d = await d3pmHeldout(prior, held, config, { bound: true });
    Object.assign(line, { noise: 'd3pm', timesteps: config.timesteps, denoise_loss_bits: d.xent / Math.LN2, bound_bits_per_token: d.boundBits });
  } else {
    const bits = (await heldoutLoss(prior, held, config)).loss / Math.LN2;
    if (config.prior === 'ar') Object.assign(line, { nll_bits_per_token: bits });
    else Object.assign(line, { denoise_loss_bits: bits });
  }
  if (config.prior === 'mask') line.bound_bits_per_token = await maskBound(prior, held, config);
  line.unigram_bits_per_token = unigram;
  line.items = held.count;
  if (!f.json) console.error(`eval-prior: ${f.prior} (${kindLabel(config)}) at step ${ckpt.step} on ${held.count} held-out grids`);
  console.log(JSON.stringify(line));
}
