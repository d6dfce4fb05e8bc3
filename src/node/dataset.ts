// Image data sets (Node): a folder of images (recursive; its immediate subfolders are the classes,
// the ImageFolder convention), or `emoji` (the Twemoji 64×64 PNGs of the npm package
// emoji-datasource-twitter, CC-BY 4.0, with emoji.json's category as class; categories with fewer
// than MIN_CLASS_IMAGES images are dropped), or `synthetic` (made in code, for tests). An item
// outside every class has label -1 (class-based uses skip it). Each item has a deterministic
// split: about 5% held out, chosen by a hash of its path relative to the root, so the split never
// depends on file order.

import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { isImageName } from './decode-image.js';

export interface Item {
  /** absolute path, or `synthetic:<i>` */
  path: string;
  /** path relative to the data root: the split hash and the token cache use it */
  key: string;
  /** index into the data set's `labels`, or -1: in no class */
  label: number;
  heldout: boolean;
}

export interface DataSet {
  name: string;
  root: string;
  items: Item[];
  /** class names (sorted); an item's label indexes this list */
  labels: string[];
  /** classes left out for having too few images (dropSmallClasses), with their image counts */
  dropped?: { name: string; count: number }[];
}

/** FNV-1a 32-bit. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const HELDOUT_PERCENT = 5;
export const isHeldout = (key: string) => hash32(key) % 100 < HELDOUT_PERCENT;

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile() && isImageName(name)) out.push(p);
  }
}

export function folderDataSet(root: string): DataSet {
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new Error(`Data folder '${root}' does not exist.`);
  }
  if (!st.isDirectory()) throw new Error(`'${root}' is not a folder.`);
  const files: string[] = [];
  walk(root, files);
  if (!files.length) throw new Error(`Data folder '${root}' contains no .png or .jpg images.`);
  // Classes: the immediate subfolders that hold images (at any depth), sorted by name; images
  // directly in the root are in no class.
  const keys = files.map((p) => relative(root, p).split('\\').join('/'));
  const classOf = (key: string) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : null);
  const labels = [...new Set(keys.map(classOf).filter((c): c is string => c !== null))].sort();
  const index = new Map(labels.map((c, i) => [c, i]));
  const items = files.map((p, i) => {
    const key = keys[i];
    const c = classOf(key);
    return { path: p, key, label: c === null ? -1 : index.get(c)!, heldout: isHeldout(key) };
  });
  return { name: root, root, items, labels };
}

/** Classes with fewer images than this are dropped from the emoji set (e.g. 'Component': 5 skin-tone swatches). */
export const MIN_CLASS_IMAGES = 20;

/**
 * Drops the classes with fewer than `min` images (both splits counted): their items get label -1,
 * the remaining classes keep their order and are renumbered. Returns a new data set (items copied).
 */
export function dropSmallClasses(ds: DataSet, min = MIN_CLASS_IMAGES): DataSet {
  const count = new Array<number>(ds.labels.length).fill(0);
  for (const it of ds.items) if (it.label >= 0) count[it.label]++;
  const keepIdx = ds.labels.map((_, i) => i).filter((i) => count[i] >= min);
  const remap = new Map(keepIdx.map((old, i) => [old, i]));
  const dropped = ds.labels.map((name, i) => ({ name, count: count[i] })).filter((_, i) => !remap.has(i));
  return {
    ...ds,
    labels: keepIdx.map((i) => ds.labels[i]),
    items: ds.items.map((it) => ({ ...it, label: remap.get(it.label) ?? -1 })),
    dropped: [...(ds.dropped ?? []), ...dropped],
  };
}

interface EmojiEntry {
  image: string;
  category: string;
  skin_variations?: Record<string, { image: string }>;
}

export function emojiDataSet(): DataSet {
  const require = createRequire(import.meta.url);
  let jsonPath: string;
  try {
    jsonPath = require.resolve('emoji-datasource-twitter/emoji.json');
  } catch {
    throw new Error("The emoji data set needs the npm package 'emoji-datasource-twitter': run `npm ci`.");
  }
  const root = join(dirname(jsonPath), 'img', 'twitter', '64');
  const entries = require(jsonPath) as EmojiEntry[];
  const category = new Map<string, string>();
  for (const e of entries) {
    category.set(e.image, e.category);
    for (const v of Object.values(e.skin_variations ?? {})) category.set(v.image, e.category);
  }
  const labels = [...new Set(entries.map((e) => e.category))].sort();
  const ds = folderDataSet(root);
  for (const it of ds.items) {
    const c = category.get(it.key);
    it.label = c === undefined ? -1 : labels.indexOf(c);
  }
  return dropSmallClasses({ ...ds, name: 'emoji', labels });
}

export const SYNTHETIC_COUNT = 64;

/** A tiny data set drawn in code: coloured discs and bars on white (fast tests). */
export function syntheticDataSet(count = SYNTHETIC_COUNT): DataSet {
  const items = Array.from({ length: count }, (_, i) => {
    const key = `synthetic/${i}`;
    return { path: `synthetic:${i}`, key, label: i % 2, heldout: isHeldout(key) };
  });
  return { name: 'synthetic', root: '', items, labels: ['disc', 'bar'] };
}

/** `--data` → a data set: 'emoji', 'synthetic', or a folder. */
export function openDataSet(spec: string): DataSet {
  if (spec === 'emoji') return emojiDataSet();
  if (spec === 'synthetic') return syntheticDataSet();
  return folderDataSet(spec);
}
