// The checkpoints the page samples with: a tokenizer, up to one prior of each variant (AR, the
// seed's diffusion, D3PM diffusion, mask), and a token cache (held-out emoji for completion). They
// come from a reference model set shipped with the page (model-sources.ts) or from files the user
// picks. Each file is recognised by its contents, not its name; a new file of a variant replaces the
// old one.

import { decodeTokenCache, type TokenCache } from '../../src/data/token-cache.js';
import { kindLabel, PRIOR_VARIANTS, type PriorVariant } from '../../src/models/prior/config.js';
import type { Prior } from '../../src/models/prior/prior.js';
import type { TokenizerState } from '../../src/models/tokenizer/state.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { checkPriorMatchesTokenizer, parseCheckpoint, priorFromCheckpoint, tokenizerFromCheckpoint } from '../../src/io/run-loader.js';

export interface Slot<T> {
  value: T;
  /** file name, for messages and the model list */
  source: string;
  step: number;
}

/** A checkpoint of `vqgpu train-classifier` (a run folder of a model set holds one): not for sampling. */
function isClassifier(bytes: Uint8Array): boolean {
  try {
    return /^\{"classifier"/.test(decodeSafetensors(bytes).metadata.config ?? '');
  } catch {
    return false;
  }
}

export class ModelSet {
  tokenizer: Slot<TokenizerState> | null = null;
  priors: Partial<Record<PriorVariant, Slot<Prior>>> = {};
  tokens: Slot<TokenCache> | null = null;
  /** what the set is called on the page: a reference set's name, or "your files" */
  name = '';

  /** Adds one file (checkpoint or token cache); returns what it was, in words. */
  add(bytes: Uint8Array, source: string): string {
    if (new TextDecoder().decode(bytes.subarray(0, 8)) === 'VQTOKENS') {
      const cache = decodeTokenCache(bytes, source);
      this.tokens = { value: cache, source, step: cache.header.tokenizer.step };
      return `token cache ${source}`;
    }
    let ck;
    try {
      ck = parseCheckpoint(bytes, source);
    } catch (e) {
      if (isClassifier(bytes)) return `classifier ${source} (skipped: the page does not use it)`;
      throw e;
    }
    if (ck.kind === 'tokenizer') {
      this.tokenizer?.value.dispose();
      this.tokenizer = { value: tokenizerFromCheckpoint(ck), source, step: ck.step };
      return `tokenizer ${source}`;
    }
    const prior = priorFromCheckpoint(ck);
    const kind = kindLabel(prior.config);
    this.priors[kind]?.value.dispose();
    this.priors[kind] = { value: prior, source, step: ck.step };
    return `${kind} prior ${source}`;
  }

  /** Forgets (and frees) everything, before another set is loaded. */
  clear(): void {
    this.tokenizer?.value.dispose();
    for (const k of PRIOR_VARIANTS) this.priors[k]?.value.dispose();
    this.tokenizer = null;
    this.priors = {};
    this.tokens = null;
    this.name = '';
  }

  /** The variants of prior loaded, in PRIOR_VARIANTS order. */
  kinds(): PriorVariant[] {
    return PRIOR_VARIANTS.filter((k) => this.priors[k]);
  }

  /** The tokenizer and a prior that fits it (codes and grid), or an error saying what is missing. */
  pair(kind: PriorVariant): { tokenizer: TokenizerState; prior: Prior } {
    const p = this.priors[kind];
    if (!this.tokenizer) throw new Error('Load a tokenizer checkpoint first (or a reference model set).');
    if (!p) throw new Error(`Load ${kind === 'ar' ? 'an AR' : `a ${kind}`} prior checkpoint first (or a reference model set).`);
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
    for (const k of this.kinds()) {
      const s = this.priors[k]!, c = s.value.config, t = c.transformer;
      out.push(`${k} prior: ${s.source} (step ${s.step}; ${t.layers} layers × ${t.dim}, ${c.classes ? `${c.classes} classes` : 'unconditional'})`);
    }
    if (this.tokens) {
      const h = this.tokens.value.header;
      const held = h.items.filter((i) => i.split === 'heldout').length;
      out.push(`token cache: ${this.tokens.source} (${h.items.length} items, ${held} held out)`);
    }
    return out;
  }
}
