// Samplers of the two discrete-diffusion priors. Like every sampler, each is a function of a
// logits function, a shape and options; it never sees a model.
//   logits(x i32 [B, L]) → f32 [B, L, K]   (the bidirectional model's prediction at every position)
//
// sampleDiffusion — the seed's scheme: start from uniformly random codes; each step samples every
//   position from softmax(logits / T) (optionally top-k); stop after `steps` or when a step changes
//   no token. A low temperature changes few tokens per step (slow, careful); a high one converges
//   faster. Given tokens (completion) are held fixed.
// sampleMask — MaskGIT parallel decoding: start fully masked; each step samples every masked
//   position, keeps the most confident ones and re-masks the rest so that ⌊L·cos(π/2·s/S)⌋ stay
//   masked after step s (fewer where that would unmask nothing: every step unmasks at least one
//   token, so a run takes at most L evaluations); confidence = log p(sample) + τ·(1 − s/S)·Gumbel noise (annealed, τ =
//   `confidenceTemperature`). Given tokens are never masked.
// Every step's tokens are reported (figures and GIFs of the reverse process).

import { noGrad } from '../autograd/tape.js';
import { Generator, randInt, sampleCategorical } from '../ops/random.js';
import { gatherLast } from '../ops/gather.js';
import { logSoftmax } from '../ops/softmax.js';
import { reshape } from '../ops/layout.js';
import { tidy } from '../tensor/scope.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { checkFilterOptions, filterLogits, type FilterOptions } from './filter.js';
import type { SampleShape } from './ar.js';

export type FullLogits = (x: Tensor) => Tensor;

export interface DiffusionSampleOptions extends FilterOptions {
  steps: number;
  seed?: number;
  /** codebook size K */
  codebook: number;
  /** completion: 1 where `given` holds a fixed token, [B, L] */
  fixedMask?: Uint8Array;
  given?: Int32Array;
  /** called with every step's tokens (step 0: the starting tokens) */
  onStep?: (step: number, tokens: Int32Array) => void | Promise<void>;
}

export interface DiffusionSample {
  tokens: Int32Array;
  /** network evaluations used */
  evals: number;
}

function hold(x: Int32Array, o: DiffusionSampleOptions): void {
  if (!o.fixedMask || !o.given) return;
  for (let i = 0; i < x.length; i++) if (o.fixedMask[i]) x[i] = o.given[i];
}

/** One categorical draw per position from filtered logits; returns tokens and, if asked, log p(token). */
function drawAll(logits: FullLogits, x: Int32Array, shape: SampleShape, o: FilterOptions, gen: Generator, withLogp: boolean): [Tensor, Tensor | null] {
  return noGrad(() =>
    tidy(() => {
      const { batch: B, length: L } = shape;
      const lg = reshape(logits(tensor(x, [B, L])), [B * L, -1]);
      const filtered = filterLogits(lg, o);
      const s = sampleCategorical(filtered, gen, 1);
      const logp = withLogp ? gatherLast(logSoftmax(filtered), s).keepAlive() : null;
      return [s.keepAlive(), logp] as [Tensor, Tensor | null];
    }),
  );
}

async function readInts(t: Tensor): Promise<Int32Array> {
  const v = (await t.toArray()) as Int32Array;
  t.dispose();
  return v;
}

export async function sampleDiffusion(logits: FullLogits, shape: SampleShape, o: DiffusionSampleOptions): Promise<DiffusionSample> {
  checkFilterOptions(o);
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`sampleDiffusion: steps must be a positive integer, got ${o.steps}.`);
  const gen = new Generator(o.seed ?? 0);
  const { batch: B, length: L } = shape;
  let x = await readInts(noGrad(() => randInt([B * L], gen, o.codebook)));
  hold(x, o);
  await o.onStep?.(0, x);
  let evals = 0;
  for (let s = 1; s <= o.steps; s++) {
    const [t] = drawAll(logits, x, shape, o, gen, false);
    const next = await readInts(t);
    hold(next, o);
    evals++;
    let changed = 0;
    for (let i = 0; i < next.length; i++) if (next[i] !== x[i]) changed++;
    x = next;
    await o.onStep?.(s, x);
    if (changed === 0) break;
  }
  return { tokens: x, evals };
}

export interface MaskSampleOptions extends DiffusionSampleOptions {
  maskToken: number;
  /** τ of the annealed Gumbel noise on the confidences (MaskGIT uses 4.5) */
  confidenceTemperature?: number;
}

/** Positions still masked after step s of S (cosine schedule). */
export const masksAfter = (s: number, S: number, L: number) => Math.floor(L * Math.cos((Math.PI / 2) * (s / S)));

export async function sampleMask(logits: FullLogits, shape: SampleShape, o: MaskSampleOptions): Promise<DiffusionSample> {
  checkFilterOptions(o);
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`sampleMask: steps must be a positive integer, got ${o.steps}.`);
  const gen = new Generator(o.seed ?? 0);
  const { batch: B, length: L } = shape;
  const x = new Int32Array(B * L).fill(o.maskToken);
  hold(x, o);
  await o.onStep?.(0, x);
  // Host-side Gumbel noise for the confidences (seeded; B·L values per step).
  let state = ((o.seed ?? 0) ^ 0x5bd1e995) >>> 0;
  const uniform = () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  const tau = o.confidenceTemperature ?? 4.5;
  let evals = 0;
  for (let s = 1; s <= o.steps; s++) {
    const [t, lp] = drawAll(logits, x, shape, o, gen, true);
    const cand = await readInts(t);
    const logp = (await lp!.toArray()) as Float32Array;
    lp!.dispose();
    evals++;
    for (let b = 0; b < B; b++) {
      const masked: number[] = [];
      for (let i = 0; i < L; i++) if (x[b * L + i] === o.maskToken) masked.push(i);
      if (!masked.length) continue;
      const fixed = o.fixedMask ? o.fixedMask.subarray(b * L, (b + 1) * L).reduce((a, v) => a + v, 0) : 0;
      // Of the free positions, this many stay masked after step s (the last step unmasks all).
      const keepMasked = s === o.steps ? 0 : Math.min(masked.length - 1, masksAfter(s, o.steps, L - fixed));
      const anneal = tau * (1 - s / o.steps);
      const conf = masked.map((i) => ({ i, c: logp[b * L + i] + anneal * -Math.log(-Math.log(uniform())) }));
      conf.sort((a, c) => c.c - a.c || a.i - c.i);
      for (const { i } of conf.slice(0, masked.length - keepMasked)) x[b * L + i] = cand[b * L + i];
    }
    await o.onStep?.(s, x);
    if (!x.includes(o.maskToken)) break;
  }
  return { tokens: x, evals };
}
