// `vqgpu sample`'s class handling (src/node/prior-guidance.ts, src/models/prior/classes.ts): --class NAME|INDEX parsing and its
// error, class frequencies (cache, then the prior's stored counts, then uniform), seeded class
// draws, and which priors accept --cfg.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/io/flags.js';
import { makePriorConfig } from '../src/models/prior/config.js';
import type { TokenCache } from '../src/data/token-cache.js';
import { classFrequencies, classNames, DEFAULT_CFG, describeGuidance, drawClasses, guidanceOf } from '../src/models/prior/classes.js';
import { classBlocks, classListing, parseClass, resolveGuidance } from '../src/node/prior-guidance.js';

const NAMES = ['Activities', 'Animals & Nature', 'Flags', 'Food & Drink', 'Smileys & Emotion', 'Smileys & People'];

const config = (classes: number, extra: { labelDrop?: number; classCounts?: number[]; classNames?: string[] } = {}) =>
  makePriorConfig({ prior: 'ar', codebook: 16, grid: 2, classes, tokenizerChecksum: 't', dim: 16, layers: 1, heads: 2, ...extra });

describe('--class NAME|INDEX', () => {
  it('takes an exact name, any case, an index or a unique prefix', () => {
    expect(parseClass('Flags', NAMES)).toBe(2);
    expect(parseClass('flags', NAMES)).toBe(2);
    expect(parseClass('FOOD & DRINK', NAMES)).toBe(3);
    expect(parseClass('0', NAMES)).toBe(0);
    expect(parseClass('5', NAMES)).toBe(5);
    expect(parseClass('anim', NAMES)).toBe(1);
    expect(parseClass(' Flags ', NAMES)).toBe(2);
  });

  it('refuses an unknown, out-of-range or ambiguous class with one error listing the valid ones', () => {
    for (const bad of ['flag-less', '6', '-1', '1.5', '', 'smileys']) {
      let err: unknown;
      try {
        parseClass(bad, NAMES);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(UsageError);
      const msg = (err as Error).message;
      expect(msg).toContain(`--class '${bad}'`);
      expect(msg).toContain("0 'Activities'");
      expect(msg).toContain("5 'Smileys & People'");
    }
    expect(() => parseClass('smileys', NAMES)).toThrow(/ambiguous \('Smileys & Emotion', 'Smileys & People'\)/);
  });

  it('--class a,b,c splits --n into blocks, in order, by name or index', () => {
    expect(Array.from(classBlocks(['b', '0', 'c'], 6, ['a', 'b', 'c']))).toEqual([1, 1, 0, 0, 2, 2]);
    expect(Array.from(classBlocks(['c'], 2, ['a', 'b', 'c']))).toEqual([2, 2]);
    expect(() => classBlocks(['a', 'b'], 3, ['a', 'b'])).toThrow(/multiple of the 2 classes/);
    expect(() => classBlocks(['a', 'zz'], 2, ['a', 'b'])).toThrow(/--class 'zz'/);
  });

  it('--list-classes prints index and name, one per line', () => {
    expect(classListing(['a', 'b c'])).toBe('0\ta\n1\tb c');
  });
});

describe('class names and frequencies', () => {
  const cache = (labels: string[], train: number[], held: number[] = []): TokenCache => ({
    header: {
      version: 1, codebook: 16, grid: 2, tokenizer: { checksum: 't', step: 0, path: '' }, labels,
      items: [...train.map((label, i) => ({ key: `t${i}`, split: 'train' as const, label })), ...held.map((label, i) => ({ key: `h${i}`, split: 'heldout' as const, label }))],
    },
    tokens: new Uint16Array(0),
  });

  it('names: stored in the prior, else from the cache, else "class i"', () => {
    expect(classNames(config(2, { classNames: ['x', 'y'] }), cache(['p', 'q'], []))).toEqual(['x', 'y']);
    expect(classNames(config(2), cache(['p', 'q'], []))).toEqual(['p', 'q']);
    expect(classNames(config(2))).toEqual(['class 0', 'class 1']);
  });

  it("frequencies: the cache's training split, else the stored counts, else uniform", () => {
    const c = config(3, { classCounts: [5, 0, 1] });
    expect(classFrequencies(c, cache(['a', 'b', 'c'], [0, 2, 2, 2], [1, 1]))).toEqual({ counts: [1, 0, 3], source: 'cache' });
    expect(classFrequencies(c)).toEqual({ counts: [5, 0, 1], source: 'config' });
    expect(classFrequencies(config(3))).toEqual({ counts: [1, 1, 1], source: 'uniform' });
  });

  it('draws classes in proportion to the counts, seeded, never a class with count 0', () => {
    const counts = [6, 0, 3, 1];
    const a = drawClasses(counts, 4000, 7);
    expect(Array.from(drawClasses(counts, 4000, 7))).toEqual(Array.from(a));
    expect(Array.from(drawClasses(counts, 50, 8))).not.toEqual(Array.from(a.subarray(0, 50)));
    const seen = [0, 0, 0, 0];
    for (const k of a) seen[k]++;
    expect(seen[1]).toBe(0);
    for (const [k, p] of [[0, 0.6], [2, 0.3], [3, 0.1]]) {
      const sd = Math.sqrt(4000 * p * (1 - p));
      expect(Math.abs(seen[k] - 4000 * p), `class ${k}: ${seen[k]}`).toBeLessThan(4 * sd);
    }
  });
});

describe('--cfg', () => {
  it('unconditional priors refuse --cfg and --cfg-schedule', () => {
    expect(resolveGuidance(config(0), undefined, undefined, 'P')).toBeNull();
    expect(() => resolveGuidance(config(0), 2, undefined, 'P')).toThrow(UsageError);
    expect(() => resolveGuidance(config(0), undefined, 'linear', 'P')).toThrow(/--cfg\/--cfg-schedule need a class-conditional prior; 'P' is unconditional/);
  });

  it('S = 1 constant is plain sampling; the default depends on label drop', () => {
    const c = config(3, { labelDrop: 0.1 });
    expect(resolveGuidance(c, 1, undefined, 'P')).toBeNull();
    expect(resolveGuidance(c, 3, undefined, 'P')).toEqual({ scale: 3, schedule: 'constant' });
    expect(resolveGuidance(c, 3, 'linear', 'P')).toEqual({ scale: 3, schedule: 'linear' });
    expect(resolveGuidance(c, undefined, undefined, 'P')).toEqual({ scale: DEFAULT_CFG.ar, schedule: 'constant' });
    expect(DEFAULT_CFG.ar).toBe(3);
    expect(resolveGuidance(config(3, { labelDrop: 0 }), undefined, undefined, 'P')).toBeNull();
  });

  it("the schedule defaults by kind: the mask prior ramps S from 1; a given schedule or S = 1 wins", () => {
    const mask = makePriorConfig({ prior: 'mask', codebook: 16, grid: 2, classes: 3, tokenizerChecksum: 't', dim: 16, layers: 1, heads: 2, labelDrop: 0.1 });
    expect(resolveGuidance(mask, undefined, undefined, 'P')).toEqual({ scale: DEFAULT_CFG.mask, schedule: 'linear' });
    expect(resolveGuidance(mask, 2, undefined, 'P')).toEqual({ scale: 2, schedule: 'linear' });
    expect(resolveGuidance(mask, 2, 'constant', 'P')).toEqual({ scale: 2, schedule: 'constant' });
    expect(resolveGuidance(mask, 1, undefined, 'P')).toBeNull(); // a ramp from 1 to 1 is plain sampling
    expect(guidanceOf(mask, 4)).toEqual({ scale: 4, schedule: 'linear' }); // the library and the page
    expect(guidanceOf(config(3, { labelDrop: 0.1 }), 4)).toEqual({ scale: 4, schedule: 'constant' });
    expect(guidanceOf(config(0), 4)).toBeNull();
    expect(describeGuidance(guidanceOf(mask)!)).toBe('guidance S = 3 (ramped from 1 over the steps)'); // the page's wording
    expect(describeGuidance({ scale: 2, schedule: 'constant' })).toBe('guidance S = 2');
  });
});
