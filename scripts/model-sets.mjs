// The reference models the web page loads by default. models/<set>/ in the repository holds run
// folders as the CLI writes them (tokenizer/, ar/, diffusion/, diffusion-d3pm/, mask/, each with latest.json naming
// one ckpt-NNNNNN.safetensors; classifier/, which the page does not use) and tokens.bin (the token
// cache, for completion). `copyModelSets` copies what the page needs of every set found there into
// dist/web/models/ and writes dist/web/models/index.json, the list the page reads: a set appears on
// the page when its folder exists (emoji-32 now, emoji-64 when it is trained), no code change.
// Called by build.mjs for the page target (so `npm run web`, the browser test and the screenshot
// all see the current models/); the copy is a few MB and takes milliseconds.

import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Run folders the page loads, in the order it loads them; a set needs the tokenizer and one prior. */
export const PAGE_PARTS = ['tokenizer', 'ar', 'diffusion', 'diffusion-d3pm', 'mask'];
export const TOKEN_CACHE = 'tokens.bin';

/** The checkpoint latest.json names in a run folder, or null when there is none (or it is missing). */
function latestCheckpoint(runDir) {
  const pointer = join(runDir, 'latest.json');
  if (!existsSync(pointer)) return null;
  const { file } = JSON.parse(readFileSync(pointer, 'utf8'));
  if (typeof file !== 'string' || !/^ckpt-\d+\.safetensors$/.test(file)) throw new Error(`${pointer} names no checkpoint ('${file}').`);
  if (!existsSync(join(runDir, file))) throw new Error(`${pointer} names ${file}, which is not in ${runDir}.`);
  return file;
}

/**
 * The model sets under `modelsDir`: [{ name, parts: { tokenizer: 'tokenizer/ckpt-….safetensors',
 * ar: …, tokens: 'tokens.bin' } }], by name. Folders without a tokenizer run are not sets.
 */
export function findModelSets(modelsDir) {
  if (!existsSync(modelsDir)) return [];
  const sets = [];
  for (const name of readdirSync(modelsDir).sort()) {
    const dir = join(modelsDir, name);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'tokenizer', 'latest.json'))) continue;
    const parts = {};
    for (const part of PAGE_PARTS) {
      const file = latestCheckpoint(join(dir, part));
      if (file) parts[part] = `${part}/${file}`;
    }
    if (PAGE_PARTS.every((p) => p === 'tokenizer' || !parts[p])) throw new Error(`model set ${dir} has a tokenizer but no prior run (${PAGE_PARTS.slice(1).map((p) => `${p}/`).join(', ')}).`);
    if (existsSync(join(dir, TOKEN_CACHE))) parts.tokens = TOKEN_CACHE;
    sets.push({ name, parts });
  }
  return sets;
}

/** Replaces `outDir` with the page's files of every set and its index.json; returns the sets. */
export function copyModelSets(modelsDir, outDir) {
  const sets = findModelSets(modelsDir);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const { name, parts } of sets) {
    for (const rel of Object.values(parts)) {
      mkdirSync(join(outDir, name, rel, '..'), { recursive: true });
      cpSync(join(modelsDir, name, rel), join(outDir, name, rel));
    }
  }
  writeFileSync(join(outDir, 'index.json'), JSON.stringify({ sets }, null, 1) + '\n');
  return sets;
}
