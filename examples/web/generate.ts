// The page's sampling, free of the DOM so that the Node test runs exactly this code on Dawn and
// compares tokens with the browser's. A thin layer over the library's prior → sampler arrow
// (src/sample/draw-from-prior.ts, the same functions `vqgpu sample` calls), adding what the page
// draws from: the AR rows as they arrive, every step of the reverse process, completion prefixes.
//   tokens i32 [n, G·G] (row-major token grids) ⇄ images f32 [n, 3, S, S] in [-1, 1] via the VQ-VAE.

import { noGrad } from '../../src/autograd/tape.js';
import { splitTokens, type TokenCache } from '../../src/data/token-cache.js';
import { classFrequencies, conditionTokens, defaultGuidanceScale, drawClasses, guidanceOf } from '../../src/models/prior/classes.js';
import type { PriorConfig } from '../../src/models/prior/config.js';
import type { Prior } from '../../src/models/prior/prior.js';
import { cachedLogitsOf, drawTokens } from '../../src/sample/draw-from-prior.js';
import { clone, concat, slice } from '../../src/ops/layout.js';
import { sampleAR } from '../../src/sample/ar.js';
import { DIFFUSION_SAMPLER_DEFAULTS, type DiffusionSample } from '../../src/sample/diffusion.js';
import type { GuidanceOptions } from '../../src/sample/guidance.js';
import { tidy } from '../../src/tensor/scope.js';
import type { Tensor } from '../../src/tensor/tensor.js';

export interface SampleSettings {
  temperature: number;
  /** 0: all codes */
  topK: number;
  seed: number;
  /** classifier-free guidance scale S (1: plain conditional; ignored by unconditional priors) */
  cfg: number;
  /** diffusion/mask: denoising steps */
  steps: number;
}

/** The CLI's defaults (`vqgpu sample`), S aside: it depends on the prior (settingsFor). */
export const DEFAULT_SETTINGS: SampleSettings = { temperature: 1, topK: 0, seed: 1, cfg: 1, steps: DIFFUSION_SAMPLER_DEFAULTS.steps };

/** DEFAULT_SETTINGS with the prior's default guidance scale (DEFAULT_CFG for its kind). */
export function settingsFor(c: PriorConfig, over: Partial<SampleSettings> = {}): SampleSettings {
  return { ...DEFAULT_SETTINGS, cfg: defaultGuidanceScale(c), ...over };
}

/** Which classes a grid shows: one image per class, n drawn from the training frequencies, or n of one class. */
export type ClassChoice = { each: true } | { drawn: number } | { label: number; n: number };

/**
 * The label of each image (−1 everywhere for an unconditional prior): `vqgpu sample`'s rules, so
 * the same seed gives the same classes (draws use the cache's training split when it matches).
 */
export function labelsFor(c: PriorConfig, choice: ClassChoice, seed: number, cache?: TokenCache | null): Int32Array {
  if ('each' in choice) return c.classes ? Int32Array.from({ length: c.classes }, (_, i) => i) : new Int32Array(9).fill(-1);
  const n = 'drawn' in choice ? choice.drawn : choice.n;
  if (!c.classes) return new Int32Array(n).fill(-1);
  if ('drawn' in choice) return drawClasses(classFrequencies(c, cache).counts, n, seed);
  if (!(choice.label >= 0 && choice.label < c.classes)) throw new Error(`class ${choice.label} is not one of the prior's ${c.classes}.`);
  return new Int32Array(n).fill(choice.label);
}

/** The guidance of a run (S from the slider, the kind's schedule): null for unconditional priors and S = 1, as in the CLI. */
export function guidanceFor(c: PriorConfig, s: SampleSettings): GuidanceOptions | null {
  return guidanceOf(c, s.cfg);
}

/** Given first tokens of each sequence (completion), [n, prefixLength] row-major. */
export interface Prefix {
  tokens: Int32Array;
  length: number;
}

export { decodeTokens } from '../../src/models/tokenizer/decode-tokens.js';

/**
 * AR prior: [n, G·G] tokens for the given labels (n = labels.length), drawn with a key/value cache
 * as `vqgpu sample` draws them. `onRows(rows, tokens)` is called each time another full token row
 * of every sequence is known (tokens: [n, rows·G], row-major) so the page can draw the grid row by
 * row; `onProgress` gets the fraction of positions done.
 */
export async function sampleARGrid(
  prior: Prior,
  s: SampleSettings,
  labels: Int32Array,
  o: { prefix?: Prefix; onRows?: (rows: number, tokens: Int32Array) => void | Promise<void>; onProgress?: (f: number) => void } = {},
): Promise<Int32Array> {
  const c = prior.config;
  if (c.prior !== 'ar') throw new Error(`sampleARGrid: this is a ${c.prior} prior, not an AR one.`);
  const n = labels.length, G = c.grid, L = G * G, P = o.prefix?.length ?? 0;
  // sampleAR keeps its tokens on the GPU; the page sees them as they come back in as inputs: the
  // call at position i ≥ 1 feeds content token i−1 (the first call feeds the prefix). Copies of
  // those inputs, one [n, m] tensor per call, are read back once per finished row. (Guided, the
  // logits function below runs 2n rows; the inputs it is given are the n rows of the sampler.)
  const seen: Tensor[] = [];
  let known = P;
  const lf = cachedLogitsOf(prior, n, guidanceFor(c, s));
  try {
    return await sampleAR(
      (inputs, pos) => {
        const m = inputs.shape[1];
        if (o.onRows && (pos > 0 || m > 1)) seen.push(clone(pos > 0 ? inputs : slice(inputs, 1, 1, m)).keepAlive());
        return lf.logits(inputs, pos);
      },
      { batch: n, length: L },
      {
        temperature: s.temperature, topK: s.topK, topP: 1, seed: s.seed, start: conditionTokens(c, labels),
        prefix: o.prefix?.tokens, prefixLength: P,
        onStep: async (done) => {
          o.onProgress?.(done / L);
          if (!o.onRows) return;
          // After position done−1 was sampled, the inputs fed so far hold content tokens 0..done−2.
          const rows = Math.floor((done - 1) / G);
          if (rows * G <= known || done === L) return; // the caller draws the final grid itself
          const all = noGrad(() => tidy(() => concat(seen, 1).keepAlive()));
          const t = (await all.toArray()) as Int32Array;
          all.dispose();
          const m = t.length / n;
          const out = new Int32Array(n * rows * G);
          for (let b = 0; b < n; b++) out.set(t.subarray(b * m, b * m + rows * G), b * rows * G);
          known = rows * G;
          await o.onRows(rows, out);
        },
      },
    );
  } finally {
    lf.dispose();
    for (const t of seen) t.dispose();
  }
}

export interface ReverseProcess extends DiffusionSample {
  /** every step's tokens (step 0 first: random codes, or all masked) */
  frames: Int32Array[];
}

/**
 * Diffusion or mask prior: [n, G·G] tokens (n = labels.length) and the tokens of every step of the
 * reverse process, with `vqgpu sample`'s sampler settings. With a prefix, those first tokens of
 * each sequence are held fixed (completion).
 */
export async function sampleReverse(
  prior: Prior,
  s: SampleSettings,
  labels: Int32Array,
  o: { prefix?: Prefix; onFrame?: (step: number, tokens: Int32Array) => void | Promise<void> } = {},
): Promise<ReverseProcess> {
  const c = prior.config;
  if (c.prior === 'ar') throw new Error('sampleReverse: the AR prior has no reverse process; use sampleARGrid.');
  const n = labels.length, L = c.grid * c.grid;
  let fixedMask: Uint8Array | undefined, given: Int32Array | undefined;
  if (o.prefix && o.prefix.length > 0) {
    const P = o.prefix.length;
    fixedMask = new Uint8Array(n * L);
    given = new Int32Array(n * L);
    for (let b = 0; b < n; b++) {
      fixedMask.fill(1, b * L, b * L + P);
      given.set(o.prefix.tokens.subarray(b * P, (b + 1) * P), b * L);
    }
  }
  const frames: Int32Array[] = [];
  const r = await drawTokens(prior, n, {
    start: conditionTokens(c, labels), guidance: guidanceFor(c, s),
    temperature: s.temperature, topK: s.topK, topP: 1, seed: s.seed, steps: s.steps,
    diffusion: {
      fixedMask, given,
      onStep: async (step, t) => {
        const copy = Int32Array.from(t);
        frames.push(copy);
        await o.onFrame?.(step, copy);
      },
    },
  });
  return { ...r, frames };
}

/** Held-out items of a token cache (the completion picker): tokens [count, G·G] and labels. */
export function heldOut(cache: TokenCache): { tokens: Int32Array; labels: Int32Array; count: number } {
  const h = splitTokens(cache, 'heldout');
  return h.count > 0 ? h : splitTokens(cache, 'train');
}

/** The first `rows` token rows of one item, repeated n times: the prefix of n completions. */
export function rowsPrefix(item: Int32Array, grid: number, rows: number, n: number): Prefix {
  const P = rows * grid;
  const tokens = new Int32Array(n * P);
  for (let b = 0; b < n; b++) tokens.set(item.subarray(0, P), b * P);
  return { tokens, length: P };
}
