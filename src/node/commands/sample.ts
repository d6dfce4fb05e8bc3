// vqgpu sample --tokenizer TOKRUN --prior RUN --n 9 [--temperature T] [--top-k K] [--top-p P]
//   [--seed S] [--class NAME|INDEX] [--cfg S] [--cfg-schedule constant|linear] [--steps S]
//   [--temperature-end T] [--change-fraction F] [--min-steps N] [--final-argmax | --no-final-argmax]
//   [--decoupled | --no-decoupled] [--choice-temperature τ] [--corrector-steps C] --out FILE.png|FILE.gif|DIR
//   [--reverse STRIP.png,ANIM.gif]                             (diffusion/mask: the reverse process too)
//   [--prefix-rows R | --prefix-tokens N] --tokens CACHE       (completion of held-out items)
// vqgpu sample --prior RUN --list-classes                      (index and name of every class)
// New images as a grid; with a prefix, the completions beside the reconstructions of the originals.
// Class-conditional priors: --class picks one class for every image; without it each image's class
// is drawn from the training split's class frequencies (the cache's, given --tokens, else those
// stored in the prior). --cfg S ≠ 1 samples with classifier-free guidance (one 2B-row batch per step).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { imageGrid, joinPanels, type Canvas } from '../../data/figure.js';
import { splitTokens } from '../../data/token-cache.js';
import { kindLabel } from '../../models/prior/config.js';
import { sampleAR } from '../../sample/ar.js';
import type { TokenCache } from '../../data/token-cache.js';
import { classFrequencies, classNames, conditionTokens, drawClasses } from '../../models/prior/classes.js';
import { cachedLogitsOf, drawTokens } from '../../sample/draw-from-prior.js';
import { classListing, GUIDANCE_FLAGS, resolveGuidance } from '../prior-guidance.js';
import { classBlocks } from '../../models/prior/classes.js';
import { parseFlags, UsageError, type FlagSpec } from '../../io/flags.js';
import { checkCacheMatchesPrior, loadPriorRun, readTokenCache } from '../prior-run.js';
import { loadTokenizerRun } from '../tokenizer-run.js';
import { writePng } from '../write-image.js';
import { checkpointChecksum } from '../checksum.js';
import { decodeTokens } from '../../models/tokenizer/decode-tokens.js';
import { DIFFUSION_SAMPLER_FLAGS, diffusionSamplerOptions, drawWithFrames, REVERSE_CHAINS, reverseChains, writeReverseFigure, type ReverseFrames } from './sample-diffusion.js';

export const SAMPLE_FLAGS: Record<string, FlagSpec> = {
  tokenizer: { type: 'string', help: 'tokenizer run folder (required unless --list-classes)' },
  prior: { type: 'string', help: 'prior run folder', required: true },
  'list-classes': { type: 'boolean', help: "print the prior's classes (index and name) and exit" },
  n: { type: 'int', help: 'images', default: 9, min: 1, max: 256 },
  temperature: { type: 'number', help: 'sampling temperature (> 0); diffusion: of the first step', default: 1, above: 0 },
  'top-k': { type: 'int', help: 'keep the k most likely codes (0: all)', default: 0, min: 0 },
  'top-p': { type: 'number', help: 'nucleus probability (1: all)', default: 1, above: 0, max: 1 },
  steps: { type: 'int', help: "diffusion/mask: denoising steps (diffusion: the most; it may stop earlier; d3pm: at most the prior's noise levels T, every one run)", default: 32, min: 1, max: 10000 },
  ...DIFFUSION_SAMPLER_FLAGS,
  seed: { type: 'int', help: 'random seed', default: 0 },
  class: { type: 'string', help: "class-conditional priors: class name or index for every image, or a comma-separated list (--n split evenly: a PNG of one grid per class, final samples for every kind) (default: drawn from the training frequencies)" },
  ...GUIDANCE_FLAGS,
  'prefix-rows': { type: 'int', help: 'completion: keep this many token rows of held-out items', min: 0 },
  'prefix-tokens': { type: 'int', help: 'completion: keep this many first tokens', min: 0 },
  tokens: { type: 'string', help: 'token cache (for completion)' },
  out: { type: 'string', help: 'output .png (or .gif for the reverse process of diffusion/mask priors), or a folder: each sample as DIR/0000.png, … at the model\'s resolution (required unless --list-classes)' },
  reverse: { type: 'string', help: `diffusion/mask: also the reverse process of ${REVERSE_CHAINS} of the samples (the classes in turn), from the same run, as a strip (.png) and/or a GIF (.gif): one file or two, comma-separated` },
};

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

/** Each image [n, 3, S, S] as DIR/0000.png, DIR/0001.png, … at the model's resolution. */
export function writeEach(dir: string, images: Float32Array, n: number, size: number): void {
  mkdirSync(dir, { recursive: true });
  const per = 3 * size * size;
  for (let i = 0; i < n; i++) writePng(join(dir, `${String(i).padStart(4, '0')}.png`), imageGrid(images.subarray(i * per, (i + 1) * per), 1, size, 1, 0, 1));
}

export async function sample(argv: string[]): Promise<void> {
  const f = parseFlags(argv, SAMPLE_FLAGS, 'sample');
  const priorPath = f.prior as string;
  if (f['list-classes']) {
    const { config } = await loadPriorRun(priorPath);
    const cache = f.tokens ? readTokenCache(f.tokens as string) : null;
    if (config.classes === 0) console.error(`sample: prior '${priorPath}' is unconditional; it has no classes.`);
    else console.log(classListing(classNames(config, cache)));
    return;
  }
  if (f.tokenizer === undefined) throw new UsageError('sample: --tokenizer is required (tokenizer run folder).');
  if (f.out === undefined) throw new UsageError('sample: --out is required (output .png, .gif, or a folder for one PNG per sample).');
  const out = f.out as string;
  // A path that is not .png/.gif is a folder: each final sample as its own PNG (external scorers read folders).
  const toFolder = !/\.(png|gif)$/i.test(out);
  if (/\.(jpe?g|webp|bmp|tiff?|avif)$/i.test(out)) {
    throw new UsageError(`sample: --out '${out}': images are written as .png (or .gif for a reverse process); a path without either extension is a folder for one PNG per sample.`);
  }
  const { prior, config } = await loadPriorRun(priorPath);
  if (config.classes === 0 && f.class !== undefined) {
    throw new UsageError(`sample: --class needs a class-conditional prior; '${priorPath}' is unconditional (train one with \`train-prior --class-cond\`).`);
  }
  const guidance = resolveGuidance(config, f.cfg as number | undefined, f['cfg-schedule'] as string | undefined, priorPath);
  const { state, ckpt: tokCkpt } = await loadTokenizerRun(f.tokenizer as string);
  const tc = state.config;
  if (tc.codebook !== config.codebook || tc.grid !== config.grid) {
    throw new Error(`prior '${f.prior}' was trained for ${config.codebook} codes on ${config.grid}×${config.grid}, tokenizer '${f.tokenizer}' has ${tc.codebook} codes on ${tc.grid}×${tc.grid}.`);
  }
  const tokSum = checkpointChecksum(tokCkpt.path);
  if (tokSum !== config.tokenizerChecksum) {
    // Same shape, another tokenizer (or the same one trained further after encoding): codes may mean other things.
    console.error(`warning: prior '${f.prior}' was trained on tokens of tokenizer ${config.tokenizerChecksum}, but '${f.tokenizer}' is ${tokSum} (${tokCkpt.path}); the images may not match.`);
  }
  const n = Number(f.n), G = config.grid, L = G * G;
  // --class a,b,c: n/3 images of each, in that order; the PNG shows one grid per class.
  const classList = f.class !== undefined ? String(f.class).split(',').map((c) => c.trim()) : [];
  const perClass = classList.length > 1;
  const prefixLength = f['prefix-rows'] !== undefined ? Number(f['prefix-rows']) * G : f['prefix-tokens'] !== undefined ? Number(f['prefix-tokens']) : 0;
  if (prefixLength >= L) throw new UsageError(`sample: the prefix (${prefixLength} tokens) must be shorter than the grid (${L}).`);
  let completion: Completion | null = null;
  let cache: TokenCache | null = null;
  if (f.tokens) {
    cache = readTokenCache(f.tokens as string);
    checkCacheMatchesPrior(cache, f.tokens as string, config, priorPath);
  }
  if (prefixLength > 0) {
    if (!f.tokens) throw new UsageError('sample: completion (--prefix-rows/--prefix-tokens) needs --tokens CACHE.');
    completion = completionPrefix(f.tokens as string, n, prefixLength);
  }
  // Each image's class: --class, else the held-out item's own (completion), else drawn from the
  // training frequencies; −1 (the start token) for unconditional priors.
  let labels: Int32Array = new Int32Array(n).fill(-1);
  if (config.classes > 0) {
    const names = classNames(config, cache);
    if (classList.length) labels = classBlocks(classList, n, names);
    else if (completion) labels = Int32Array.from(completion.labels);
    else {
      const freq = classFrequencies(config, cache);
      labels = drawClasses(freq.counts, n, Number(f.seed));
      console.error(`sample: classes drawn from the training frequencies (${freq.source === 'cache' ? "the cache's" : freq.source === 'config' ? "stored in the prior" : 'none stored: uniform'}): ${[...labels].map((l) => names[l]).join(', ')}`);
    }
  }
  const start = conditionTokens(config, labels);
  if (guidance) console.error(`sample: classifier-free guidance S = ${guidance.scale} (${guidance.schedule})`);
  const opts = { temperature: Number(f.temperature), topK: Number(f['top-k']), topP: Number(f['top-p']), seed: Number(f.seed) };
  const reverse = f.reverse !== undefined ? String(f.reverse).split(',').map((p) => p.trim()) : [];
  if (reverse.some((p) => !/\.(png|gif)$/i.test(p))) throw new UsageError(`sample: --reverse takes .png (a strip) and/or .gif files, got '${f.reverse}'.`);
  if (reverse.length && config.prior === 'ar') throw new UsageError('sample: --reverse shows the reverse process of a diffusion or mask prior; the AR prior has none.');
  if (perClass && (prefixLength > 0 || !out.toLowerCase().endsWith('.png') && !toFolder)) throw new UsageError('sample: several classes in --class make a .png (or a folder) of new images, not a completion or a GIF.');
  // A diffusion/mask prior's .png or .gif --out (one class) is its reverse process, of every sample.
  const outIsReverse = config.prior !== 'ar' && !toFolder && !perClass;
  const t0 = performance.now();
  let tokens: Int32Array;
  let evals: number;
  let frames: ReverseFrames | null = null;
  if (config.prior === 'ar') {
    if (out.toLowerCase().endsWith('.gif')) throw new UsageError('sample: a .gif shows the reverse diffusion process; use .png for the AR prior.');
    const lf = cachedLogitsOf(prior, n, guidance);
    try {
      tokens = await sampleAR(lf.logits, { batch: n, length: L }, { ...opts, start, prefix: completion?.prefix, prefixLength });
    } finally {
      lf.dispose();
    }
    evals = L - prefixLength;
  } else {
    const r = await drawWithFrames(prior, state.vqvae, { n, start, guidance, steps: Number(f.steps), completion, ...opts, ...diffusionSamplerOptions(f) }, outIsReverse || reverse.length > 0);
    ({ tokens, evals, frames } = r);
  }
  const secs = (performance.now() - t0) / 1000;
  if (frames && outIsReverse) await writeReverseFigure(out, frames);
  for (const p of reverse) await writeReverseFigure(p, frames!, reverseChains(n, perClass ? classList.length : 1));
  const images = await decodeTokens(state.vqvae, tokens, n);
  if (toFolder) writeEach(out, images, n, tc.size);
  else if (perClass) {
    const k = n / classList.length, per = 3 * tc.size * tc.size;
    writePng(out, joinPanels(classList.map((_, c) => gridOf(images.subarray(c * k * per, (c + 1) * k * per), k, tc.size)), 'row', 16));
  } else if (out.toLowerCase().endsWith('.png') && config.prior === 'ar') {
    const panel = gridOf(images, n, tc.size);
    if (completion) {
      const orig = await decodeTokens(state.vqvae, completion.originals, n);
      writePng(out, joinPanels([panel, gridOf(orig, n, tc.size)], 'row', 16));
    } else writePng(out, panel);
  }
  console.error(`sample: ${n} images from the ${kindLabel(config)} prior in ${secs.toFixed(2)} s (${evals} network evaluations, ${(secs / n).toFixed(3)} s per image) → ${[out, ...reverse].join(', ')}`);
}
