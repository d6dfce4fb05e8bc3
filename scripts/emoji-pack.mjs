// The emoji data set for the web page's Train view: the same files `--data emoji` reads (the 64 px
// Twemoji PNGs of the npm package emoji-datasource-twitter, CC-BY 4.0), packed as they are —
// bytes unchanged, no re-encoding — into one file the page fetches in one request
// (dist/web/data/emoji.pack, ~18 MB) with an index (emoji.json beside it): each file's key (its
// name, as in the CLI's data set), offset and length, and emoji.json's categories, from which the
// page makes the classes with the same code as the CLI (src/data/dataset.ts). Called by build.mjs
// for the page target; skipped when the pack is already there for this package version.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Writes outDir/emoji.json and outDir/emoji.pack; returns { files, bytes } or null without the package. */
export function writeEmojiPack(outDir) {
  const require = createRequire(import.meta.url);
  let jsonPath;
  try {
    jsonPath = require.resolve('emoji-datasource-twitter/emoji.json');
  } catch {
    return null; // (the Train view then offers picked folders only, and says why)
  }
  const pkg = JSON.parse(readFileSync(join(dirname(jsonPath), 'package.json'), 'utf8'));
  const source = `emoji-datasource-twitter@${pkg.version}`;
  const indexPath = join(outDir, 'emoji.json'), packPath = join(outDir, 'emoji.pack');
  if (existsSync(indexPath) && existsSync(packPath)) {
    const old = JSON.parse(readFileSync(indexPath, 'utf8'));
    if (old.source === source) return { files: old.files.length, bytes: old.bytes, cached: true };
  }
  const root = join(dirname(jsonPath), 'img', 'twitter', '64');
  const names = readdirSync(root).filter((n) => /\.(png|jpe?g)$/i.test(n)).sort();
  // Only what the classes need from emoji.json (the whole file is 1.5 MB).
  const entries = JSON.parse(readFileSync(jsonPath, 'utf8')).map((e) => ({
    image: e.image, category: e.category,
    ...(e.skin_variations ? { skin_variations: Object.fromEntries(Object.entries(e.skin_variations).map(([k, v]) => [k, { image: v.image }])) } : {}),
  }));
  mkdirSync(outDir, { recursive: true });
  const fd = openSync(packPath, 'w');
  const files = [];
  let offset = 0;
  try {
    for (const name of names) {
      const b = readFileSync(join(root, name));
      writeSync(fd, b);
      files.push({ key: name, offset, length: b.length });
      offset += b.length;
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(indexPath, JSON.stringify({ name: 'emoji', kind: 'emoji', source, bytes: offset, emoji: entries, files }));
  return { files: files.length, bytes: offset, cached: false };
}
