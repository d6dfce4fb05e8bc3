// vqgpu compare --tokenizer TOKRUN --priors RUN1,RUN2,... --tokens CACHE [--n 256] [--cfg S] [--json]
// The same measurements for every prior: network evaluations and seconds per image, held-out loss,
// and a sample-quality figure without downloaded weights: the Fréchet distance between real and
// generated images in the feature space of the trained tokenizer (spatial means of the
// discriminator's activations and of the encoder's output). Also writes a side-by-side figure.
// Class-conditional priors draw each image's class from the cache's training frequencies and
// sample with classifier-free guidance --cfg (unconditional priors ignore it).

import { noGrad } from '../../autograd/tape.js';
import { joinPanels } from '../../data/figure.js';
import { splitTokens } from '../../data/token-cache.js';
import { frechetDistance } from '../../eval/frechet.js';
import type { TokenizerState } from '../tokenizer-run.js';
import { concat, reshape } from '../../ops/layout.js';
import { mean } from '../../ops/reduce.js';
import { sampleAR } from '../../sample/ar.js';
import { cachedLogitsOf, conditionTokens, classFrequencies, drawClasses, fullLogitsOf, GUIDANCE_FLAGS, resolveGuidance } from '../prior-guidance.js';
import { sampleDiffusion, sampleMask } from '../../sample/diffusion.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../tensor/tensor.js';
import { maskToken } from '../../models/prior/config.js';
import { parseFlags, type FlagSpec } from '../args.js';
import { openDataSet } from '../dataset.js';
import { ImageLoader } from '../image-loader.js';
import { checkCacheMatchesPrior, loadPriorRun, readTokenCache } from '../prior-run.js';
import { loadTokenizerRun } from '../tokenizer-run.js';
import { writePng } from '../write-image.js';
import { heldoutLoss } from './eval-prior.js';
import { decodeTokens, gridOf } from './sample.js';
import { DIFFUSION_SAMPLER_FLAGS, diffusionSamplerOptions } from './sample-diffusion.js';

export const COMPARE_FLAGS: Record<string, FlagSpec> = {
  tokenizer: { type: 'string', help: 'tokenizer run folder', required: true },
  priors: { type: 'string', help: 'comma-separated prior run folders', required: true },
  tokens: { type: 'string', help: 'token cache', required: true },
  n: { type: 'int', help: 'images generated per prior (and real images compared)', default: 256, min: 16 },
  batch: { type: 'int', help: 'images per sampling batch', default: 64, min: 1 },
  steps: { type: 'int', help: 'diffusion/mask sampling steps', default: 16, min: 1 },
  temperature: { type: 'number', help: 'sampling temperature (diffusion: of the first step)', default: 1 },
  ...DIFFUSION_SAMPLER_FLAGS,
  seed: { type: 'int', help: 'random seed', default: 0 },
  ...GUIDANCE_FLAGS,
  out: { type: 'string', help: 'side-by-side figure (.png)' },
  json: { type: 'boolean', help: 'JSON lines only' },
};

/** Features [n, d] of images [n, 3, S, S]: spatial means of the discriminator's activations and z_e. */
export async function imageFeatures(state: TokenizerState, images: Float32Array, n: number): Promise<{ data: Float32Array; dim: number }> {
  const S = state.config.size;
  const f = noGrad(() =>
    tidy(() => {
      const x = tensor(images, [n, 3, S, S]);
      const parts = [...state.disc.forward(x).features, state.vqvae.encoder.forward(x)].map((t) => mean(t, [2, 3]));
      return reshape(concat(parts, 1), [n, -1]).keepAlive();
    }),
  );
  const data = (await f.toArray()) as Float32Array;
  const dim = f.shape[1];
  f.dispose();
  return { data, dim };
}

export async function compare(argv: string[]): Promise<void> {
  const f = parseFlags(argv, COMPARE_FLAGS, 'compare');
  const n = Number(f.n), batch = Number(f.batch);
  const { state, ckpt } = await loadTokenizerRun(f.tokenizer as string);
  const cache = readTokenCache(f.tokens as string);
  const S = state.config.size;

  // Real images: the training split of the tokenizer's data set (the first n in file order).
  const data = openDataSet((ckpt.config as { data: string }).data);
  const loader = new ImageLoader(data, { size: S, batch: n, split: 'train' });
  const real = loader.epoch().next().value!;
  const realF = await imageFeatures(state, real.images, real.items.length);

  const panels = [];
  const rows: Record<string, unknown>[] = [];
  for (const dir of (f.priors as string).split(',').filter(Boolean)) {
    const { prior, config } = await loadPriorRun(dir);
    checkCacheMatchesPrior(cache, f.tokens as string, config, dir);
    const L = config.grid ** 2;
    const tokens = new Int32Array(n * L);
    let evals = 0;
    if (config.classes === 0 && (f.cfg !== undefined || f['cfg-schedule'] !== undefined)) console.error(`note: '${dir}' is unconditional; --cfg does not apply to it.`);
    const guidance = config.classes > 0 ? resolveGuidance(config, f.cfg as number | undefined, f['cfg-schedule'] as string | undefined, dir, 'compare') : null;
    const freq = config.classes > 0 ? classFrequencies(config, cache).counts : null;
    const sampleBatch = async (B: number, seed: number): Promise<Int32Array> => {
      const start = conditionTokens(config, freq ? drawClasses(freq, B, seed) : new Int32Array(B).fill(-1));
      const opts = { temperature: Number(f.temperature), seed };
      if (config.prior === 'ar') {
        const lf = cachedLogitsOf(prior, B, guidance);
        try {
          evals = L;
          return await sampleAR(lf.logits, { batch: B, length: L }, { ...opts, start });
        } finally {
          lf.dispose();
        }
      }
      const common = { ...opts, steps: Number(f.steps), codebook: config.codebook };
      const fn = fullLogitsOf(prior, start, guidance, Number(f.steps));
      const { confidenceTemperature, ...chain } = diffusionSamplerOptions(f);
      const r = config.prior === 'mask'
        ? await sampleMask(fn, { batch: B, length: L }, { ...common, maskToken: maskToken(config), confidenceTemperature })
        : await sampleDiffusion(fn, { batch: B, length: L }, { ...common, ...chain });
      evals = Math.max(evals, r.evals);
      return r.tokens;
    };
    // Warm-up (pipeline compilation) outside the timing.
    await sampleBatch(Math.min(batch, n), 999_999);
    evals = 0;
    const t0 = performance.now();
    for (let s = 0; s < n; s += batch) tokens.set(await sampleBatch(Math.min(batch, n - s), Number(f.seed) + s), s * L);
    const secs = (performance.now() - t0) / 1000;
    const images = await decodeTokens(state.vqvae, tokens, n);
    const genF = await imageFeatures(state, images, n);
    const fd = frechetDistance(realF.data, real.items.length, genF.data, n, realF.dim);
    const held = await heldoutLoss(prior, splitTokens(cache, 'heldout'), config);
    const row = { prior: dir, kind: config.prior, cfg: guidance ? guidance.scale : config.classes > 0 ? 1 : null, cfg_schedule: guidance?.schedule ?? null, evals_per_image: evals, seconds_per_image: secs / n, heldout_loss_bits: held.loss / Math.LN2, frechet: fd, n };
    rows.push(row);
    console.log(JSON.stringify(row));
    panels.push(gridOf(images.subarray(0, 9 * 3 * S * S), 9, S));
  }
  if (f.out) writePng(f.out as string, joinPanels(panels, 'row', 16));
  if (!f.json) {
    console.error('\n| prior | kind | evaluations / image | s / image | held-out loss (bits/token) | Fréchet distance |');
    console.error('|---|---|---|---|---|---|');
    for (const r of rows) {
      console.error(`| ${r.prior} | ${r.kind} | ${r.evals_per_image} | ${(r.seconds_per_image as number).toFixed(3)} | ${(r.heldout_loss_bits as number).toFixed(3)} | ${(r.frechet as number).toFixed(3)} |`);
    }
  }
}
