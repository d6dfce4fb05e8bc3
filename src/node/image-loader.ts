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

export class ImageLoader extends BatchLoader {
  constructor(data: DataSet, opts: LoaderOptions) {
    super(data, opts, (it, size) =>
      it.path.startsWith('synthetic:') ? drawSynthetic(Number(it.path.slice(10)), size) : preprocess(decodeImage(readFileSync(it.path), it.path), size));
  }
}
