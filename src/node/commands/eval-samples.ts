// vqgpu eval-samples --tokenizer TOKRUN --prior RUN --tokens CACHE [--classifier RUN] [--n 1000]
//   [--class NAME] [--cfg S] [--temperature T] [--top-k K] [--steps S] [--seed S] [--json]
// Draws N samples and scores them in the feature space of a classifier of the data set's classes
// (trained by `vqgpu train-classifier`; never the tokenizer or the prior: a model must not judge
// itself) against the training images, beside three reference rows scored the same way: the held-out
// real images (the floor every generator aims at), the tokenizer's reconstructions of them (the
// best any prior can reach through this tokenizer), both as many as the held-out split holds, and N
// training grids decoded (that floor again at the samples' N: a prior that returned its training
// grids; copies 1 by construction). One JSON line per row; see eval/sample-quality.ts.

import type { TokenCache } from '../../data/token-cache.js';
import type { QualityRow } from '../../eval/sample-quality.js';
import { kindLabel, noiseOf } from '../../models/prior/config.js';
import { parseFlags, UsageError, type FlagSpec } from '../../io/flags.js';
import { drawTokens } from '../../sample/draw-from-prior.js';
import { formatRow, nameMap, sampleScorer } from '../sample-scorer.js';
import { checkCacheMatchesPrior, loadPriorRun, readTokenCache } from '../prior-run.js';
import { classFrequencies, classNames, conditionTokens, drawClasses } from '../../models/prior/classes.js';
import { GUIDANCE_FLAGS, parseClass, resolveGuidance } from '../prior-guidance.js';
import { loadTokenizerRun } from '../tokenizer-run.js';
import { decodeTokens } from '../../models/tokenizer/decode-tokens.js';
import { DIFFUSION_SAMPLER_FLAGS, diffusionSamplerOptions } from './sample-diffusion.js';

export const EVAL_SAMPLES_FLAGS: Record<string, FlagSpec> = {
  tokenizer: { type: 'string', help: 'tokenizer run folder', required: true },
  prior: { type: 'string', help: 'prior run folder', required: true },
  tokens: { type: 'string', help: "token cache the prior was trained on (training grids, held-out grids, class frequencies)", required: true },
  classifier: { type: 'string', help: "classifier run whose features score the images (default: 'classifier' beside the tokenizer folder)" },
  n: { type: 'int', help: 'samples', default: 1000, min: 10, max: 100000 },
  class: { type: 'string', help: 'class-conditional priors: every sample of this class (default: drawn by the training frequencies)' },
  ...GUIDANCE_FLAGS,
  temperature: { type: 'number', help: 'sampling temperature (> 0)', default: 1, above: 0 },
  'top-k': { type: 'int', help: 'keep the k most likely codes (0: all)', default: 0, min: 0 },
  'top-p': { type: 'number', help: 'nucleus probability (1: all)', default: 1, above: 0, max: 1 },
  steps: { type: 'int', help: 'diffusion/mask: denoising steps', default: 32, min: 1, max: 10000 },
  seed: { type: 'int', help: 'random seed', default: 0 },
  ...DIFFUSION_SAMPLER_FLAGS,
  batch: { type: 'int', help: 'samples drawn per batch', default: 100, min: 1, max: 1024 },
  data: { type: 'string', help: "data set (default: the tokenizer's)" },
  json: { type: 'boolean', help: 'print only the JSON lines' },
};

/** One printed row: its title and the JSON line's fields. */
export interface SampleQualityRow { title: string; json: Record<string, unknown>; quality: QualityRow }

export async function evalSamples(argv: string[]): Promise<void> {
  const f = parseFlags(argv, EVAL_SAMPLES_FLAGS, 'eval-samples');
  for (const r of await evalSamplesRows(argv)) console.log(f.json ? JSON.stringify(r.json) : formatRow(r.title, r.quality));
}

/** eval-samples' measurement: the samples' row, then the held-out, reconstruction and training-grid rows. */
export async function evalSamplesRows(argv: string[]): Promise<SampleQualityRow[]> {
  const f = parseFlags(argv, EVAL_SAMPLES_FLAGS, 'eval-samples');
  const log = (m: string) => { if (!f.json) console.error(`eval-samples: ${m}`); };
  const priorPath = f.prior as string, cachePath = f.tokens as string;
  const { prior, config } = await loadPriorRun(priorPath);
  const cache: TokenCache = readTokenCache(cachePath);
  checkCacheMatchesPrior(cache, cachePath, config, priorPath);
  const { state, ckpt: tokCkpt } = await loadTokenizerRun(f.tokenizer as string);
  const size = state.config.size;
  if (config.classes === 0 && f.class !== undefined) throw new UsageError(`eval-samples: --class needs a class-conditional prior; '${priorPath}' is unconditional.`);
  const guidance = resolveGuidance(config, f.cfg as number | undefined, f['cfg-schedule'] as string | undefined, priorPath, 'eval-samples');

  const dataSpec = (f.data as string | undefined) ?? (tokCkpt.config as { data?: string }).data ?? 'emoji';
  const scorer = await sampleScorer({ classifierPath: f.classifier as string | undefined, tokenizerPath: f.tokenizer as string, tokenizer: state, dataSpec, cache, log });

  // The samples: classes by --class or by the training frequencies, drawn in batches.
  const n = Number(f.n), B = Number(f.batch), L = config.grid ** 2;
  const names = config.classes > 0 ? classNames(config, cache) : [];
  let labels: Int32Array = new Int32Array(n).fill(-1);
  if (config.classes > 0) {
    labels = f.class !== undefined ? labels.fill(parseClass(f.class as string, names, 'eval-samples')) : drawClasses(classFrequencies(config, cache).counts, n, Number(f.seed));
  }
  const tokens = new Int32Array(n * L);
  let evals = 0;
  const t0 = performance.now();
  const images = new Float32Array(n * 3 * size * size);
  for (let b0 = 0; b0 < n; b0 += B) {
    const k = Math.min(B, n - b0);
    const r = await drawTokens(prior, k, {
      start: conditionTokens(config, labels.subarray(b0, b0 + k)), guidance, seed: Number(f.seed) + b0,
      temperature: Number(f.temperature), topK: Number(f['top-k']), topP: Number(f['top-p']), steps: Number(f.steps),
      diffusion: diffusionSamplerOptions(f),
    });
    tokens.set(r.tokens, b0 * L);
    evals += r.evals * k;
    images.set(await decodeTokens(state.vqvae, r.tokens, k), b0 * 3 * size * size);
    log(`${b0 + k}/${n} samples`);
  }
  const secs = (performance.now() - t0) / 1000;
  const wanted = config.classes > 0 ? labels.map(nameMap(names, scorer.classes)) : null;
  const quality = await scorer.score(images, n, tokens, wanted);

  const rows: [string, Record<string, unknown>, QualityRow][] = [
    [`${kindLabel(config)} prior`, {
      row: 'samples', prior: config.prior, ...(config.prior === 'diffusion' ? { noise: noiseOf(config) } : {}), cfg: guidance ? guidance.scale : 1, temperature: Number(f.temperature),
      top_k: Number(f['top-k']), steps: config.prior === 'ar' ? null : Number(f.steps), class: f.class ?? null,
      s_per_image: secs / n, evaluations_per_image: evals / n,
    }, quality],
    ['held-out real images', { row: 'heldout' }, scorer.heldout],
    ['tokenizer reconstructions', { row: 'reconstructions' }, scorer.reconstructions],
    ['training grids decoded', { row: 'training_grids' }, await scorer.trainingGrids(n, Number(f.seed))],
  ];
  log(`${(secs / n).toFixed(4)} s and ${(evals / n).toFixed(1)} network evaluations per image`);
  return rows.map(([title, head, quality]) => ({ title, json: { ...head, ...quality }, quality }));
}
