// Batches of images from files on disk (Node): the shared BatchLoader (src/data/batch-loader.ts:
// order, augmentation, cache, bad files) reading PNG/JPEG files with pngjs and jpeg-js, or drawing
// the synthetic set.

import { readFileSync } from 'node:fs';
import { BatchLoader, type LoaderOptions } from '../data/batch-loader.js';
import { preprocess } from '../data/image.js';
import { drawSynthetic } from '../data/synthetic.js';
import type { DataSet } from './dataset.js';
import { decodeImage } from './decode-image.js';

export type { Batch, LoaderOptions, LoaderState } from '../data/batch-loader.js';

/**
 * Batches of images [B, 3, S, S] in [-1, 1] with their labels, from a data set on disk
 * (`openDataSet`): `next()` for training (seeded order per epoch, optional flips and shifts),
 * `epoch()` for every item once in file order; files that do not decode are skipped and named.
 */
export class ImageLoader extends BatchLoader {
  constructor(data: DataSet, opts: LoaderOptions) {
    super(data, opts, (it, size) =>
      it.path.startsWith('synthetic:') ? drawSynthetic(Number(it.path.slice(10)), size) : preprocess(decodeImage(readFileSync(it.path), it.path), size));
  }
}
