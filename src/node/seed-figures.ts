// The seed's figures from one tokenizer and its priors, as the demo writes them (for the reference
// models and for the models it trains from scratch):
//   recon.png                          held-out images beside their reconstructions (Fig. 1)
//   <kind>-classes.png                 guided 3×3 samples of each demo class side by side, every kind
//   ar-complete-{half,quarter,first-token}.png   completions beside the originals (Figs. 2–4)
//   diffusion-reverse-t{0.5,1.5}.png, diffusion-reverse.gif   reverse diffusion (Figs. 5–7)
//   diffusion-d3pm-reverse.png, diffusion-d3pm-reverse.gif     D3PM's reverse process (its noise levels)
//   mask-reverse.png, mask-reverse.gif MaskGIT-style unmasking
// The GIFs and the D3PM and mask strips show 9 chains of the class grids' run (every class), so each
// prior samples its class grids once; the seed's two temperature strips are runs of their own.

import { join } from 'node:path';
import { splitTokens } from '../data/token-cache.js';
import { evalTokenizer } from './commands/eval-tokenizer.js';
import { sample } from './commands/sample.js';
import { readTokenCache } from './prior-run.js';
import type { PriorVariant } from '../models/prior/config.js';

export interface SeedFigureInputs {
  tokenizer: string;
  /** prior run folders by kind (absent kinds are skipped) */
  priors: Partial<Record<PriorVariant, string>>;
  /** the token cache the priors were trained on (held-out items to complete, class names) */
  tokens: string;
}

/** The classes the demo draws grids of: flags, smileys, people and symbols where the data has them, else its first four. */
export function demoClasses(labels: readonly string[]): string[] {
  const want = ['flags', 'smileys', 'people', 'symbols'];
  const found = want.map((w) => labels.find((l) => l.toLowerCase().startsWith(w))).filter((l): l is string => !!l);
  return found.length ? found : labels.slice(0, 4);
}

/** The seed's three priors first (the demo's first minute), then D3PM, the principled variant beside them. */
const FIGURE_ORDER: readonly PriorVariant[] = ['ar', 'diffusion', 'mask', 'diffusion-d3pm'];

/** Writes the figures above into `out` (which must exist); returns the files written. */
export async function seedFigures(inputs: SeedFigureInputs, out: string, seed: number): Promise<string[]> {
  const written: string[] = [];
  const cache = readTokenCache(inputs.tokens);
  const grid = cache.header.grid;
  const at = (name: string) => { const p = join(out, name); written.push(p); return p; };
  await evalTokenizer(['--run', inputs.tokenizer, '--json', '--out', at('recon.png')]);
  const classes = demoClasses(cache.header.labels ?? []);
  const held = Math.min(9, splitTokens(cache, 'heldout').count);
  const t0 = Date.now();
  for (const kind of FIGURE_ORDER) {
    const prior = inputs.priors[kind];
    if (!prior) continue;
    if (kind === 'diffusion-d3pm') console.error(`seed figures: the seed's (AR, diffusion, mask) written in ${((Date.now() - t0) / 1000).toFixed(0)} s; D3PM's next`);
    const common = ['--tokenizer', inputs.tokenizer, '--prior', prior, '--seed', String(seed)];
    // One batch for all classes: flags, smileys, people, symbols, 9 each; a diffusion or mask
    // prior's reverse process of 9 of those chains (every class) from the same run.
    const grids = classes.length ? at(`${kind}-classes.png`) : null;
    const reverse = kind === 'ar' ? [] : kind === 'diffusion' ? [at('diffusion-reverse.gif')] : [at(`${kind}-reverse.png`), at(`${kind}-reverse.gif`)];
    if (grids) {
      await sample([...common, '--class', classes.join(','), '--n', String(9 * classes.length), '--out', grids,
        ...(reverse.length ? ['--reverse', reverse.join(',')] : [])]);
    } else if (reverse.length) {
      // No classes: 9 chains, their GIF (and strip) from one run.
      const [gif, ...strip] = reverse.filter((f) => f.endsWith('.gif')).concat(reverse.filter((f) => !f.endsWith('.gif')));
      await sample([...common, '--n', '9', '--out', gif, ...(strip.length ? ['--reverse', strip.join(',')] : [])]);
    }
    if (kind === 'ar') {
      // Completions of held-out items: the top half, the top quarter and the first token kept.
      const done = ['--n', String(held), '--tokens', inputs.tokens];
      await sample([...common, ...done, '--prefix-rows', String(grid / 2), '--out', at('ar-complete-half.png')]);
      await sample([...common, ...done, '--prefix-rows', String(grid / 4), '--out', at('ar-complete-quarter.png')]);
      await sample([...common, ...done, '--prefix-tokens', '1', '--out', at('ar-complete-first-token.png')]);
    } else if (kind === 'diffusion') {
      // The seed's reverse process from uniformly random tokens at a low and a high first temperature.
      for (const t of ['0.5', '1.5']) await sample([...common, '--n', '6', '--temperature', t, '--out', at(`diffusion-reverse-t${t}.png`)]);
    }
  }
  return written;
}
