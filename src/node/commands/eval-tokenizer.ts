// vqgpu eval-tokenizer --run RUN [--data ...] [--split heldout|train|all] [--json]: PSNR, L1,
// codebook usage and perplexity on the held-out split (by default), as one JSON line.

import { runtime } from '../../device/runtime.js';
import { inferenceBatch } from '../../models/tokenizer/config.js';
import { noGrad } from '../../autograd/tape.js';
import { usageStats } from '../../models/tokenizer/quantizer.js';
import type { VQVAE } from '../../models/tokenizer/vqvae.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../tensor/tensor.js';
import { parseFlags, type FlagSpec } from '../../io/flags.js';
import { openDataSet, type DataSet } from '../dataset.js';
import { ImageLoader } from '../image-loader.js';
import { loadTokenizerRun } from '../tokenizer-run.js';
import { reconstructionFigure } from '../recon-figure.js';
import { writePng } from '../write-image.js';

export interface TokenizerMetrics {
  psnr: number;
  l1: number;
  codebook_usage: number;
  perplexity: number;
  images: number;
}

/** Reconstructs every image of the split (held-out by default; clamped to [-1, 1]) and measures it against the original. */
export async function evaluateTokenizer(
  model: VQVAE, data: DataSet, opts: { batch: number; split?: 'heldout' | 'train' | 'all'; onBadFile?: (path: string, reason: string) => void },
): Promise<TokenizerMetrics> {
  const size = model.config.size;
  const batch = inferenceBatch(model.config, opts.batch, runtime().maxBindingBytes);
  const loader = new ImageLoader(data, { size, batch, split: opts.split ?? 'heldout', onBadFile: opts.onBadFile });
  const counts = new Float64Array(model.config.codebook);
  let se = 0, ae = 0, n = 0, psnrSum = 0;
  model.eval();
  for (const b of loader.epoch()) {
    const k = b.items.length;
    const [rec, idx] = noGrad(() =>
      tidy(() => {
        const x = tensor(b.images, [k, 3, size, size]);
        const out = model.forward(x);
        return [out.recon.keepAlive(), out.indices.keepAlive()];
      }),
    );
    const r = (await rec.toArray()) as Float32Array;
    const ids = (await idx.toArray()) as Int32Array;
    rec.dispose();
    idx.dispose();
    for (const i of ids) counts[i]++;
    const per = 3 * size * size;
    for (let j = 0; j < k; j++) {
      let e = 0;
      for (let p = j * per; p < (j + 1) * per; p++) {
        // Compare in [0, 1] pixel units, reconstruction clamped as it would be displayed.
        const y = (Math.min(1, Math.max(-1, r[p])) + 1) / 2, x = (b.images[p] + 1) / 2;
        e += (y - x) ** 2;
        ae += Math.abs(y - x);
      }
      se += e;
      psnrSum += 10 * Math.log10(1 / Math.max(e / per, 1e-10));
      n++;
    }
  }
  model.train();
  const u = usageStats(Float32Array.from(counts));
  return { psnr: psnrSum / Math.max(n, 1), l1: ae / Math.max(n * 3 * size * size, 1), codebook_usage: u.usage, perplexity: u.perplexity, images: n };
}

export const EVAL_TOKENIZER_FLAGS: Record<string, FlagSpec> = {
  run: { type: 'string', help: 'tokenizer run folder', required: true },
  data: { type: 'string', help: 'data set (default: the one it was trained on)' },
  batch: { type: 'int', help: 'images per batch', default: 64, min: 1 },
  split: { type: 'string', help: "which images: the held-out split, the training split (to see the generalisation gap) or all", default: 'heldout', choices: ['heldout', 'train', 'all'] },
  json: { type: 'boolean', help: 'print only the JSON line' },
  out: { type: 'string', help: "a figure (.png) of the split's first --figure-n images beside their reconstructions (the seed's Fig. 1)" },
  'figure-n': { type: 'int', help: 'images in that figure (rows of 4 pairs)', default: 16, min: 1 },
};

export async function evalTokenizer(argv: string[]): Promise<void> {
  const f = parseFlags(argv, EVAL_TOKENIZER_FLAGS, 'eval-tokenizer');
  const { state, ckpt } = await loadTokenizerRun(f.run as string);
  const dataSpec = (f.data as string | undefined) ?? (ckpt.config as { data: string }).data;
  const m = await evaluateTokenizer(state.vqvae, openDataSet(dataSpec), { batch: Number(f.batch), split: f.split as 'heldout' | 'train' | 'all' });
  const line = JSON.stringify({ step: ckpt.step, ...m });
  if (!f.json) console.error(`eval-tokenizer: ${f.run} at step ${ckpt.step} on the ${f.split === 'heldout' ? 'held-out split' : f.split === 'train' ? 'training split' : 'whole set'} of ${dataSpec}`);
  console.log(line);
  if (f.out) {
    const n = Number(f['figure-n']);
    const loader = new ImageLoader(openDataSet(dataSpec), { size: state.vqvae.config.size, batch: n, split: f.split as 'heldout' | 'train' | 'all' });
    const b = loader.epoch().next().value;
    if (!b) throw new Error(`eval-tokenizer: the ${f.split} split of ${dataSpec} has no images for --out.`);
    writePng(f.out as string, await reconstructionFigure(state.vqvae, b.images, b.items.length, 4));
    if (!f.json) console.error(`eval-tokenizer: ${b.items.length} images and their reconstructions → ${f.out}`);
  }
}
