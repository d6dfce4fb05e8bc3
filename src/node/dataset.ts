// Image data sets (Node): a folder of images (recursive), or `emoji` (the Twemoji 64×64 PNGs of the
// npm package emoji-datasource-twitter, CC-BY 4.0, with emoji.json's category as label), or
// `synthetic` (made in code, for tests). Each item has a deterministic split: about 5% held out,
// chosen by a hash of its path relative to the root, so the split never depends on file order.

import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { isImageName } from './decode-image.js';

export interface Item {
  /** absolute path, or `synthetic:<i>` */
  path: string;
  /** path relative to the data root: the split hash and the token cache use it */
  key: string;
  label: number;
  heldout: boolean;
}

export interface DataSet {
  name: string;
  root: string;
  items: Item[];
  labels: string[];
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
  const items = files.map((p) => {
    const key = relative(root, p).split('\\').join('/');
    return { path: p, key, label: -1, heldout: isHeldout(key) };
  });
  return { name: root, root, items, labels: [] };
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
  return { ...ds, name: 'emoji', labels };
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
