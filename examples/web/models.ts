// The checkpoints the page samples with: a tokenizer, an AR prior, a diffusion or mask prior, and a
// token cache (held-out emoji for completion). They come from the demo folder shipped with the page
// or from files the user picks (single files, or a run folder made by the Node CLI). Each file is
// recognised by its contents, not its name; a new file of a kind replaces the old one.

import { decodeTokenCache, type TokenCache } from '../../src/data/token-cache.js';
import type { Prior } from '../../src/models/prior/prior.js';
import type { TokenizerState } from '../../src/models/tokenizer/state.js';
import { checkPriorMatchesTokenizer, parseCheckpoint, priorFromCheckpoint, tokenizerFromCheckpoint } from '../../src/io/run-loader.js';

export interface Slot<T> {
  value: T;
  /** file name, for messages and the model list */
  source: string;
  step: number;
}

/** Files of the demo folder, by name (prior-diffusion.safetensors is optional, as is tokens.bin). */
export const DEMO_FILES = {
  tokenizer: 'tokenizer.safetensors',
  ar: 'prior-ar.safetensors',
  reverse: ['prior-mask.safetensors', 'prior-diffusion.safetensors'],
  tokens: 'tokens.bin',
};

export class ModelSet {
  tokenizer: Slot<TokenizerState> | null = null;
  ar: Slot<Prior> | null = null;
  /** the diffusion or mask prior */
  reverse: Slot<Prior> | null = null;
  tokens: Slot<TokenCache> | null = null;

  /** Adds one file (checkpoint or token cache); returns what it was, in words. */
  add(bytes: Uint8Array, source: string): string {
    if (new TextDecoder().decode(bytes.subarray(0, 8)) === 'VQTOKENS') {
      const cache = decodeTokenCache(bytes, source);
      this.tokens = { value: cache, source, step: cache.header.tokenizer.step };
      return `token cache ${source}`;
    }
    const ck = parseCheckpoint(bytes, source);
    if (ck.kind === 'tokenizer') {
      this.tokenizer?.value.dispose();
      this.tokenizer = { value: tokenizerFromCheckpoint(ck), source, step: ck.step };
      return `tokenizer ${source}`;
    }
    const prior = priorFromCheckpoint(ck);
    const slot = { value: prior, source, step: ck.step };
    if (prior.config.prior === 'ar') {
      this.ar?.value.dispose();
      this.ar = slot;
    } else {
      this.reverse?.value.dispose();
      this.reverse = slot;
    }
    return `${prior.config.prior} prior ${source}`;
  }

  /** The tokenizer and a prior that fits it (codes and grid), or an error saying what is missing. */
  pair(which: 'ar' | 'reverse'): { tokenizer: TokenizerState; prior: Prior } {
    const p = this[which];
    if (!this.tokenizer) throw new Error('Load a tokenizer checkpoint first (or the demo checkpoint).');
    if (!p) throw new Error(`Load ${which === 'ar' ? 'an AR' : 'a diffusion or mask'} prior checkpoint first (or the demo checkpoint).`);
    checkPriorMatchesTokenizer(p.value.config, p.source, this.tokenizer.value.config, this.tokenizer.source);
    return { tokenizer: this.tokenizer.value, prior: p.value };
  }

  /** One line per loaded checkpoint, for the page. */
  describe(): string[] {
    const out: string[] = [];
    if (this.tokenizer) {
      const c = this.tokenizer.value.config;
      out.push(`tokenizer: ${this.tokenizer.source} (step ${this.tokenizer.step}; ${c.size}px images ⇄ ${c.grid}×${c.grid} tokens of ${c.codebook} codes)`);
    }
    for (const s of [this.ar, this.reverse]) {
      if (!s) continue;
      const c = s.value.config, t = c.transformer;
      out.push(`${c.prior} prior: ${s.source} (step ${s.step}; ${t.layers} layers × ${t.dim}, ${c.classes ? `${c.classes} classes` : 'unconditional'})`);
    }
    if (this.tokens) {
      const h = this.tokens.value.header;
      const held = h.items.filter((i) => i.split === 'heldout').length;
      out.push(`token cache: ${this.tokens.source} (${h.items.length} items, ${held} held out)`);
    }
    return out;
  }
}

async function fetchBytes(url: string): Promise<Uint8Array | null> {
  const r = await fetch(url);
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Loads the demo checkpoint shipped with the page (from `base`, e.g. "demo/"). */
export async function loadDemo(set: ModelSet, base: string): Promise<void> {
  const need = async (name: string) => {
    const b = await fetchBytes(base + name);
    if (!b) throw new Error(`The demo checkpoint is incomplete: ${base}${name} is missing.`);
    return b;
  };
  set.add(await need(DEMO_FILES.tokenizer), `demo/${DEMO_FILES.tokenizer}`);
  set.add(await need(DEMO_FILES.ar), `demo/${DEMO_FILES.ar}`);
  for (const name of DEMO_FILES.reverse) {
    const b = await fetchBytes(base + name);
    if (b) {
      set.add(b, `demo/${name}`);
      break;
    }
  }
  const tokens = await fetchBytes(base + DEMO_FILES.tokens);
  if (tokens) set.add(tokens, `demo/${DEMO_FILES.tokens}`);
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

/** Adds the user's files; returns what was loaded, one entry per file. */
export async function loadPicked(set: ModelSet, files: File[]): Promise<string[]> {
  const picked = await choose(files);
  if (!picked.length) throw new Error('None of the chosen files is a checkpoint (.safetensors) or a token cache (.bin).');
  const loaded: string[] = [];
  for (const f of picked) loaded.push(set.add(new Uint8Array(await f.arrayBuffer()), f.webkitRelativePath || f.name));
  return loaded;
}
