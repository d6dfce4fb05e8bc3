// The page's sampling, free of the DOM so that the Node test runs exactly this code on Dawn and
// compares tokens with the browser's. Everything is a thin layer over src/sample/*: the samplers
// are functions of a logits function; here the logits functions come from a loaded Prior.
//   tokens i32 [n, G·G] (row-major token grids) ⇄ images f32 [n, 3, S, S] in [-1, 1] via the VQ-VAE.

import { noGrad } from '../../src/autograd/tape.js';
import { splitTokens, type TokenCache } from '../../src/data/token-cache.js';
import { conditionToken, maskToken, type PriorConfig } from '../../src/models/prior/config.js';
import type { Prior } from '../../src/models/prior/prior.js';
import type { VQVAE } from '../../src/models/tokenizer/vqvae.js';
import { clone, concat, slice } from '../../src/ops/layout.js';
import { sampleAR } from '../../src/sample/ar.js';
import { sampleDiffusion, sampleMask, type DiffusionSample } from '../../src/sample/diffusion.js';
import { tidy } from '../../src/tensor/scope.js';
import { tensor, type Tensor } from '../../src/tensor/tensor.js';
import { disposeCache } from '../../src/models/transformer/transformer.js';

export interface SampleSettings {
  /** images */
  n: number;
  temperature: number;
  /** 0: all codes */
  topK: number;
  seed: number;
  /** class label for class-conditional priors (−1: none) */
  label?: number;
}

/** The settings of `?demo=1` (and of the Node test's reference run). */
export const DEMO_SETTINGS: SampleSettings = { n: 9, temperature: 1, topK: 0, seed: 1 };

/** Given first tokens of each sequence (completion), [n, prefixLength] row-major, and their labels. */
export interface Prefix {
  tokens: Int32Array;
  length: number;
  labels?: Int32Array;
}

/** tokens [n, G, G] → images [n, 3, S, S] (host floats). Codes outside the codebook draw as code 0. */
export async function decodeTokens(vqvae: VQVAE, tokens: Int32Array, n: number): Promise<Float32Array> {
  const { grid: G, codebook: K } = vqvae.config;
  const safe = tokens.some((t) => t < 0 || t >= K) ? tokens.map((t) => (t < 0 || t >= K ? 0 : t)) : tokens;
  const img = noGrad(() => tidy(() => vqvae.decode(tensor(safe, [n, G, G])).keepAlive()));
  try {
    return (await img.toArray()) as Float32Array;
  } finally {
    img.dispose();
  }
}

function startTokens(c: PriorConfig, s: SampleSettings, prefix?: Prefix): Int32Array {
  if (prefix?.labels && (s.label ?? -1) < 0) return prefix.labels.map((l) => conditionToken(c, l));
  return new Int32Array(s.n).fill(conditionToken(c, s.label ?? -1));
}

/**
 * AR prior: [n, G·G] tokens, drawn with a key/value cache. `onRows(rows, tokens)` is called each
 * time another full token row of every sequence is known (tokens: [n, rows·G], row-major) so the
 * page can draw the grid row by row; `onProgress` gets the fraction of positions done.
 */
export async function sampleARGrid(
  prior: Prior,
  s: SampleSettings,
  o: { prefix?: Prefix; onRows?: (rows: number, tokens: Int32Array) => void | Promise<void>; onProgress?: (f: number) => void } = {},
): Promise<Int32Array> {
  const c = prior.config;
  if (c.prior !== 'ar') throw new Error(`sampleARGrid: this is a ${c.prior} prior, not an AR one.`);
  const { n } = s;
  const G = c.grid, L = G * G, P = o.prefix?.length ?? 0;
  // sampleAR keeps its tokens on the GPU; the page sees them as they come back in as inputs: the
  // call at position i ≥ 1 feeds content token i−1 (the first call feeds the prefix). Copies of
  // those inputs, one [n, m] tensor per call, are read back once per finished row.
  const seen: Tensor[] = [];
  let known = P;
  const cache = prior.net.newCache(n);
  try {
    return await sampleAR(
      (inputs, pos) => {
        const m = inputs.shape[1];
        if (o.onRows && (pos > 0 || m > 1)) seen.push(clone(pos > 0 ? inputs : slice(inputs, 1, 1, m)).keepAlive());
        return prior.net.forwardCached(inputs, cache, pos);
      },
      { batch: n, length: L },
      {
        temperature: s.temperature, topK: s.topK, seed: s.seed, start: startTokens(c, s, o.prefix),
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
    disposeCache(cache);
    for (const t of seen) t.dispose();
  }
}

export interface ReverseProcess extends DiffusionSample {
  /** every step's tokens (step 0 first: random codes, or all masked) */
  frames: Int32Array[];
}

/**
 * Diffusion or mask prior: [n, G·G] tokens and the tokens of every step of the reverse process.
 * With a prefix, those first tokens of each sequence are held fixed (completion).
 */
export async function sampleReverse(
  prior: Prior,
  s: SampleSettings & { steps: number },
  o: { prefix?: Prefix; onFrame?: (step: number, tokens: Int32Array) => void | Promise<void> } = {},
): Promise<ReverseProcess> {
  const c = prior.config;
  if (c.prior === 'ar') throw new Error('sampleReverse: the AR prior has no reverse process; use sampleARGrid.');
  const { n } = s;
  const L = c.grid * c.grid;
  const start = startTokens(c, s, o.prefix);
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
  // The bidirectional model with the conditioning token prepended: x [n, L] → logits [n, L, K].
  const logits = (x: Tensor) => prior.contentLogits(concat([tensor(start, [n, 1]), x], 1));
  const common = {
    steps: s.steps, seed: s.seed, codebook: c.codebook, temperature: s.temperature, topK: s.topK, fixedMask, given,
    onStep: async (step: number, t: Int32Array) => {
      const copy = Int32Array.from(t);
      frames.push(copy);
      await o.onFrame?.(step, copy);
    },
  };
  const shape = { batch: n, length: L };
  const r = c.prior === 'mask' ? await sampleMask(logits, shape, { ...common, maskToken: maskToken(c) }) : await sampleDiffusion(logits, shape, common);
  return { ...r, frames };
}

/** Held-out items of a token cache (the completion picker): tokens [count, G·G] and labels. */
export function heldOut(cache: TokenCache): { tokens: Int32Array; labels: Int32Array; count: number } {
  const h = splitTokens(cache, 'heldout');
  return h.count > 0 ? h : splitTokens(cache, 'train');
}

/** The first `rows` token rows of one item, repeated n times: the prefix of n completions. */
export function rowsPrefix(item: Int32Array, label: number, grid: number, rows: number, n: number): Prefix {
  const P = rows * grid;
  const tokens = new Int32Array(n * P);
  for (let b = 0; b < n; b++) tokens.set(item.subarray(0, P), b * P);
  return { tokens, length: P, labels: new Int32Array(n).fill(label) };
}
