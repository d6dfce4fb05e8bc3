// Images ↔ token grids in batches (browser-safe): every image a BatchLoader gives → its token grid
// (what `vqgpu encode` stores in a token cache, and what the page's Train view encodes before it
// trains a prior), and token grids → images (`vqgpu sample`, the Train view's sample grid). Batches
// are cut so that every activation fits one binding of the device (inferenceBatch).

import { noGrad } from '../../autograd/tape.js';
import type { BatchLoader } from '../../data/batch-loader.js';
import type { TokenCacheItem } from '../../data/token-cache.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../tensor/tensor.js';
import type { VQVAE } from './vqvae.js';

/**
 * Every item of one epoch of `loader` (evaluation order: build it with split 'all' and batch
 * `inferenceBatch(...)`) → its token grid, with the item's split and label, as a cache stores them.
 * Files that do not decode are skipped by the loader (loader.bad names them).
 */
export async function encodeImages(vqvae: VQVAE, loader: BatchLoader): Promise<{ tokens: Uint16Array; items: TokenCacheItem[] }> {
  const { size, grid } = vqvae.config;
  const chunks: Int32Array[] = [];
  const items: TokenCacheItem[] = [];
  for (const b of loader.epoch()) {
    const k = b.items.length;
    const t = noGrad(() => tidy(() => vqvae.encode(tensor(b.images.subarray(0, k * 3 * size * size), [k, 3, size, size])).keepAlive()));
    chunks.push((await t.toArray()) as Int32Array);
    t.dispose();
    for (const it of b.items) items.push({ key: it.key, split: it.heldout ? 'heldout' : 'train', label: it.label });
  }
  const tokens = new Uint16Array(items.length * grid * grid);
  let at = 0;
  for (const c of chunks) {
    tokens.set(c, at);
    at += c.length;
  }
  return { tokens, items };
}

// token grids → images: one module for the CLI, the page and the library
export { decodeTokens } from './decode-tokens.js';
