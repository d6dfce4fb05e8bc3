// vqgpu sample --tokenizer TOKRUN --prior RUN --n 9 [--temperature T] [--top-k K] [--top-p P]
//   [--seed S] [--class C] [--steps S] [--temperature-end T] [--change-fraction F] [--min-steps N]
//   [--final-argmax | --no-final-argmax] [--decoupled | --no-decoupled] [--choice-temperature τ]
//   --out FILE.png|FILE.gif
//   [--prefix-rows R | --prefix-tokens N] --tokens CACHE       (completion of held-out items)
// New images as a grid; with a prefix, the completions beside the reconstructions of the originals.

import { noGrad } from '../../autograd/tape.js';
import { imageGrid, joinPanels, type Canvas } from '../../data/figure.js';
import { splitTokens } from '../../data/token-cache.js';
import { conditionToken } from '../../models/prior/config.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../tensor/tensor.js';
import { sampleAR } from '../../sample/ar.js';
import { parseFlags, UsageError, type FlagSpec } from '../args.js';
import { checkCacheMatchesPrior, loadPriorRun, readTokenCache } from '../prior-run.js';
import { loadTokenizerRun } from '../tokenizer-run.js';
import { writePng } from '../write-image.js';
import { fileChecksum } from './encode.js';
import type { VQVAE } from '../../models/tokenizer/vqvae.js';
import { DIFFUSION_SAMPLER_FLAGS, diffusionSamplerOptions, sampleDiffusionFigure } from './sample-diffusion.js';

export const SAMPLE_FLAGS: Record<string, FlagSpec> = {
  tokenizer: { type: 'string', help: 'tokenizer run folder', required: true },
  prior: { type: 'string', help: 'prior run folder', required: true },
  n: { type: 'int', help: 'images', default: 9, min: 1, max: 256 },
  temperature: { type: 'number', help: 'sampling temperature (> 0); diffusion: of the first step', default: 1 },
  'top-k': { type: 'int', help: 'keep the k most likely codes (0: all)', default: 0, min: 0 },
  'top-p': { type: 'number', help: 'nucleus probability (1: all)', default: 1 },
  steps: { type: 'int', help: 'diffusion/mask: denoising steps (diffusion: the most; it may stop earlier)', default: 32, min: 1, max: 10000 },
  ...DIFFUSION_SAMPLER_FLAGS,
  seed: { type: 'int', help: 'random seed', default: 0 },
  class: { type: 'int', help: 'class label (class-conditional priors)', default: -1, min: -1 },
  'prefix-rows': { type: 'int', help: 'completion: keep this many token rows of held-out items', min: 0 },
  'prefix-tokens': { type: 'int', help: 'completion: keep this many first tokens', min: 0 },
  tokens: { type: 'string', help: 'token cache (for completion)' },
  out: { type: 'string', help: 'output .png (or .gif for the reverse process of diffusion/mask priors)', required: true },
};

/** tokens [n, G, G] → decoded images [n, 3, S, S] (host floats). */
export async function decodeTokens(vqvae: VQVAE, tokens: Int32Array, n: number): Promise<Float32Array> {
  const G = vqvae.config.grid;
  const img = noGrad(() => tidy(() => vqvae.decode(tensor(tokens, [n, G, G])).keepAlive()));
  const data = (await img.toArray()) as Float32Array;
  img.dispose();
  return data;
}

export function gridOf(images: Float32Array, n: number, size: number): Canvas {
  return imageGrid(images, n, size, Math.ceil(Math.sqrt(n)), 2, Math.max(1, Math.round(64 / size)));
}

export interface Completion {
  prefixLength: number;
  prefix: Int32Array;
  originals: Int32Array;
  labels: Int32Array;
}

/** The first n held-out items of a cache, cut to their first `prefixLength` tokens. */
export function completionPrefix(cachePath: string, n: number, prefixLength: number): Completion {
  const cache = readTokenCache(cachePath);
  const held = splitTokens(cache, 'heldout');
  const L = cache.header.grid ** 2;
  if (held.count < n) throw new Error(`token cache '${cachePath}' has ${held.count} held-out items; --n ${n} needs as many.`);
  const originals = held.tokens.slice(0, n * L);
  const prefix = new Int32Array(n * prefixLength);
  for (let b = 0; b < n; b++) prefix.set(originals.subarray(b * L, b * L + prefixLength), b * prefixLength);
  return { prefixLength, prefix, originals, labels: held.labels.slice(0, n) };
}

export async function sample(argv: string[]): Promise<void> {
  const f = parseFlags(argv, SAMPLE_FLAGS, 'sample');
  const out = f.out as string;
  if (!/\.(png|gif)$/i.test(out)) throw new UsageError(`sample: --out must end in .png or .gif, got '${out}'.`);
  const { state, ckpt: tokCkpt } = await loadTokenizerRun(f.tokenizer as string);
  const { prior, config } = await loadPriorRun(f.prior as string);
  const tc = state.config;
  if (tc.codebook !== config.codebook || tc.grid !== config.grid) {
    throw new Error(`prior '${f.prior}' was trained for ${config.codebook} codes on ${config.grid}×${config.grid}, tokenizer '${f.tokenizer}' has ${tc.codebook} codes on ${tc.grid}×${tc.grid}.`);
  }
  const tokSum = fileChecksum(tokCkpt.path);
  if (tokSum !== config.tokenizerChecksum) {
    // Same shape, another tokenizer (or the same one trained further after encoding): codes may mean other things.
    console.error(`warning: prior '${f.prior}' was trained on tokens of tokenizer ${config.tokenizerChecksum}, but '${f.tokenizer}' is ${tokSum} (${tokCkpt.path}); the images may not match.`);
  }
  const n = Number(f.n), G = config.grid, L = G * G;
  const prefixLength = f['prefix-rows'] !== undefined ? Number(f['prefix-rows']) * G : f['prefix-tokens'] !== undefined ? Number(f['prefix-tokens']) : 0;
  if (prefixLength >= L) throw new UsageError(`sample: the prefix (${prefixLength} tokens) must be shorter than the grid (${L}).`);
  let completion: Completion | null = null;
  if (prefixLength > 0) {
    if (!f.tokens) throw new UsageError('sample: completion (--prefix-rows/--prefix-tokens) needs --tokens CACHE.');
    checkCacheMatchesPrior(readTokenCache(f.tokens as string), f.tokens as string, config, f.prior as string);
    completion = completionPrefix(f.tokens as string, n, prefixLength);
  }
  const label = Number(f.class);
  const start = completion ? completion.labels.map((l) => conditionToken(config, label >= 0 ? label : l)) : new Int32Array(n).fill(conditionToken(config, label));
  const opts = { temperature: Number(f.temperature), topK: Number(f['top-k']), topP: Number(f['top-p']), seed: Number(f.seed) };
  const t0 = performance.now();
  let tokens: Int32Array;
  let evals: number;
  if (config.prior === 'ar') {
    if (out.toLowerCase().endsWith('.gif')) throw new UsageError('sample: a .gif shows the reverse diffusion process; use .png for the AR prior.');
    const cache = prior.net.newCache(n);
    try {
      tokens = await sampleAR((inputs, pos) => prior.net.forwardCached(inputs, cache, pos), { batch: n, length: L }, {
        ...opts, start, prefix: completion?.prefix, prefixLength,
      });
    } finally {
      for (const c of cache) { c.k.dispose(); c.v.dispose(); }
    }
    evals = L - prefixLength;
  } else {
    const r = await sampleDiffusionFigure(prior, state.vqvae, { n, start, steps: Number(f.steps), out, completion, ...opts, ...diffusionSamplerOptions(f) });
    tokens = r.tokens;
    evals = r.evals;
  }
  const secs = (performance.now() - t0) / 1000;
  const images = await decodeTokens(state.vqvae, tokens, n);
  if (out.toLowerCase().endsWith('.png') && config.prior === 'ar') {
    const panel = gridOf(images, n, tc.size);
    if (completion) {
      const orig = await decodeTokens(state.vqvae, completion.originals, n);
      writePng(out, joinPanels([panel, gridOf(orig, n, tc.size)], 'row', 16));
    } else writePng(out, panel);
  }
  console.error(`sample: ${n} images from the ${config.prior} prior in ${secs.toFixed(2)} s (${evals} network evaluations, ${(secs / n).toFixed(3)} s per image) → ${out}`);
}
