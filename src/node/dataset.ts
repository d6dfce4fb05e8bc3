// Image data sets (Node): a folder of images (recursive; its immediate subfolders are the classes,
// the ImageFolder convention), or `emoji` (the Twemoji 64×64 PNGs of the npm package
// emoji-datasource-twitter, CC-BY 4.0, with emoji.json's category as class; categories with fewer
// than MIN_CLASS_IMAGES images are dropped), or `synthetic` (made in code, for tests). An item
// outside every class has label -1 (class-based uses skip it). The items, labels and split are made
// by the browser-safe src/data/dataset.ts, which the web page uses too.

import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { isImageName } from './decode-image.js';
import { dataSetFromFiles, dropSmallClasses, emojiCategories, folderClassOf, syntheticDataSet, type DataSet, type EmojiEntry } from '../data/dataset.js';

export {
  dropSmallClasses, hash32, HELDOUT_PERCENT, isHeldout, MIN_CLASS_IMAGES, SYNTHETIC_COUNT, syntheticDataSet,
  type DataSet, type Item,
} from '../data/dataset.js';

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

/** The image files under `root` as (path, key relative to root); throws a sentence when there are none. */
function listImages(root: string): { path: string; key: string }[] {
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
  return files.map((p) => ({ path: p, key: relative(root, p).split('\\').join('/') }));
}

export function folderDataSet(root: string): DataSet {
  // Classes: the immediate subfolders that hold images (at any depth), sorted by name; images
  // directly in the root are in no class.
  return dataSetFromFiles(root, root, listImages(root).map((f) => ({ ...f, cls: folderClassOf(f.key) })));
}

/** Where the emoji set lives: emoji.json and the folder of 64 px PNGs (the build packs the same files for the page). */
export function emojiSource(): { jsonPath: string; root: string } {
  const require = createRequire(import.meta.url);
  let jsonPath: string;
  try {
    jsonPath = require.resolve('emoji-datasource-twitter/emoji.json');
  } catch {
    throw new Error("The emoji data set needs the npm package 'emoji-datasource-twitter': run `npm ci`.");
  }
  return { jsonPath, root: join(dirname(jsonPath), 'img', 'twitter', '64') };
}

export function emojiDataSet(): DataSet {
  const { jsonPath, root } = emojiSource();
  const { categoryOf, labels } = emojiCategories(createRequire(import.meta.url)(jsonPath) as EmojiEntry[]);
  const files = listImages(root).map((f) => ({ ...f, cls: categoryOf.get(f.key) ?? null }));
  return dropSmallClasses(dataSetFromFiles('emoji', root, files, labels));
}

/** A data set by name (`--data`): 'emoji' (the bundled emoji set, 9 categories), 'synthetic', or a folder of PNG/JPEG images whose subfolders are the classes; items, class names and a held-out split (5%, by a hash of each path). */
export function openDataSet(spec: string): DataSet {
  if (spec === 'emoji') return emojiDataSet();
  if (spec === 'synthetic') return syntheticDataSet();
  return folderDataSet(spec);
}
