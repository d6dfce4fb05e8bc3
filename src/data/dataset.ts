// Image data sets, browser-safe: the item list, its classes and its held-out split. Node builds one
// from a folder on disk (src/node/dataset.ts), the web page from a data pack (examples/web/train/
// data-pack.ts); both go through `dataSetFromFiles`, so the same files give the same items, labels
// and split everywhere — which is what lets a checkpoint trained in the page resume in the CLI on
// the same data stream. About 5% of the items are held out, chosen by a hash of the item's key
// (its path relative to the data root), so the split never depends on file order.

export interface Item {
  /** absolute path, `synthetic:<i>`, or (in the page) the key itself */
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

/** The ImageFolder convention: an image's class is its top folder under the root (none for root files). */
export function folderClassOf(key: string): string | null {
  return key.includes('/') ? key.slice(0, key.indexOf('/')) : null;
}

/**
 * A data set from its image files: `key` relative to the root ('/'-separated), `cls` the class name
 * or null. `labels` defaults to the sorted classes present; an item whose class is not in it gets
 * label -1.
 */
export function dataSetFromFiles(name: string, root: string, files: { path: string; key: string; cls: string | null }[], labels?: string[]): DataSet {
  const names = labels ?? [...new Set(files.map((f) => f.cls).filter((c): c is string => c !== null))].sort();
  const index = new Map(names.map((c, i) => [c, i]));
  const items = files.map((f) => ({ path: f.path, key: f.key, label: f.cls === null ? -1 : (index.get(f.cls) ?? -1), heldout: isHeldout(f.key) }));
  return { name, root, items, labels: names };
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

/** The emoji set's classes: each image's category in emoji.json (the data pack and Node read the same file). */
export interface EmojiEntry {
  image: string;
  category: string;
  skin_variations?: Record<string, { image: string }>;
}

/** Image file name → category, and the sorted category names, from emoji.json's entries. */
export function emojiCategories(entries: EmojiEntry[]): { categoryOf: Map<string, string>; labels: string[] } {
  const categoryOf = new Map<string, string>();
  for (const e of entries) {
    categoryOf.set(e.image, e.category);
    for (const v of Object.values(e.skin_variations ?? {})) categoryOf.set(v.image, e.category);
  }
  return { categoryOf, labels: [...new Set(entries.map((e) => e.category))].sort() };
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
