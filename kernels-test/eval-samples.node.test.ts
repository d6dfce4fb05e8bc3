// eval-samples and `sample --out DIR` end to end on a tiny synthetic pipeline (tokenizer, cache,
// class-conditional prior, classifier, a few steps each): one JSON line per row with every field,
// the held-out row at nn_ratio 1 by construction, one PNG per sample at the model's resolution,
// one clear error when no classifier is there, and `sample --reverse` (a per-class run's reverse
// process of 9 chains, every class, beside its class grids).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, explain, removeTempDirs, runCli, tempDir, TINY_PRIOR, TINY_TOKENIZER } from './reliability-cli.js';
import { reverseChains } from '../src/node/commands/sample-diffusion.js';
// @ts-expect-error: plain .mjs helpers without type declarations
import { decodeGif } from '../scripts/gif-frames.mjs';

let dir = '', tok = '', cache = '', prior = '', cls = '';

beforeAll(async () => {
  buildCli();
  dir = tempDir('eval-samples');
  [tok, cache, prior, cls] = ['tok', 'tokens.bin', 'ar', 'classifier'].map((n) => join(dir, n));
  for (const args of [
    ['train-tokenizer', ...TINY_TOKENIZER, '--steps', '2', '--figure-every', '1000', '--out', tok],
    ['encode', '--run', tok, '--out', cache],
    ['train-prior', '--tokens', cache, ...TINY_PRIOR, '--class-cond', '--steps', '2', '--out', prior],
    ['train-classifier', '--data', 'synthetic', '--size', '16', '--widths', '8,16', '--steps', '2', '--out', cls],
  ]) {
    const r = await runCli(args);
    expect(r.code, explain(r)).toBe(0);
  }
}, 300_000);
afterAll(removeTempDirs);

describe('eval-samples', () => {
  it('prints the samples row and the three reference rows with every field', async () => {
    // No --classifier: the one beside the tokenizer's folder.
    const r = await runCli(['eval-samples', '--tokenizer', tok, '--prior', prior, '--tokens', cache, '--n', '12', '--batch', '5', '--cfg', '2', '--json']);
    expect(r.code, explain(r)).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.row)).toEqual(['samples', 'heldout', 'reconstructions', 'training_grids']);
    for (const k of ['n', 'kid', 'kid_std', 'precision', 'recall', 'class_accuracy', 'nn_ratio', 'copies']) for (const row of rows) expect(row).toHaveProperty(k);
    const [s, held] = rows;
    expect(s).toMatchObject({ prior: 'ar', n: 12, cfg: 2, evaluations_per_image: 16 });
    expect(s.s_per_image).toBeGreaterThan(0);
    expect(s.copies).toBeGreaterThanOrEqual(0);
    expect(s.copies).toBeLessThanOrEqual(1);
    expect(s.class_accuracy).toBeGreaterThanOrEqual(0);
    expect(s.class_accuracy).toBeLessThanOrEqual(1);
    // Shares in [0, 1]; null (NaN in the scorer) only where a set has too few points for k = 3
    // neighbours: recall on this tiny data set's held-out split. Precision is against the training set.
    expect(s.precision).toEqual(expect.any(Number));
    for (const row of rows) {
      for (const k of ['precision', 'recall']) {
        if (row[k] === null) continue;
        expect(row[k], `${row.row} ${k}`).toBeGreaterThanOrEqual(0);
        expect(row[k], `${row.row} ${k}`).toBeLessThanOrEqual(1);
      }
    }
    expect(held.nn_ratio).toBeCloseTo(1, 9);
    expect(held.copies).toBeNull();
    // the training grids decoded: the samples' N where the split has that many, each grid a copy
    const grids = rows[3];
    expect(grids.n).toBe(12);
    expect(grids.copies).toBe(1);
  }, 300_000);

  it('refuses a missing classifier in one sentence naming the command that trains one', async () => {
    const r = await runCli(['eval-samples', '--tokenizer', tok, '--prior', prior, '--tokens', cache, '--classifier', join(dir, 'none'), '--n', '10']);
    expect(r.code, explain(r)).toBe(2);
    expect(r.stderr).toMatch(/no classifier at .*train-classifier/);
  });
});

describe('compare', () => {
  it("reports eval-samples' numbers per prior, then the three reference rows", async () => {
    const r = await runCli(['compare', '--tokenizer', tok, '--priors', `${prior},${prior}`, '--tokens', cache, '--classifier', cls, '--n', '16', '--batch', '8', '--json']);
    expect(r.code, explain(r)).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.row)).toEqual(['samples', 'samples', 'heldout', 'reconstructions', 'training_grids']);
    for (const k of ['kid', 'precision', 'recall', 'class_accuracy', 'nn_ratio', 'copies', 'heldout_loss_bits', 'evals_per_image']) expect(rows[0]).toHaveProperty(k);
    expect(rows[0].kid).toBe(rows[1].kid); // same prior, same seed: same samples
  }, 300_000);

  it('refuses a missing prior folder before sampling any prior, and an --out that is not .png', async () => {
    const r = await runCli(['compare', '--tokenizer', tok, '--priors', `${prior},${join(dir, 'no-such-prior')}`, '--tokens', cache, '--classifier', cls, '--n', '16']);
    expect(r.code, explain(r)).not.toBe(0);
    expect(r.stderr).toMatch(/no-such-prior' holds no checkpoint/);
    expect(r.stdout).toBe(''); // no prior sampled first
    const jpg = await runCli(['compare', '--tokenizer', tok, '--priors', prior, '--tokens', cache, '--out', join(dir, 'c.jpg')]);
    expect(jpg.code, explain(jpg)).toBe(2);
    expect(jpg.stderr).toMatch(/--out is a \.png figure/);
  });
});

describe('sample --out DIR', () => {
  it('writes each sample as its own PNG at the model resolution', async () => {
    const out = join(dir, 'samples');
    const r = await runCli(['sample', '--tokenizer', tok, '--prior', prior, '--n', '3', '--out', out]);
    expect(r.code, explain(r)).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['0000.png', '0001.png', '0002.png']);
    const png = PNG.sync.read(readFileSync(join(out, '0002.png')));
    expect([png.width, png.height]).toEqual([16, 16]);
    expect(existsSync(join(out, '0003.png'))).toBe(false);
  });

  it('refuses an image extension it does not write (a JPEG), in one sentence, writing nothing', async () => {
    const jpg = join(dir, 'samples.jpg');
    const r = await runCli(['sample', '--tokenizer', tok, '--prior', prior, '--n', '2', '--out', jpg]);
    expect(r.code, explain(r)).toBe(2);
    expect(r.stderr).toMatch(/--out '.*samples\.jpg': images are written as \.png/);
    expect(existsSync(jpg)).toBe(false);
  });
});

describe('sample --reverse', () => {
  it('takes the chains of a per-class run from every class in turn, at most 9', () => {
    expect(reverseChains(36, 4)).toEqual([0, 9, 18, 27, 1, 10, 19, 28, 2]);
    expect(reverseChains(12, 2)).toEqual([0, 6, 1, 7, 2, 8, 3, 9, 4]);
    expect(reverseChains(6)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(reverseChains(20)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('writes the class grids and, from the same run, the reverse process of 9 of its chains as a strip and a GIF', async () => {
    const mask = join(dir, 'mask');
    const t = await runCli(['train-prior', '--kind', 'mask', '--tokens', cache, ...TINY_PRIOR, '--class-cond', '--steps', '2', '--out', mask]);
    expect(t.code, explain(t)).toBe(0);
    const [grids, strip, gif] = ['classes.png', 'reverse.png', 'reverse.gif'].map((n) => join(dir, n));
    const r = await runCli(['sample', '--tokenizer', tok, '--prior', mask, '--class', '0,1', '--n', '12', '--steps', '4', '--out', grids, '--reverse', `${strip},${gif}`]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr).toMatch(/12 images from the mask prior .*\(4 network evaluations/);
    // 16-px images drawn 4× with 2-px gaps: a 3×3 grid is 200 px wide (all 12 chains would be 4 wide: 266)
    const g = decodeGif(readFileSync(gif));
    expect([g.width, g.height, g.frames.length]).toEqual([200, 200, 5]); // the start and the 4 steps
    const s = PNG.sync.read(readFileSync(strip));
    expect(s.height).toBe(200);
    expect(s.width).toBeGreaterThanOrEqual(5 * 200);
    expect(existsSync(grids)).toBe(true);
  }, 120_000);

  it('refuses --reverse for the AR prior and for files that are not .png or .gif, in one sentence', async () => {
    const ar = await runCli(['sample', '--tokenizer', tok, '--prior', prior, '--n', '2', '--out', join(dir, 'a.png'), '--reverse', join(dir, 'r.gif')]);
    expect(ar.code, explain(ar)).toBe(2);
    expect(ar.stderr).toMatch(/--reverse .* the AR prior has none/);
    const bad = await runCli(['sample', '--tokenizer', tok, '--prior', join(dir, 'mask'), '--n', '2', '--out', join(dir, 'b.png'), '--reverse', join(dir, 'r.jpg')]);
    expect(bad.code, explain(bad)).toBe(2);
    expect(bad.stderr).toMatch(/--reverse takes \.png .* and\/or \.gif files/);
  });
});
