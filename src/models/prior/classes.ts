// The classes of a class-conditional prior, browser-safe (the CLI's `sample`, `eval-samples` and
// `compare`, the web page and the library's Generator): class names, training frequencies, seeded class draws, the
// conditioning tokens of labels, and the default classifier-free guidance scale per prior kind.
// The CLI's flag parsing around these (--class, --cfg) is in src/node/prior-guidance.ts.

import type { TokenCache } from '../../data/token-cache.js';
import { classCounts } from '../../train/prior-trainer.js';
import { conditionToken, type PriorConfig, type PriorKind } from './config.js';
import { NoiseRng } from './noise.js';
import { UsageError } from '../../io/flags.js';

/**
 * The guidance scale S for priors trained with label drop, by kind (S = 1 for priors without label
 * drop: their unconditional logits were never trained), measured with `eval-samples` on the
 * reference models (models/emoji-32: 3 × 128 class-conditional priors, label drop 0.1; KID ×10³,
 * lower is better; docs/sampling.md). AR (n = 1000): S = 3 5.4 ± 1.4, S = 2 5.7 ± 1.7, S = 5
 * 11.2 ± 2.1, S = 1 8.3 ± 2.1, class accuracy 0.753 at S = 3 against 0.658 at S = 1. The seed's
 * diffusion (n = 300): S = 3 25.0 ± 4.2 against 38.6 ± 6.1 at S = 1 (class accuracy 0.54 vs
 * 0.49); its D3PM variant likewise 42.1 against 75.8. Mask (32 steps, n = 1000, with its schedule
 * below): S = 3 1.6 ± 0.6 against 3.8 ± 1.0 at S = 1, class accuracy 0.78 against 0.73; held
 * constant, S = 2 costs KID (6.5 ± 1.5).
 */
export const DEFAULT_CFG: Readonly<Record<PriorKind, number>> = { ar: 3, diffusion: 3, mask: 3 };

/**
 * How S runs over the sampling steps when no schedule is asked for (src/sample/guidance.ts):
 * 'linear' ramps from 1 (plain conditional) at the first step to S at the last. The mask prior
 * takes the ramp: its first steps choose the layout, where full guidance collapses the samples
 * of a class onto one (recall), and its last steps fill in detail, where guidance pays.
 */
export const DEFAULT_CFG_SCHEDULE: Readonly<Record<PriorKind, 'constant' | 'linear'>> = { ar: 'constant', diffusion: 'constant', mask: 'linear' };

/** S when none is asked for: DEFAULT_CFG for conditional priors trained with label drop, else 1. */
export function defaultGuidanceScale(c: PriorConfig): number {
  return c.classes > 0 && (c.labelDrop ?? 0) > 0 ? DEFAULT_CFG[c.prior] : 1;
}

/**
 * The guidance a conditional prior samples with: S and its schedule, each the prior's default
 * where not given; null for plain sampling (an unconditional prior, or S = 1, which every schedule
 * keeps at 1). The result is a GuidanceOptions of src/sample/guidance.ts, spelled out here because
 * models import no sampler.
 */
export function guidanceOf(c: PriorConfig, scale?: number, schedule?: 'constant' | 'linear'): { scale: number; schedule: 'constant' | 'linear' } | null {
  const s = scale ?? defaultGuidanceScale(c);
  return c.classes > 0 && s !== 1 ? { scale: s, schedule: schedule ?? DEFAULT_CFG_SCHEDULE[c.prior] } : null;
}

/** How the page names a run's guidance: "guidance S = 3", with "(ramped from 1 over the steps)" for the linear schedule. */
export function describeGuidance(g: { scale: number; schedule?: 'constant' | 'linear' }): string {
  return `guidance S = ${g.scale}${g.schedule === 'linear' ? ' (ramped from 1 over the steps)' : ''}`;
}

/** Class names of a conditional prior: from its config, else the cache's header, else "class i". */
export function classNames(c: PriorConfig, cache?: TokenCache | null): string[] {
  if (c.classNames?.length === c.classes) return c.classNames;
  if (cache && cache.header.labels.length === c.classes) return cache.header.labels;
  return Array.from({ length: c.classes }, (_, i) => `class ${i}`);
}

/**
 * How often each class occurs in the training split: from the token cache when given (its items'
 * labels), else the counts stored in the prior's config at training time, else uniform.
 */
export function classFrequencies(c: PriorConfig, cache?: TokenCache | null): { counts: number[]; source: 'cache' | 'config' | 'uniform' } {
  if (cache && cache.header.labels.length === c.classes) {
    const counts = classCounts(cache.header.items.filter((it) => it.split === 'train').map((it) => it.label), c.classes);
    if (counts.some((k) => k > 0)) return { counts, source: 'cache' };
  }
  if (c.classCounts?.length === c.classes && c.classCounts.some((k) => k > 0)) return { counts: c.classCounts, source: 'config' };
  return { counts: new Array<number>(c.classes).fill(1), source: 'uniform' };
}

/** n classes drawn independently with probabilities ∝ counts (seeded). */
export function drawClasses(counts: number[], n: number, seed: number): Int32Array {
  const total = counts.reduce((a, k) => a + k, 0);
  if (!(total > 0)) throw new Error('drawClasses: every class count is zero.');
  const rng = new NoiseRng((seed * 2654435761 + 0x1234567) >>> 0);
  const out = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    let r = rng.next() * total, k = 0;
    while (k < counts.length - 1 && (r -= counts[k]) >= 0) k++;
    while (counts[k] === 0) k--; // r landed past the last positive count by rounding
    out[b] = k;
  }
  return out;
}

/** Conditioning tokens of labels (−1: the null class). */
export function conditionTokens(c: PriorConfig, labels: Int32Array): Int32Array {
  return labels.map((l) => conditionToken(c, l));
}

/**
 * `--class NAME|INDEX` → the class index: an exact name, then a case-insensitive name, then an
 * index, then a unique case-insensitive prefix of a name. Anything else is one UsageError that
 * lists the valid classes.
 */
export function parseClass(value: string, names: string[], command = 'sample'): number {
  const v = value.trim();
  const exact = names.indexOf(v);
  if (exact >= 0) return exact;
  const lower = v.toLowerCase();
  const ci = names.findIndex((n) => n.toLowerCase() === lower);
  if (ci >= 0) return ci;
  if (/^\d+$/.test(v) && Number(v) < names.length) return Number(v);
  const pre = lower ? names.map((n, i) => [n.toLowerCase(), i] as const).filter(([n]) => n.startsWith(lower)) : [];
  if (pre.length === 1) return pre[0][1];
  const list = names.map((n, i) => `${i} '${n}'`).join(', ');
  const why = pre.length > 1 ? `is ambiguous (${pre.map(([, i]) => `'${names[i]}'`).join(', ')})` : 'is not a class of this prior';
  throw new UsageError(`${command}: --class '${value}' ${why}. Valid classes (name or index): ${list}.`);
}

/**
 * `--class a,b,c` with `--n n`: n/3 images of class a, then b, then c (names or indices, each parsed
 * as `--class` is). Throws when n is not a multiple of the list's length.
 */
export function classBlocks(list: readonly string[], n: number, names: string[]): Int32Array {
  if (!list.length || n % list.length !== 0) throw new UsageError(`sample: --n ${n} must be a multiple of the ${list.length} classes in --class.`);
  const ids = list.map((c) => parseClass(c, names));
  return Int32Array.from({ length: n }, (_, i) => ids[Math.floor((i * list.length) / n)]);
}
