// Samplers of the two discrete-diffusion priors. Like every sampler, each is a function of a
// logits function, a shape and options; it never sees a model (a guided logits function works too).
//   logits(x i32 [B, L]) → f32 [B, L, K]   (the bidirectional model's prediction at every position)
//
// sampleDiffusion — the seed's scheme: start from uniformly random codes; each step draws a
//   candidate for every position from softmax(logits / T_s) (optionally top-k/top-p) and moves the
//   grid towards it. The seed replaced the whole grid and stopped at the first step that changed no
//   token; the network learns x_a from x_b (x_b: a further 10% of x_a replaced), so at a random grid
//   it mostly predicts its input back and a low temperature froze the chain after one evaluation.
//   Options that make the chain assemble an image, step by step:
//     temperatureEnd  T_s falls geometrically from `temperature` (step 1) to this (step S);
//     changeFraction  at most ⌈f·L⌉ positions change per step: the most confident changes, ranked by
//                     log p(candidate) − log p(current token) (1: every drawn change, the seed's);
//     minSteps        a step that changes nothing ends the chain only from this step on;
//     finalArgmax     one more evaluation sets every position to the network's argmax.
// sampleMask — MaskGIT parallel decoding: start fully masked; each step samples every masked
//   position, keeps the most confident ones and re-masks the rest so that ⌊L·cos(π/2·s/S)⌋ stay
//   masked after step s (fewer where that would unmask nothing: every step unmasks at least one
//   token, so a run takes at most L evaluations); confidence = log p(sample) + τ·(1 − s/S)·Gumbel
//   noise (MaskGIT's choice temperature, annealed to 0 at the last step; τ = `confidenceTemperature`,
//   default MASK_CHOICE_TEMPERATURE). Given tokens are never masked.
// Every step's tokens are reported (figures and GIFs of the reverse process).

import { noGrad } from '../autograd/tape.js';
import { Generator, randInt, sampleCategorical } from '../ops/random.js';
import { gatherLast } from '../ops/gather.js';
import { logSoftmax } from '../ops/softmax.js';
import { reshape } from '../ops/layout.js';
import { add, neg as mulScalarNeg } from '../ops/elementwise.js';
import { embedding } from '../ops/embedding.js';
import { argmax } from '../ops/reduce.js';
import { tidy } from '../tensor/scope.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { checkFilterOptions, filterLogits, type FilterOptions } from './filter.js';
import { hostUniform } from './host-random.js';
import type { SampleShape } from './ar.js';

export type FullLogits = (x: Tensor) => Tensor;

export interface DiscreteSampleOptions extends FilterOptions {
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

export interface DiffusionSampleOptions extends DiscreteSampleOptions {
  /** temperature of the last step; T falls geometrically from `temperature` (default: constant) */
  temperatureEnd?: number;
  /** in (0, 1]: at most ⌈f·L⌉ free positions change per step, the most confident (default 1) */
  changeFraction?: number;
  /** the chain stops at a step that changes no token only from this step on (default 1) */
  minSteps?: number;
  /** end with one argmax evaluation (default false) */
  finalArgmax?: boolean;
  /**
   * decide whether a position changes at temperature 1 (probability 1 − p(current)) and draw its
   * new code at the step's temperature from the other codes: a low temperature sharpens the codes
   * without freezing the chain (the network mostly predicts its input back) (default false)
   */
  decoupled?: boolean;
  /**
   * corrector steps after the chain, before the final argmax: every free position becomes a fresh
   * uniform code with probability `correctorNoise` (the training's x_a → x_b), then every position
   * is drawn from the network at temperature 1 (x_a | x_b): a Gibbs-like chain whose stationary
   * law is the network's, which clears leftover noise without the low temperature's drift (default 0)
   */
  correctorSteps?: number;
  /** the fraction a corrector step re-noises (default 0.1, the training's x_a → x_b) */
  correctorNoise?: number;
}

/**
 * The defaults of `vqgpu sample`/`compare` for the diffusion prior: a chain that assembles the image
 * over every step (never frozen after one evaluation) and ends on the argmax. NOT yet validated:
 * on the one measurement so far (an 83-step emoji prior, 64 images, `compare`), these gave a
 * Fréchet distance of 6.43 against 5.57 for the seed's chain at T = 1 (--change-fraction 1
 * --no-decoupled --temperature-end 1 --min-steps 1 --no-final-argmax); re-measure on a trained prior.
 */
export const DIFFUSION_SAMPLER_DEFAULTS = {
  steps: 32, temperature: 1, temperatureEnd: 0.3, changeFraction: 0.1, minSteps: 32, finalArgmax: true, decoupled: true,
} as const;

export interface DiffusionSample {
  tokens: Int32Array;
  /** network evaluations used */
  evals: number;
}

function hold(x: Int32Array, o: DiscreteSampleOptions): void {
  if (!o.fixedMask || !o.given) return;
  for (let i = 0; i < x.length; i++) if (o.fixedMask[i]) x[i] = o.given[i];
}

/**
 * One categorical draw per position from filtered logits; returns the tokens and, if asked, log p of
 * them and of the current tokens x (under the filtered distribution).
 */
function drawAll(logits: FullLogits, x: Int32Array, shape: SampleShape, o: FilterOptions, gen: Generator, withLogp: boolean, withCurrent = false): [Tensor, Tensor | null, Tensor | null] {
  return noGrad(() =>
    tidy(() => {
      const { batch: B, length: L } = shape;
      const lg = reshape(logits(tensor(x, [B, L])), [B * L, -1]);
      const filtered = filterLogits(lg, o);
      const s = sampleCategorical(filtered, gen, 1);
      const ls = withLogp || withCurrent ? logSoftmax(filtered) : null;
      const logp = withLogp ? gatherLast(ls!, s).keepAlive() : null;
      const cur = withCurrent ? gatherLast(ls!, tensor(x, [B * L])).keepAlive() : null;
      return [s.keepAlive(), logp, cur] as [Tensor, Tensor | null, Tensor | null];
    }),
  );
}

async function readFloats(t: Tensor): Promise<Float32Array> {
  const v = (await t.toArray()) as Float32Array;
  t.dispose();
  return v;
}

/** [K, K]: −1e30 on the diagonal, 0 elsewhere; row k added to a position's logits cuts code k. */
function cutCurrentTable(K: number): Tensor {
  const eye = new Float32Array(K * K);
  for (let k = 0; k < K; k++) eye[k * K + k] = -1e30;
  return tensor(eye, [K, K]);
}

/**
 * The decoupled step: whether a position changes follows the network at temperature 1 (a draw d from
 * softmax(logits) that differs from the current token, probability 1 − p(current)); the new token is
 * drawn at the step's temperature (and filters) from the other codes. Returns [d, y, gain]:
 * gain = log p(y) − log p(current) (temperature 1), the ranking of the changes.
 */
function drawDecoupled(logits: FullLogits, x: Int32Array, shape: SampleShape, o: FilterOptions, cutTable: Tensor, gen: Generator): [Tensor, Tensor, Tensor] {
  return noGrad(() =>
    tidy(() => {
      const { batch: B, length: L } = shape;
      const lg = reshape(logits(tensor(x, [B, L])), [B * L, -1]);
      const cur = tensor(x, [B * L]);
      const d = sampleCategorical(lg, gen, 1);
      const others = add(lg, embedding(cur, cutTable)); // the current code cut
      const y = sampleCategorical(filterLogits(others, o), gen, 1);
      const ls = logSoftmax(lg);
      const gain = add(gatherLast(ls, y), mulScalarNeg(gatherLast(ls, cur)));
      return [d.keepAlive(), y.keepAlive(), gain.keepAlive()] as [Tensor, Tensor, Tensor];
    }),
  );
}

/** T_s of step s of S: geometric from t0 (s = 1) to t1 (s = S). */
export function diffusionTemperature(s: number, S: number, t0: number, t1: number): number {
  return S <= 1 ? t0 : t0 * Math.pow(t1 / t0, (s - 1) / (S - 1));
}

async function readInts(t: Tensor): Promise<Int32Array> {
  const v = (await t.toArray()) as Int32Array;
  t.dispose();
  return v;
}

export async function sampleDiffusion(logits: FullLogits, shape: SampleShape, o: DiffusionSampleOptions): Promise<DiffusionSample> {
  checkFilterOptions(o);
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new Error(`sampleDiffusion: steps must be a positive integer, got ${o.steps}.`);
  const t0 = o.temperature ?? 1, t1 = o.temperatureEnd ?? t0, frac = o.changeFraction ?? 1, minSteps = o.minSteps ?? 1;
  if (!(t1 > 0)) throw new Error(`sampleDiffusion: the final temperature must be > 0, got ${t1}.`);
  if (!(frac > 0 && frac <= 1)) throw new Error(`sampleDiffusion: changeFraction must be in (0, 1], got ${frac}.`);
  if (!Number.isInteger(minSteps) || minSteps < 1) throw new Error(`sampleDiffusion: minSteps must be a positive integer, got ${minSteps}.`);
  const C = o.correctorSteps ?? 0, noise = o.correctorNoise ?? 0.1;
  if (!Number.isInteger(C) || C < 0) throw new Error(`sampleDiffusion: correctorSteps must be a non-negative integer, got ${C}.`);
  if (!(noise > 0 && noise <= 1)) throw new Error(`sampleDiffusion: correctorNoise must be in (0, 1], got ${noise}.`);
  const gen = new Generator(o.seed ?? 0);
  const { batch: B, length: L } = shape;
  let x = await readInts(noGrad(() => randInt([B * L], gen, o.codebook)));
  hold(x, o);
  await o.onStep?.(0, x);
  let evals = 0, s = 1;
  // Built once per chain, not per step: the decoupled draw adds one row of it to every position.
  const cutTable = o.decoupled ? cutCurrentTable(o.codebook) : null;
  try {
    for (; s <= o.steps; s++) {
      const f = { ...o, temperature: diffusionTemperature(s, o.steps, t0, t1) };
      const ranked = frac < 1 || !!o.decoupled;
      let cand: Int32Array, gain: Float32Array | null = null;
      if (o.decoupled) {
        const [d, y, g] = drawDecoupled(logits, x, shape, f, cutTable!, gen);
        const dd = await readInts(d);
        cand = await readInts(y);
        gain = await readFloats(g);
        for (let i = 0; i < cand.length; i++) if (dd[i] === x[i]) cand[i] = x[i]; // no change drawn here
      } else {
        const [t, lpNew, lpCur] = drawAll(logits, x, shape, f, gen, ranked, ranked);
        cand = await readInts(t);
        if (ranked) {
          const a = await readFloats(lpNew!), c = await readFloats(lpCur!);
          gain = a.map((v, i) => v - c[i]);
        }
      }
      evals++;
      const next = Int32Array.from(x);
      let changed = 0;
      if (!ranked) {
        next.set(cand);
        hold(next, o);
        for (let i = 0; i < next.length; i++) if (next[i] !== x[i]) changed++;
      } else {
        for (let b = 0; b < B; b++) {
          const moves: { i: number; gain: number }[] = [];
          let free = 0;
          for (let j = 0; j < L; j++) {
            const i = b * L + j;
            if (o.fixedMask?.[i]) continue;
            free++;
            if (cand[i] !== x[i]) moves.push({ i, gain: gain![i] });
          }
          moves.sort((p, q) => q.gain - p.gain || p.i - q.i);
          for (const { i } of moves.slice(0, Math.ceil(frac * free))) next[i] = cand[i];
          changed += Math.min(moves.length, Math.ceil(frac * free));
        }
      }
      x = next;
      await o.onStep?.(s, x);
      if (changed === 0 && s >= minSteps) break;
    }
    let frame = Math.min(s, o.steps);
    // Corrector: x_b = the training's corruption of x, then x ← a draw of x_a | x_b at temperature 1.
    const uniform = hostUniform(o.seed ?? 0);
    for (let c = 0; c < C; c++) {
      const xb = Int32Array.from(x);
      for (let i = 0; i < xb.length; i++) if (!o.fixedMask?.[i] && uniform() < noise) xb[i] = Math.floor(uniform() * o.codebook);
      x = await readInts(drawAll(logits, xb, shape, { ...o, temperature: 1 }, gen, false)[0]);
      hold(x, o);
      evals++;
      await o.onStep?.(++frame, x);
    }
    s = frame;
  } finally {
    cutTable?.dispose();
  }
  if (o.finalArgmax) {
    const t = noGrad(() => tidy(() => argmax(reshape(logits(tensor(x, [B, L])), [B * L, -1]), -1).keepAlive()));
    const next = await readInts(t);
    hold(next, o);
    evals++;
    x = next;
    await o.onStep?.(s + 1, x);
  }
  return { tokens: x, evals };
}

export interface MaskSampleOptions extends DiscreteSampleOptions {
  maskToken: number;
  /** τ of the annealed Gumbel noise on the confidences (default MASK_CHOICE_TEMPERATURE) */
  confidenceTemperature?: number;
}

/**
 * The default choice temperature τ. MaskGIT uses 4.5; on the shipped emoji mask prior (32 steps,
 * 1,000 samples, two seeds) τ = 8 scores KID ×10³ 3.8 and 3.7 against 10.3 and 7.5 at 4.5, and
 * τ = 2 62, and 12 or 16 no better than 8 (docs/sampling.md): more noise on the confidences
 * spreads the committed codes over the grid instead of settling the flat background first.
 */
export const MASK_CHOICE_TEMPERATURE = 8;

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
  const tau = o.confidenceTemperature ?? MASK_CHOICE_TEMPERATURE;
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
