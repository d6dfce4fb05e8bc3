// Streams batches of preprocessed images ([B, 3, S, S] planar floats in [-1, 1]) from a data set
// (browser-safe: where an image comes from is the `read` function's business — files in Node,
// src/node/image-loader.ts; images decoded by the page in its worker, examples/web/train/).
// Reading happens on demand; preprocessed images are cached on the host up to a byte budget (the
// GPU only ever holds one batch). Bad files are skipped once and reported (or, strict, fatal).
// The order of an epoch, the flips and the shifts are pure functions of (seed, epoch, item key), so the
// loader's position {epoch, pos} is all a checkpoint needs to resume the same stream — in Node or
// in the page.

import { augmentInto, type Planar } from './image.js';
import { hash32, type DataSet, type Item } from './dataset.js';

/** The preprocessed image of an item (size×size planar); throws an Error naming what is wrong. */
export type ImageReader = (it: Item, size: number) => Planar;

export interface LoaderOptions {
  size: number;
  batch: number;
  split: 'train' | 'heldout' | 'all';
  seed?: number;
  /** random horizontal flips (training) */
  flip?: boolean;
  /** random translations by up to this many pixels each way, white fill (training); default 0 */
  shift?: number;
  /** stop at the first bad file instead of skipping it */
  strict?: boolean;
  /** host cache budget for preprocessed images (bytes) */
  cacheBytes?: number;
  /** called once per bad file */
  onBadFile?: (path: string, reason: string) => void;
}

export interface Batch {
  /** [B, 3, S, S] */
  images: Float32Array;
  labels: Int32Array;
  items: Item[];
}

export interface LoaderState {
  epoch: number;
  pos: number;
}

export class BatchLoader {
  readonly items: Item[];
  readonly bad = new Map<string, string>();
  private cache = new Map<string, Float32Array>();
  private cacheBytes = 0;
  private order: Item[] = [];
  state: LoaderState = { epoch: 0, pos: 0 };

  constructor(readonly data: DataSet, readonly opts: LoaderOptions, private readonly read: ImageReader) {
    this.items = data.items.filter((it) => opts.split === 'all' || (opts.split === 'heldout') === it.heldout);
    if (!this.items.length) throw new Error(`Data set '${data.name}' has no ${opts.split} images.`);
    if (!Number.isInteger(opts.size) || opts.size < 4) throw new Error(`--size must be an integer ≥ 4, got ${opts.size}.`);
    if (!Number.isInteger(opts.batch) || opts.batch < 1) throw new Error(`--batch must be a positive integer, got ${opts.batch}.`);
    this.reorder();
  }

  private reorder(): void {
    const seed = this.opts.seed ?? 0;
    const e = this.state.epoch;
    // Training: a seeded shuffle per epoch. Evaluation: file order.
    this.order = this.opts.split !== 'train'
      ? [...this.items]
      : [...this.items].sort((a, b) => hash32(`${seed}:${e}:${a.key}`) - hash32(`${seed}:${e}:${b.key}`) || (a.key < b.key ? -1 : 1));
  }

  setState(s: LoaderState): void {
    this.state = { ...s };
    this.reorder();
  }

  /** The preprocessed image of an item, or null if the file is bad. */
  load(it: Item, strict = !!this.opts.strict): Float32Array | null {
    const hit = this.cache.get(it.key);
    if (hit) return hit;
    if (this.bad.has(it.path)) return null;
    let img: Planar;
    try {
      img = this.read(it, this.opts.size);
    } catch (e) {
      const reason = (e as Error).message;
      if (strict) throw new Error(`Bad image (strict mode): ${reason}`);
      this.bad.set(it.path, reason);
      this.opts.onBadFile?.(it.path, reason);
      return null;
    }
    const budget = this.opts.cacheBytes ?? 1 << 30;
    if (this.cacheBytes + img.data.byteLength <= budget) {
      this.cache.set(it.key, img.data);
      this.cacheBytes += img.data.byteLength;
    }
    return img.data;
  }

  /**
   * Decodes every item once (filling the cache) without stopping at bad files; returns the bad
   * ones as [path, reason]. Strict runs call it first so that they stop with the whole list.
   */
  scan(): [string, string][] {
    for (const it of this.items) this.load(it, false);
    return [...this.bad];
  }

  /** The next batch (wrapping into a new epoch as needed). */
  next(): Batch {
    const { batch, size } = this.opts;
    const per = 3 * size * size;
    const images = new Float32Array(batch * per);
    const labels = new Int32Array(batch);
    const items: Item[] = [];
    let guard = 0;
    while (items.length < batch) {
      if (this.state.pos >= this.order.length) {
        this.state = { epoch: this.state.epoch + 1, pos: 0 };
        this.reorder();
        if (++guard > 2 && !items.length) throw new Error(`Every image of '${this.data.name}' failed to load (${this.bad.size} bad files).`);
      }
      const it = this.order[this.state.pos++];
      const img = this.load(it);
      if (!img) continue;
      const k = items.length;
      const at = `${this.opts.seed ?? 0}:${this.state.epoch}:${it.key}`;
      const flip = !!this.opts.flip && (hash32(`${at}:flip`) & 1) === 1;
      const m = this.opts.shift ?? 0;
      const [dx, dy] = m > 0 ? [hash32(`${at}:dx`) % (2 * m + 1) - m, hash32(`${at}:dy`) % (2 * m + 1) - m] : [0, 0];
      if (flip || dx || dy) augmentInto(img, size, images, k * per, { flip, dx, dy });
      else images.set(img, k * per);
      labels[k] = it.label;
      items.push(it);
    }
    return { images, labels, items };
  }

  /** Every item once, in order, in batches (the last may be short). For evaluation and encoding. */
  *epoch(): Generator<Batch> {
    const { batch, size } = this.opts;
    const per = 3 * size * size;
    let cur: { img: Float32Array; it: Item }[] = [];
    const emit = (): Batch => {
      const images = new Float32Array(cur.length * per);
      const labels = new Int32Array(cur.length);
      cur.forEach((c, k) => {
        images.set(c.img, k * per);
        labels[k] = c.it.label;
      });
      const b = { images, labels, items: cur.map((c) => c.it) };
      cur = [];
      return b;
    };
    for (const it of this.items) {
      const img = this.load(it);
      if (!img) continue;
      cur.push({ img, it });
      if (cur.length === batch) yield emit();
    }
    if (cur.length) yield emit();
  }
}
