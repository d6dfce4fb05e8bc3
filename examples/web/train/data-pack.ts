// Image data in the page: a data pack is image files concatenated as they are (bytes unchanged)
// with an index of keys, offsets and lengths. The emoji set ships as one (scripts/emoji-pack.mjs
// packs the very files `--data emoji` reads); a picked folder becomes one in OPFS, so a reload can
// continue the run without the person picking it again. Decoding runs in the worker with the
// browser's own decoders (createImageBitmap → OffscreenCanvas), then the shared preprocessing
// (composite on white, centre crop, box-filter resize: src/data/image.ts). Files that do not
// decode are named and skipped, as the CLI does.

import { dataSetFromFiles, dropSmallClasses, emojiCategories, folderClassOf, type DataSet, type EmojiEntry } from '../../../src/data/dataset.js';
import { MAX_SIDE, preprocess } from '../../../src/data/image.js';

export interface PackIndex {
  name: string;
  /** 'emoji': classes from emoji.json's categories (small ones dropped, as the CLI does); 'folder': top subfolders */
  kind: 'emoji' | 'folder';
  emoji?: EmojiEntry[];
  files: { key: string; offset: number; length: number }[];
}

/** A folder's files → a pack (index and bytes). */
export async function packFiles(name: string, files: { key: string; file: File }[]): Promise<{ index: PackIndex; bytes: Uint8Array<ArrayBuffer> }> {
  const total = files.reduce((a, f) => a + f.file.size, 0);
  const bytes = new Uint8Array(total);
  const entries: PackIndex['files'] = [];
  let offset = 0;
  for (const { key, file } of files) {
    const b = new Uint8Array(await file.arrayBuffer());
    bytes.set(b, offset);
    entries.push({ key, offset, length: b.length });
    offset += b.length;
  }
  return { index: { name, kind: 'folder', files: entries }, bytes };
}

/** The pack's data set: the same items, classes and split as the CLI's for the same files. */
export function packDataSet(index: PackIndex): DataSet {
  if (index.kind === 'emoji') {
    const { categoryOf, labels } = emojiCategories(index.emoji ?? []);
    const files = index.files.map((f) => ({ path: f.key, key: f.key, cls: categoryOf.get(f.key) ?? null }));
    return dropSmallClasses(dataSetFromFiles('emoji', '', files, labels));
  }
  return dataSetFromFiles(index.name, '', index.files.map((f) => ({ path: f.key, key: f.key, cls: folderClassOf(f.key) })));
}

export interface DecodedPack {
  data: DataSet;
  /** key → planar [3, size, size] in [-1, 1] */
  images: Map<string, Float32Array>;
  /** [key, why] of the files that did not decode */
  bad: [string, string][];
}

/** One file → a bitmap through the browser's decoder (off the worker's thread); throws a sentence naming the file. */
async function bitmapOf(key: string, blob: Blob): Promise<ImageBitmap> {
  if (blob.size === 0) throw new Error(`${key}: empty file`);
  try {
    return await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  } catch (e) {
    throw new Error(`${key}: cannot decode (${(e as Error).message || 'not a PNG or JPEG image'})`);
  }
}

/** A bitmap's 8-bit RGBA pixels (drawn on a reused canvas of its size). */
function pixelsOf(key: string, bmp: ImageBitmap, canvas: { c: OffscreenCanvas | null }): { width: number; height: number; data: Uint8ClampedArray } {
  const { width, height } = bmp;
  if (width === 0 || height === 0) throw new Error(`${key}: image has zero size (${width}×${height})`);
  if (width > MAX_SIDE || height > MAX_SIDE) throw new Error(`${key}: image is huge (${width}×${height}, limit ${MAX_SIDE} per side)`);
  if (!canvas.c || canvas.c.width !== width || canvas.c.height !== height) canvas.c = new OffscreenCanvas(width, height);
  const ctx = canvas.c.getContext('2d', { willReadFrequently: true })!;
  ctx.clearRect(0, 0, width, height);
  ctx.drawImage(bmp, 0, 0);
  return { width, height, data: ctx.getImageData(0, 0, width, height).data };
}

/** Decodes and preprocesses every file of a pack to size×size; `onProgress(done, total)` now and then. */
export async function decodePack(index: PackIndex, bytes: Uint8Array<ArrayBuffer>, size: number, onProgress?: (done: number, total: number) => void): Promise<DecodedPack> {
  const data = packDataSet(index);
  const images = new Map<string, Float32Array>();
  const bad: [string, string][] = [];
  const canvas: { c: OffscreenCanvas | null } = { c: null };
  const CHUNK = 64; // decodes in flight at once (createImageBitmap runs off the worker's thread)
  for (let i = 0; i < index.files.length; i += CHUNK) {
    const chunk = index.files.slice(i, i + CHUNK);
    const bitmaps = await Promise.allSettled(chunk.map((f) => bitmapOf(f.key, new Blob([bytes.subarray(f.offset, f.offset + f.length)]))));
    bitmaps.forEach((r, j) => {
      const key = chunk[j].key;
      if (r.status === 'rejected') {
        bad.push([key, (r.reason as Error).message]);
        return;
      }
      try {
        images.set(key, preprocess(pixelsOf(key, r.value, canvas), size).data);
      } catch (e) {
        bad.push([key, (e as Error).message]);
      } finally {
        r.value.close();
      }
    });
    onProgress?.(Math.min(i + CHUNK, index.files.length), index.files.length);
  }
  return { data, images, bad };
}
