// vqgpu demo: the README's main job, about 10 minutes on a 2-core CPU adapter.
//   1. In its first minute, the seed's figures from the shipped reference models (models/emoji-32)
//      into <out>/reference/ (src/node/seed-figures.ts lists them).
//   2. The whole pipeline trained from scratch in --minutes: the tokenizer (32×32 → 8×8 tokens, 256
//      codes) → token cache → class-conditional AR, diffusion and mask priors → the same figures
//      into <out>/scratch/. Each stage resumes a run found there, so running it again trains on.
//   3. Sample quality of both AR priors by eval-samples (the reference classifier's features), side
//      by side with the reference rows (held-out images, their reconstructions, training grids
//      decoded), then where every figure is.

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runtime } from '../../device/runtime.js';
import { parseFlags, type FlagSpec } from '../../io/flags.js';
import { seedFigures, type SeedFigureInputs } from '../seed-figures.js';
import { PRIOR_VARIANTS } from '../../models/prior/config.js';
import { formatRow } from '../sample-scorer.js';
import { encode } from './encode.js';
import { evalPrior } from './eval-prior.js';
import { evalSamplesRows, type SampleQualityRow } from './eval-samples.js';
import { trainPrior } from './train-prior.js';
import { trainTokenizer } from './train-tokenizer.js';

export const DEMO_FLAGS: Record<string, FlagSpec> = {
  out: { type: 'string', help: 'folder for the runs and figures', default: 'runs/demo' },
  minutes: { type: 'number', help: 'training time budget of the from-scratch pipeline, over all its stages', default: 5.5, min: 0.5 },
  models: { type: 'string', help: "the reference models (a folder with tokenizer/, ar/, diffusion/, diffusion-d3pm/, mask/, classifier/, tokens.bin); 'none' skips them", default: 'models/emoji-32' },
  data: { type: 'string', help: "image data set of the from-scratch pipeline ('emoji', 'synthetic' or a folder)", default: 'emoji' },
  'eval-n': { type: 'int', help: 'samples scored per AR prior (0: no scoring)', default: 100, min: 0 },
  seed: { type: 'int', help: 'random seed', default: 0 },
};

const stage = (s: string) => console.error(`\n== ${s}`);
const resume = (dir: string) => (existsSync(join(dir, 'latest.json')) ? ['--resume'] : []);
const since = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(0)} s`;

export async function demo(argv: string[]): Promise<void> {
  const f = parseFlags(argv, DEMO_FLAGS, 'demo');
  const out = f.out as string, minutes = Number(f.minutes), seed = Number(f.seed), models = f.models as string;
  const r = runtime().report;
  console.error(`vqgpu demo on ${[r.vendor, r.description].filter(Boolean).join(' / ')} (${r.host}); figures go to ${out}/`);
  const t0 = Date.now();
  const figures: [string, string[]][] = [];

  // 1. The reference models' figures: every prior variant whose run folder is there (the three kinds and D3PM).
  const ref: SeedFigureInputs | null = models !== 'none' && existsSync(join(models, 'tokenizer', 'latest.json'))
    ? { tokenizer: join(models, 'tokenizer'), tokens: join(models, 'tokens.bin'), priors: Object.fromEntries(PRIOR_VARIANTS.filter((k) => existsSync(join(models, k, 'latest.json'))).map((k) => [k, join(models, k)])) }
    : null;
  if (ref) {
    stage(`1/3 the reference models (${models}): the seed's figures`);
    const dir = join(out, 'reference');
    mkdirSync(dir, { recursive: true });
    figures.push([`reference models (${models})`, await seedFigures(ref, dir, seed)]);
    console.error(`reference figures written in ${since(t0)}`);
  } else if (models !== 'none') {
    console.error(`demo: no reference models in '${models}' (see examples/reference-models.sh); training from scratch only.`);
  }

  // 2. The pipeline from scratch: the tokenizer recipe of the reference models (L2, l2-normalised
  // 8-dimensional codes, a linear decay to 0 where the budget ends), class-conditional priors small
  // enough for ~100–300 steps in a CPU minute.
  const dir = join(out, 'scratch');
  const tok = join(dir, 'tokenizer'), cache = join(dir, 'tokens.bin');
  stage(`2/3 from scratch: tokenizer, ${f.data} 32×32 → 8×8 tokens, 256 codes (${(minutes * 0.4).toFixed(1)} min)`);
  await trainTokenizer([
    '--data', f.data as string, '--size', '32', '--grid', '8', '--codebook', '256', '--patch', '2', '--width', '32', '--res-blocks', '2',
    '--enc-res-blocks', '1', '--batch', '8', '--lr', '2.5e-3', '--rec', 'l2', '--perceptual', '0', '--adversarial', '0', '--code-dim', '8',
    '--l2norm', '--beta', '0.5', '--schedule-steps', 'auto', '--schedule', 'linear', '--lr-final', '0',
    '--minutes', String(minutes * 0.4), '--log-every', '100', '--figure-every', '1000', '--seed', String(seed), '--out', tok, ...resume(tok),
  ]);
  await encode(['--run', tok, '--out', cache]);
  const prior = ['--class-cond', '--layers', '3', '--dim', '128', '--heads', '4', '--batch', '16', '--lr', '2e-3', '--warmup', '10', '--schedule-steps', '150', '--eval-every', '200', '--log-every', '25', '--seed', String(seed)];
  const scratch: SeedFigureInputs = { tokenizer: tok, tokens: cache, priors: {} };
  for (const [kind, share] of [['ar', 0.3], ['diffusion', 0.15], ['mask', 0.15]] as const) {
    const run = join(dir, kind);
    stage(`2/3 from scratch: ${kind} prior (${(minutes * share).toFixed(1)} min)`);
    await trainPrior(['--kind', kind, '--tokens', cache, '--minutes', String(minutes * share), ...prior, '--out', run, ...resume(run)]);
    await evalPrior(['--prior', run, '--tokens', cache]);
    scratch.priors[kind] = run;
  }
  stage('2/3 from scratch: the figures');
  figures.push(['trained from scratch', await seedFigures(scratch, dir, seed)]);

  // 3. Sample quality side by side (the reference models' classifier scores both: same features).
  const n = Number(f['eval-n']);
  const classifier = ref ? join(models, 'classifier') : null;
  const rows: [string, SampleQualityRow[]][] = [];
  if (n > 0 && classifier && existsSync(join(classifier, 'latest.json')) && f.data === 'emoji') {
    stage(`3/3 sample quality of the AR priors (n = ${n}, guided)`);
    for (const [name, m] of [['reference', ref!], ['scratch', scratch]] as const) {
      if (!m.priors.ar) continue;
      rows.push([name, await evalSamplesRows(['--tokenizer', m.tokenizer, '--prior', m.priors.ar, '--tokens', m.tokens, '--classifier', classifier, '--n', String(n), '--seed', String(seed), '--json'])]);
    }
  }

  console.error(`\ndemo done in ${since(t0)}.`);
  for (const [title, files] of figures) console.error(`  ${title}: ${files.length} figures in ${files.length ? files[0].slice(0, files[0].lastIndexOf('/')) : '-'}/ (${files.map((p) => p.slice(p.lastIndexOf('/') + 1)).join(', ')})`);
  if (rows.length) {
    console.error('\nsample quality (KID: lower is better; class acc: the share the classifier puts in the drawn class):');
    for (const [name, rs] of rows) console.error(formatRow(`AR prior, ${name}`, rs[0].quality));
    for (const r of rows[0][1].slice(1)) console.error(formatRow(r.title, r.quality));
  }
}
