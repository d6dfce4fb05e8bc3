// vqgpu encode --run RUN --data ... [--flip] [--shift N] --out CACHE: every image (both splits) → its token grid, stored
// with the split, the label and the tokenizer's checksum (later stages refuse a cache made by
// another tokenizer).

import { checkpointChecksum } from '../checksum.js';
import { runtime } from '../../device/runtime.js';
import { inferenceBatch } from '../../models/tokenizer/config.js';
import { encodeImages, FLIP_SUFFIX, SHIFT_TAG } from '../../models/tokenizer/batched-codec.js';
import { encodeTokenCache } from '../../data/token-cache.js';
import { parseFlags, type FlagSpec } from '../../io/flags.js';
import { writeFileAtomicSync } from '../atomic-file.js';
import { openDataSet } from '../dataset.js';
import { ImageLoader } from '../image-loader.js';
import { loadTokenizerRun } from '../tokenizer-run.js';

export const ENCODE_FLAGS: Record<string, FlagSpec> = {
  run: { type: 'string', help: 'tokenizer run folder', required: true },
  data: { type: 'string', help: 'data set (default: the one it was trained on)' },
  out: { type: 'string', help: 'token cache file to write', required: true },
  batch: { type: 'int', help: 'images per batch', default: 64, min: 1 },
  flip: { type: 'boolean', help: "also store every training image mirrored left to right (key KEY#flip): twice the grids for the priors, from the flips the tokenizer trained on; held-out images are never mirrored" },
  shift: { type: 'int', help: 'also store every training image (and its mirror, with --flip) moved by N pixels to its 8 neighbouring positions (white fill; key KEY#shift=DX,DY): 9× the grids (for the 3 × 128 AR prior at 3,000 steps they measured worse than mirrors alone: docs/sampling.md); 0: none', default: 0, min: 0 },
};

/** SHA-256 of a checkpoint file, shortened: identifies the tokenizer that made a cache. */
export async function encode(argv: string[]): Promise<void> {
  const f = parseFlags(argv, ENCODE_FLAGS, 'encode');
  const { state, config, ckpt } = await loadTokenizerRun(f.run as string);
  const dataSpec = (f.data as string | undefined) ?? (ckpt.config as { data: string }).data;
  const data = openDataSet(dataSpec);
  // (batches shrink where one image's activations are large: every binding stays within the device's limit)
  const batch = inferenceBatch(config, Number(f.batch), runtime().maxBindingBytes);
  const loader = new ImageLoader(data, { size: config.size, batch, split: 'all' });
  const { tokens, items } = await encodeImages(state.vqvae, loader, { flip: !!f.flip, shift: Number(f.shift) });
  const bytes = encodeTokenCache({
    header: {
      version: 1, codebook: config.codebook, grid: config.grid,
      tokenizer: { checksum: checkpointChecksum(ckpt.path), step: ckpt.step, path: f.run as string },
      labels: data.labels, items,
    },
    tokens,
  });
  writeFileAtomicSync(f.out as string, bytes);
  const held = items.filter((i) => i.split === 'heldout').length;
  const mirrored = items.filter((it) => it.key.includes(FLIP_SUFFIX)).length;
  const moved = items.filter((it) => it.key.includes(SHIFT_TAG)).length;
  const parts = [f.flip ? `${mirrored} mirrored` : '', Number(f.shift) ? `${moved} moved by ${f.shift} px` : ''].filter(Boolean);
  const added = parts.length ? ` (training images: ${parts.join(', ')})` : '';
  console.error(`encode: ${items.length} grids${added}, ${held} held out → ${config.grid}×${config.grid} tokens → ${f.out}`);
  if (loader.bad.size) console.error(`warning: ${loader.bad.size} bad image file(s) were skipped.`);
}
