// Images ↔ token grids in batches (browser-safe): every image a BatchLoader gives → its token grid
// (what `vqgpu encode` stores in a token cache, and what the page's Train view encodes before it
// trains a prior), and token grids → images (`vqgpu sample`, the Train view's sample grid). Batches
// are cut so that every activation fits one binding of the device (inferenceBatch).

import { noGrad } from '../../autograd/tape.js';
import type { BatchLoader } from '../../data/batch-loader.js';
import { augmentInto } from '../../data/image.js';
import type { TokenCacheItem } from '../../data/token-cache.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../tensor/tensor.js';
import type { VQVAE } from './vqvae.js';

/** What `encodeImages` adds to the items it is given. */
export interface EncodeOptions {
  /**
   * also encode every training image mirrored left to right, as one more training item (key
   * `KEY#flip`): twice the grids for the priors to learn from, from the flips the tokenizer trained
   * on. Held-out images are never mirrored, so the held-out numbers still measure the same images.
   */
  flip?: boolean;
  /**
   * also encode every training image (and its mirror, with `flip`) moved by this many pixels to
   * each of its 8 neighbouring positions (dx, dy ∈ {−n, 0, n}², white fill, as the tokenizer's
   * `shift` augmentation): 8 more training items each (key `KEY#shift=DX,DY`). 0: none.
   */
  shift?: number;
}

/** What a training item's key gains for its mirror image in a token cache. */
export const FLIP_SUFFIX = '#flip';
export const flippedKey = (key: string) => key + FLIP_SUFFIX;
/** What a training item's key gains for its copy moved by (dx, dy) pixels. */
export const SHIFT_TAG = '#shift=';
export const shiftedKey = (key: string, dx: number, dy: number) => `${key}${SHIFT_TAG}${dx},${dy}`;

/** The variants of every training image that `encodeImages` adds, in the order it adds them. */
function trainingVariants(opts: EncodeOptions): { flip: boolean; dx: number; dy: number }[] {
  const n = opts.shift ?? 0;
  const moves = n > 0 ? [-n, 0, n].flatMap((dy) => [-n, 0, n].map((dx) => [dx, dy] as const)) : [[0, 0] as const];
  const out: { flip: boolean; dx: number; dy: number }[] = [];
  for (const flip of opts.flip ? [false, true] : [false]) {
    for (const [dx, dy] of moves) if (flip || dx || dy) out.push({ flip, dx, dy });
  }
  return out;
}

function variantKey(key: string, v: { flip: boolean; dx: number; dy: number }): string {
  const k = v.flip ? flippedKey(key) : key;
  return v.dx || v.dy ? shiftedKey(k, v.dx, v.dy) : k;
}

/**
 * Every item of one epoch of `loader` (evaluation order: build it with split 'all' and batch
 * `inferenceBatch(...)`) → its token grid, with the item's split and label, as a cache stores them.
 * With `flip` and `shift`, each batch's training images mirrored and moved follow it, one batch of
 * at most the same size per variant (so every activation still fits its binding): the 8 moves of
 * the original, then the mirror and its 8 moves. Files that do not decode are skipped by the loader
 * (loader.bad names them).
 */
export async function encodeImages(vqvae: VQVAE, loader: BatchLoader, opts: EncodeOptions = {}): Promise<{ tokens: Uint16Array; items: TokenCacheItem[] }> {
  const { size, grid } = vqvae.config;
  const per = 3 * size * size;
  const chunks: Int32Array[] = [];
  const items: TokenCacheItem[] = [];
  const variants = trainingVariants(opts);
  const encodeBatch = async (images: Float32Array, k: number) => {
    const t = noGrad(() => tidy(() => vqvae.encode(tensor(images.subarray(0, k * per), [k, 3, size, size])).keepAlive()));
    chunks.push((await t.toArray()) as Int32Array);
    t.dispose();
  };
  for (const b of loader.epoch()) {
    await encodeBatch(b.images, b.items.length);
    for (const it of b.items) items.push({ key: it.key, split: it.heldout ? 'heldout' : 'train', label: it.label });
    const train = b.items.map((it, i) => (it.heldout ? -1 : i)).filter((i) => i >= 0);
    if (!train.length) continue;
    // per variant, [k', 3, size, size]: the batch's training images mirrored and/or moved
    const moved = new Float32Array(train.length * per);
    for (const v of variants) {
      train.forEach((i, j) => augmentInto(b.images.subarray(i * per, (i + 1) * per), size, moved, j * per, v));
      await encodeBatch(moved, train.length);
      for (const i of train) items.push({ key: variantKey(b.items[i].key, v), split: 'train', label: b.items[i].label });
    }
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
