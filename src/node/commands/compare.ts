// vqgpu compare --tokenizer TOKRUN --priors RUN1,RUN2,... --tokens CACHE [--n 256] [--cfg S] [--json]
// The same measurements for every prior: network evaluations and seconds per image, held-out loss,
// and eval-samples' sample-quality numbers (KID, precision/recall, class accuracy, nn_ratio,
// copies) in a classifier's features (src/node/sample-scorer.ts), beside the reference rows (the
// held-out images, their reconstructions, N training grids decoded). Also writes a side-by-side
// figure. Class-conditional priors draw each image's class from the cache's training frequencies
// and sample with classifier-free guidance --cfg (unconditional priors ignore it).

import { joinPanels } from '../../data/figure.js';
import { splitTokens } from '../../data/token-cache.js';
import { classFrequencies, classNames, conditionTokens, drawClasses } from '../../models/prior/classes.js';
import { noiseOf } from '../../models/prior/config.js';
import { GUIDANCE_FLAGS, resolveGuidance } from '../prior-guidance.js';
import { parseFlags, UsageError, type FlagSpec } from '../../io/flags.js';
import { drawTokens } from '../../sample/draw-from-prior.js';
import { checkCacheMatchesPrior, loadPriorRun, readTokenCache } from '../prior-run.js';
import { formatRow, nameMap, sampleScorer } from '../sample-scorer.js';
import { loadTokenizerRun } from '../tokenizer-run.js';
import { writePng } from '../write-image.js';
import { heldoutLoss } from './eval-prior.js';
import { gridOf } from './sample.js';
import { decodeTokens } from '../../models/tokenizer/decode-tokens.js';
import { DIFFUSION_SAMPLER_FLAGS, diffusionSamplerOptions } from './sample-diffusion.js';
import { DIFFUSION_SAMPLER_DEFAULTS } from '../../sample/diffusion.js';

export const COMPARE_FLAGS: Record<string, FlagSpec> = {
  tokenizer: { type: 'string', help: 'tokenizer run folder', required: true },
  priors: { type: 'string', help: 'comma-separated prior run folders', required: true },
  tokens: { type: 'string', help: 'token cache', required: true },
  n: { type: 'int', help: 'images generated per prior (and real images compared)', default: 256, min: 16 },
  batch: { type: 'int', help: 'images per sampling batch', default: 64, min: 1 },
  steps: { type: 'int', help: 'diffusion/mask: denoising steps (as `sample`)', default: DIFFUSION_SAMPLER_DEFAULTS.steps, min: 1, max: 10000 },
  temperature: { type: 'number', help: 'sampling temperature (> 0; diffusion: of the first step)', default: 1, above: 0 },
  ...DIFFUSION_SAMPLER_FLAGS,
  seed: { type: 'int', help: 'random seed', default: 0 },
  ...GUIDANCE_FLAGS,
  classifier: { type: 'string', help: "classifier run whose features score the images (default: 'classifier' beside the tokenizer folder)" },
  out: { type: 'string', help: 'side-by-side figure (.png)' },
  json: { type: 'boolean', help: 'JSON lines only' },
};

export async function compare(argv: string[]): Promise<void> {
  const f = parseFlags(argv, COMPARE_FLAGS, 'compare');
  if (f.out !== undefined && !/\.png$/i.test(f.out as string)) throw new UsageError(`compare: --out is a .png figure, got '${f.out}'.`);
  const n = Number(f.n), batch = Number(f.batch);
  const { state, ckpt } = await loadTokenizerRun(f.tokenizer as string);
  const cache = readTokenCache(f.tokens as string);
  const S = state.config.size;

  // Every prior loaded and checked against the cache before anything is scored or sampled: a bad
  // folder is one error at once, not one after minutes of sampling the others.
  const runs = [];
  for (const dir of (f.priors as string).split(',').filter(Boolean)) {
    const run = await loadPriorRun(dir);
    checkCacheMatchesPrior(cache, f.tokens as string, run.config, dir);
    runs.push({ dir, ...run });
  }
  const log = (m: string) => { if (!f.json) console.error(`compare: ${m}`); };
  const scorer = await sampleScorer({
    classifierPath: f.classifier as string | undefined, tokenizerPath: f.tokenizer as string, tokenizer: state,
    dataSpec: (ckpt.config as { data: string }).data, cache, log,
  });
  const panels = [];
  const rows: Record<string, unknown>[] = [];
  for (const { dir, prior, config } of runs) {
    const L = config.grid ** 2;
    const tokens = new Int32Array(n * L);
    let evals = 0;
    if (config.classes === 0 && (f.cfg !== undefined || f['cfg-schedule'] !== undefined)) console.error(`note: '${dir}' is unconditional; --cfg does not apply to it.`);
    const guidance = config.classes > 0 ? resolveGuidance(config, f.cfg as number | undefined, f['cfg-schedule'] as string | undefined, dir, 'compare') : null;
    const freq = config.classes > 0 ? classFrequencies(config, cache).counts : null;
    const names = config.classes > 0 ? classNames(config, cache) : [];
    const labels = freq ? drawClasses(freq, n, Number(f.seed)) : new Int32Array(n).fill(-1);
    const sampleBatch = async (b0: number, B: number, seed: number): Promise<Int32Array> => {
      const r = await drawTokens(prior, B, {
        start: conditionTokens(config, labels.subarray(b0, b0 + B)), guidance, seed, temperature: Number(f.temperature),
        topK: 0, topP: 1, steps: Number(f.steps), diffusion: diffusionSamplerOptions(f),
      });
      evals = Math.max(evals, r.evals);
      return r.tokens;
    };
    // Warm-up (pipeline compilation) outside the timing.
    await sampleBatch(0, Math.min(batch, n), 999_999);
    evals = 0;
    const t0 = performance.now();
    for (let s = 0; s < n; s += batch) tokens.set(await sampleBatch(s, Math.min(batch, n - s), Number(f.seed) + s), s * L);
    const secs = (performance.now() - t0) / 1000;
    const images = await decodeTokens(state.vqvae, tokens, n);
    const quality = await scorer.score(images, n, tokens, freq ? labels.map(nameMap(names, scorer.classes)) : null);
    const held = await heldoutLoss(prior, splitTokens(cache, 'heldout'), config);
    const row = { row: 'samples', prior: dir, kind: config.prior, ...(config.prior === 'diffusion' ? { noise: noiseOf(config) } : {}), cfg: guidance ? guidance.scale : config.classes > 0 ? 1 : null, cfg_schedule: guidance?.schedule ?? null, evals_per_image: evals, seconds_per_image: secs / n, heldout_loss_bits: held.loss / Math.LN2, ...quality };
    rows.push(row);
    console.log(JSON.stringify(row));
    panels.push(gridOf(images.subarray(0, 9 * 3 * S * S), 9, S));
  }
  console.log(JSON.stringify({ row: 'heldout', ...scorer.heldout }));
  console.log(JSON.stringify({ row: 'reconstructions', ...scorer.reconstructions }));
  const trainingGrids = await scorer.trainingGrids(n, Number(f.seed));
  console.log(JSON.stringify({ row: 'training_grids', ...trainingGrids }));
  if (f.out) writePng(f.out as string, joinPanels(panels, 'row', 16));
  if (!f.json) {
    console.error('');
    for (const r of rows) {
      console.error(`${r.prior}: ${r.kind}, ${r.evals_per_image} evaluations and ${(r.seconds_per_image as number).toFixed(3)} s per image, held-out loss ${(r.heldout_loss_bits as number).toFixed(3)} bits/token`);
      console.error(formatRow(`  ${r.kind} samples`, r as unknown as Parameters<typeof formatRow>[1]));
    }
    console.error(formatRow('  held-out real images', scorer.heldout));
    console.error(formatRow('  tokenizer reconstructions', scorer.reconstructions));
    console.error(formatRow('  training grids decoded', trainingGrids));
  }
}
