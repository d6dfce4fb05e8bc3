// vqgpu demo: the README's main job, the whole two-stage pipeline on the emoji set:
//   train the tokenizer (32×32 → 8×8 tokens, 256 codes) → held-out PSNR → token cache →
//   train the AR prior → held-out bits per token → 3×3 samples and top-half completions →
//   a mask (MaskGIT-style) prior → its samples and reverse-process GIF.
// Each stage reuses a finished run in --out, so running it again continues or re-renders.
// Time budget: --minutes (default 12) split over the training stages.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runtime } from '../../device/runtime.js';
import { parseFlags, type FlagSpec } from '../args.js';
import { encode } from './encode.js';
import { evalPrior } from './eval-prior.js';
import { sample } from './sample.js';
import { trainPrior } from './train-prior.js';
import { trainTokenizer } from './train-tokenizer.js';

export const DEMO_FLAGS: Record<string, FlagSpec> = {
  out: { type: 'string', help: 'folder for the runs and figures', default: 'runs/demo' },
  minutes: { type: 'number', help: 'training time budget over all stages', default: 12, min: 0.5 },
  data: { type: 'string', help: "image data set ('emoji', 'synthetic' or a folder)", default: 'emoji' },
  seed: { type: 'int', help: 'random seed', default: 0 },
};

const stage = (s: string) => console.error(`\n== ${s}`);

export async function demo(argv: string[]): Promise<void> {
  const f = parseFlags(argv, DEMO_FLAGS, 'demo');
  const out = f.out as string, minutes = Number(f.minutes), seed = String(f.seed);
  const r = runtime().report;
  console.error(`vqgpu demo on ${[r.vendor, r.description].filter(Boolean).join(' / ')} (${r.host}); figures go to ${out}/`);
  const tok = join(out, 'tokenizer'), cache = join(out, 'tokens.bin'), ar = join(out, 'prior-ar'), mask = join(out, 'prior-mask');

  stage(`1/4 tokenizer: emoji 32×32 → 8×8 tokens, 256 codes (${(minutes * 0.5).toFixed(1)} min)`);
  await trainTokenizer([
    '--data', f.data as string, '--size', '32', '--grid', '8', '--codebook', '256', '--minutes', String(minutes * 0.5),
    '--batch', '16', '--adv-warmup', '1500', '--checkpoint-every', '250', '--log-every', '50', '--seed', seed, '--out', tok,
    ...(existsSync(join(tok, 'latest.json')) ? ['--resume'] : []),
  ]);

  stage('2/4 token cache');
  await encode(['--run', tok, '--out', cache]);

  stage(`3/4 autoregressive prior (${(minutes * 0.3).toFixed(1)} min)`);
  await trainPrior([
    '--kind', 'ar', '--tokens', cache, '--layers', '4', '--dim', '128', '--heads', '4', '--minutes', String(minutes * 0.3),
    '--batch', '32', '--eval-every', '200', '--log-every', '50', '--seed', seed, '--out', ar,
    ...(existsSync(join(ar, 'latest.json')) ? ['--resume'] : []),
  ]);
  await evalPrior(['--prior', ar, '--tokens', cache]);
  await sample(['--tokenizer', tok, '--prior', ar, '--n', '9', '--temperature', '1', '--top-k', '64', '--seed', seed, '--out', join(out, 'samples-ar.png')]);
  await sample(['--tokenizer', tok, '--prior', ar, '--n', '9', '--prefix-rows', '4', '--tokens', cache, '--seed', seed, '--out', join(out, 'completion-half.png')]);

  stage(`4/4 mask (MaskGIT-style) prior (${(minutes * 0.2).toFixed(1)} min)`);
  await trainPrior([
    '--kind', 'mask', '--tokens', cache, '--layers', '4', '--dim', '128', '--heads', '4', '--minutes', String(minutes * 0.2),
    '--batch', '32', '--eval-every', '200', '--log-every', '50', '--seed', seed, '--out', mask,
    ...(existsSync(join(mask, 'latest.json')) ? ['--resume'] : []),
  ]);
  await evalPrior(['--prior', mask, '--tokens', cache]);
  await sample(['--tokenizer', tok, '--prior', mask, '--n', '9', '--steps', '12', '--temperature', '1', '--seed', seed, '--out', join(out, 'reverse-mask.gif')]);
  await sample(['--tokenizer', tok, '--prior', mask, '--n', '9', '--steps', '12', '--temperature', '1', '--seed', seed, '--out', join(out, 'reverse-mask.png')]);
  console.error(`\ndemo done: figures in ${out}/ (tokenizer/recon-final.png, samples-ar.png, completion-half.png, reverse-mask.gif/.png)`);
}
