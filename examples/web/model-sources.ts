// Where the page's checkpoints come from: the reference model sets shipped with the page (build.mjs
// copies models/<set>/ to dist/web/models/ and lists them in models/index.json, see
// scripts/model-sets.mjs), or files the user picks (single files, or run folders made by the CLI).

import type { PriorVariant } from '../../src/models/prior/config.js';
import type { ModelSet } from './models.js';

/** One entry of models/index.json: a set's name and its files, relative to models/<name>/. */
export interface ReferenceSet {
  name: string;
  parts: { tokenizer: string; tokens?: string } & Partial<Record<PriorVariant, string>>;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The reference sets the page was built with ([] when the build found no models/). */
export async function listReferenceSets(base = 'models/'): Promise<ReferenceSet[]> {
  const r = await fetch(`${base}index.json`);
  if (r.status === 404) return [];
  if (!r.ok) throw new Error(`GET ${base}index.json: HTTP ${r.status}`);
  return ((await r.json()) as { sets: ReferenceSet[] }).sets;
}

/**
 * Replaces what `set` holds with a reference set: its tokenizer, every prior it has and its token
 * cache. `onFile` reports each file as it arrives (they are a few MB in all).
 */
export async function loadReferenceSet(set: ModelSet, ref: ReferenceSet, onFile?: (done: number, total: number) => void, base = 'models/'): Promise<void> {
  const files = Object.values(ref.parts).filter((f): f is string => !!f);
  // Fetch everything first: a set that fails to arrive leaves the loaded models as they were.
  const bytes: Uint8Array[] = [];
  for (const f of files) {
    bytes.push(await fetchBytes(`${base}${ref.name}/${f}`));
    onFile?.(bytes.length, files.length);
  }
  set.clear();
  files.forEach((f, i) => set.add(bytes[i], `${ref.name}/${f}`));
  set.name = ref.name;
}

const CKPT_RE = /(^|\/)ckpt-(\d+)\.safetensors$/;

/**
 * Picks the files worth loading from a selection: from each run folder only its newest checkpoint
 * (the one latest.json names, else the highest step), plus any other .safetensors and token caches.
 */
async function choose(files: File[]): Promise<File[]> {
  const dirOf = (f: File) => (f.webkitRelativePath || f.name).replace(/[^/]*$/, '');
  const chosen: File[] = [];
  const runs = new Map<string, File[]>();
  for (const f of files) {
    const path = f.webkitRelativePath || f.name;
    if (CKPT_RE.test(path)) runs.set(dirOf(f), [...(runs.get(dirOf(f)) ?? []), f]);
    else if (/\.safetensors$/.test(path) || /\.(bin|tokens)$/.test(path)) chosen.push(f);
  }
  for (const [dir, ckpts] of runs) {
    let pick: File | undefined;
    const latest = files.find((f) => dirOf(f) === dir && /(^|\/)latest\.json$/.test(f.webkitRelativePath || f.name));
    if (latest) {
      try {
        const name = (JSON.parse(await latest.text()) as { file?: string }).file;
        pick = ckpts.find((f) => f.name === name);
      } catch {
        // a damaged pointer: fall back to the highest step
      }
    }
    pick ??= ckpts.reduce((a, b) => (Number(CKPT_RE.exec(b.name)![2]) > Number(CKPT_RE.exec(a.name)![2]) ? b : a));
    chosen.push(pick);
  }
  return chosen;
}

/** Adds the user's files (a whole model set folder works too); returns what was loaded, one entry per file. */
export async function loadPicked(set: ModelSet, files: File[]): Promise<string[]> {
  const picked = await choose(files);
  if (!picked.length) throw new Error('None of the chosen files is a checkpoint (.safetensors) or a token cache (.bin).');
  const loaded: string[] = [];
  for (const f of picked) loaded.push(set.add(new Uint8Array(await f.arrayBuffer()), f.webkitRelativePath || f.name));
  // (picked files replace their kinds in the loaded set: name the mix)
  set.name = set.name && !set.name.endsWith('your files') ? `${set.name} + your files` : 'your files';
  return loaded;
}
