// The seed's Fig. 1: real images beside their reconstructions through the tokenizer. Used by
// train-tokenizer (recon-*.png during training) and eval-tokenizer --out (held-out images).

import { imageGrid, joinPanels, type Canvas } from '../data/figure.js';
import { reconstruct } from '../models/tokenizer/reconstruct.js';
import type { VQVAE } from '../models/tokenizer/vqvae.js';

/**
 * images: [≥ n, 3, size, size] in [-1, 1]. Two panels side by side: the n originals (a column of
 * `cols`-wide rows) and their reconstructions in the same places; upscaled to about 64 px a tile.
 */
export async function reconstructionFigure(vqvae: VQVAE, images: Float32Array, n: number, cols = n): Promise<Canvas> {
  const size = vqvae.config.size;
  const recon = await reconstruct(vqvae, images, n);
  const scale = Math.max(1, Math.round(64 / size));
  return joinPanels([imageGrid(images, n, size, cols, 2, scale), imageGrid(recon, n, size, cols, 2, scale)], 'row', 8);
}
