// vqgpu demo: the README's main job, the whole two-stage pipeline small on the emoji set:
//   train the tokenizer (32×32 → 8×8 tokens, 256 codes; held-out PSNR) → token cache →
//   class-conditional AR prior (held-out bits/token; 3×3 samples, one grid per class for flags,
//   smileys, people and symbols; completions from the top half, top quarter, first
//   token) → the seed's diffusion prior and the mask (MaskGIT-style) prior (reverse-process strips
//   and GIFs). Each stage resumes a run found in --out, so running it again continues training.
// Time budget: --minutes (default 7.5) of training split over the stages, plus ~2.5 minutes of
// encoding, evaluation, sampling and shader compiles: about 10 minutes on a 2-core CPU adapter.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runtime } from '../../device/runtime.js';
import { splitTokens } from '../../data/token-cache.js';
import { readTokenCache } from '../prior-run.js';
import { parseFlags, type FlagSpec } from '../args.js';
import { encode } from './encode.js';
import { evalPrior } from './eval-prior.js';
import { sample } from './sample.js';
import { trainPrior } from './train-prior.js';
import { trainTokenizer } from './train-tokenizer.js';

export const DEMO_FLAGS: Record<string, FlagSpec> = {
  out: { type: 'string', help: 'folder for the runs and figures', default: 'runs/demo' },
  minutes: { type: 'number', help: 'training time budget over all stages', default: 7.5, min: 0.5 },
  data: { type: 'string', help: "image data set ('emoji', 'synthetic' or a folder)", default: 'emoji' },
  seed: { type: 'int', help: 'random seed', default: 0 },
};

const stage = (s: string) => console.error(`\n== ${s}`);
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** The classes the demo draws grids of: flags, smileys, people and symbols where the data has them, else its first four. */
export function demoClasses(labels: readonly string[]): string[] {
  const want = ['flags', 'smileys', 'people', 'symbols'];
  const found = want.map((w) => labels.find((l) => l.toLowerCase().startsWith(w))).filter((l): l is string => !!l);
  return found.length ? found : labels.slice(0, 4);
}
const resume = (dir: string) => (existsSync(join(dir, 'latest.json')) ? ['--resume'] : []);

export async function demo(argv: string[]): Promise<void> {
  const f = parseFlags(argv, DEMO_FLAGS, 'demo');
  const out = f.out as string, minutes = Number(f.minutes), seed = String(f.seed);
  const r = runtime().report;
  console.error(`vqgpu demo on ${[r.vendor, r.description].filter(Boolean).join(' / ')} (${r.host}); figures go to ${out}/`);
  const tok = join(out, 'tokenizer'), cache = join(out, 'tokens.bin');
  // Priors get 1–2 minutes each on a CPU adapter (~1,000 training tokens/s): batch 16 and a short
  // warm-up give them ~100 steps instead of ~35 at batch 32 (whose warm-up alone took 50), and the
  // cosine schedule ends near where the budget does (later steps run at lr/10).
  const prior = ['--class-cond', '--layers', '3', '--dim', '128', '--heads', '4', '--batch', '16', '--lr', '2e-3', '--warmup', '10', '--schedule-steps', '150', '--eval-every', '200', '--log-every', '25', '--seed', seed];

  stage(`1/5 tokenizer: ${f.data} 32×32 → 8×8 tokens, 256 codes (${(minutes * 0.4).toFixed(1)} min)`);
  await trainTokenizer([
    '--data', f.data as string, '--size', '32', '--grid', '8', '--codebook', '256', '--width', '16', '--minutes', String(minutes * 0.4),
    '--batch', '16', '--lr', '1e-3', '--adv-warmup', '1000', '--checkpoint-every', '250', '--log-every', '25', '--seed', seed, '--out', tok, ...resume(tok),
  ]);

  stage('2/5 token cache');
  await encode(['--run', tok, '--out', cache]);

  const kinds: [string, number][] = [['ar', 0.3], ['diffusion', 0.15], ['mask', 0.15]];
  for (const [i, [kind, share]] of kinds.entries()) {
    const run = join(out, `prior-${kind}`);
    stage(`${3 + i}/5 ${kind} prior (${(minutes * share).toFixed(1)} min)`);
    await trainPrior(['--kind', kind, '--tokens', cache, '--minutes', String(minutes * share), ...prior, '--out', run, ...resume(run)]);
    await evalPrior(['--prior', run, '--tokens', cache]);
    const common = ['--tokenizer', tok, '--prior', run, '--n', '9', '--seed', seed];
    if (kind === 'ar') {
      await sample([...common, '--out', join(out, 'ar-samples.png')]);
      // Per-class 3×3 grids (class-conditional: the label picks the category).
      for (const c of demoClasses(readTokenCache(cache).header.labels)) {
        await sample([...common, '--class', c, '--out', join(out, `ar-class-${slug(c)}.png`)]);
      }
      // Completions take held-out items (9, or as many as the data set holds out).
      const held = splitTokens(readTokenCache(cache), 'heldout').count;
      common[common.indexOf('--n') + 1] = String(Math.min(9, held));
      await sample([...common, '--prefix-rows', '4', '--tokens', cache, '--out', join(out, 'ar-complete-half.png')]);
      await sample([...common, '--prefix-rows', '2', '--tokens', cache, '--out', join(out, 'ar-complete-quarter.png')]);
      await sample([...common, '--prefix-tokens', '1', '--tokens', cache, '--out', join(out, 'ar-complete-first-token.png')]);
    } else {
      const steps = kind === 'mask' ? '12' : '24', temp = kind === 'mask' ? '1' : '0.7';
      await sample([...common, '--steps', steps, '--temperature', temp, '--out', join(out, `${kind}-reverse.png`)]);
      await sample([...common, '--steps', steps, '--temperature', temp, '--out', join(out, `${kind}-reverse.gif`)]);
    }
  }
  console.error(`\ndemo done: figures in ${out}/ (tokenizer/recon-*.png, ar-samples.png, ar-class-*.png, ar-complete-*.png, diffusion-reverse.png/.gif, mask-reverse.png/.gif)`);
}
