// The web page (examples/web) and the reference models it loads by default (models/<set>/, copied
// into the page by build.mjs). Checks, in order:
// - every model set under models/ is complete (tokenizer, AR, the seed's diffusion, D3PM and mask
//   runs, token cache), its priors fit its tokenizer, and all of models/ stays under the 30 MB;
// - in Node (Dawn), what the page draws from: the AR rows it shows as they arrive are the rows of
//   the final sample, which equals the CLI's `drawTokens` for the same seed, classes and guidance;
//   completion keeps the given rows (AR and the reverse process);
// - in headless Chromium: the page loads emoji-32 on a (non-fallback) adapter, samples a few images
//   from each prior on its own (`?demo=ar,diffusion,diffusion-d3pm,mask`), the grid is not blank, and its classes
//   and tokens equal those Node draws from the same run folders with the CLI's loaders and sampler;
// - the minimal page (examples/web-minimal) draws what the library's ImageGenerator draws in Node,
//   which is what the CLI's sampler draws;
// - without an adapter the page says so.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/device/runtime.js';
import { classBlocks, classNames, conditionTokens, defaultGuidanceScale } from '../src/models/prior/classes.js';
import { loadGenerator } from '../src/node/index.js';
import { kindLabel, maskToken, PRIOR_VARIANTS, type PriorConfig, type PriorVariant } from '../src/models/prior/config.js';
import type { Prior } from '../src/models/prior/prior.js';
import { drawTokens } from '../src/sample/draw-from-prior.js';
import type { TokenizerState } from '../src/models/tokenizer/state.js';
import { checkPriorMatchesTokenizer, parseCheckpoint } from '../src/io/run-loader.js';
import type { TokenCache } from '../src/data/token-cache.js';
import { loadPriorRun, readTokenCache } from '../src/node/prior-run.js';
import { loadTokenizerRun } from '../src/node/tokenizer-run.js';
import { guidanceFor, heldOut, labelsFor, rowsPrefix, sampleARGrid, sampleReverse, settingsFor } from '../examples/web/generate.js';
import type { DemoResult } from '../examples/web/demo-run.js';
// @ts-expect-error: plain .mjs helpers without type declarations
import { CHROMIUM, launchChromium, waitForStatus } from '../examples/web/headless.mjs';
// @ts-expect-error: plain .mjs helpers without type declarations
import { serveStatic } from '../scripts/serve-web.mjs';
// @ts-expect-error: plain .mjs helpers without type declarations
import { findModelSets } from '../scripts/model-sets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = join(root, 'models');
/** the set the page loads first, and the one sampled here */
const SET = 'emoji-32';
const run = (part: string) => join(MODELS, SET, part);
const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

let tokenizer: TokenizerState;
const priors: Partial<Record<PriorVariant, Prior>> = {};
let cache: TokenCache;

beforeAll(async () => {
  await init();
  if (!existsSync(run('tokenizer'))) throw new Error(`${run('tokenizer')} is missing: the reference models (models/${SET}/) ship with the repository.`);
  tokenizer = (await loadTokenizerRun(run('tokenizer'))).state;
  for (const k of PRIOR_VARIANTS) priors[k] = (await loadPriorRun(run(k))).prior;
  cache = readTokenCache(run('tokens.bin'));
});

afterAll(() => {
  tokenizer?.dispose();
  for (const p of Object.values(priors)) p?.dispose();
});

function du(path: string): number {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((a, f) => a + du(join(path, f)), 0) : st.size;
}

describe('reference models', () => {
  it('every set is complete, its priors fit its tokenizer, and models/ is under 30 MB', () => {
    const sets = findModelSets(MODELS) as { name: string; parts: Record<string, string> }[];
    expect(sets.map((s) => s.name)).toContain(SET);
    for (const { name, parts } of sets) {
      expect(Object.keys(parts).sort(), name).toEqual(['ar', 'diffusion', 'diffusion-d3pm', 'mask', 'tokenizer', 'tokens']);
      const read = (rel: string) => parseCheckpoint(readFileSync(join(MODELS, name, rel)), `${name}/${rel}`);
      const tok = read(parts.tokenizer);
      expect(tok.kind).toBe('tokenizer');
      for (const k of PRIOR_VARIANTS) {
        const p = read(parts[k]);
        expect(p.kind, parts[k]).toBe('prior');
        const c = p.config as PriorConfig;
        expect(kindLabel(c)).toBe(k); // the folder holds the variant it is named for
        expect(c.classes, `${name}/${k} is class-conditional`).toBeGreaterThan(0);
        checkPriorMatchesTokenizer(c, parts[k], tok.config as import('../src/models/tokenizer/config.js').TokenizerConfig, parts.tokenizer);
      }
    }
    expect(du(MODELS)).toBeLessThan(30 * 1024 * 1024);
  });
});

describe('page sampling (Node, Dawn)', () => {
  it('AR rows shown as they arrive are the rows of the final sample, which is the CLI sampler\'s', async () => {
    const ar = priors.ar!, c = ar.config;
    const G = c.grid, L = G * G;
    const s = settingsFor(c);
    expect(s.cfg).toBe(3); // DEFAULT_CFG.ar: the page starts where `vqgpu sample` does
    const labels = labelsFor(c, { drawn: 3 }, s.seed, cache);
    const partials: { rows: number; tokens: Int32Array }[] = [];
    const tokens = await sampleARGrid(ar, s, labels, { onRows: (rows, t) => void partials.push({ rows, tokens: t }) });
    expect(tokens.length).toBe(3 * L);
    expect(partials.map((p) => p.rows)).toEqual(Array.from({ length: G - 1 }, (_, i) => i + 1));
    for (const { rows, tokens: t } of partials) {
      for (let b = 0; b < 3; b++) expect([...t.subarray(b * rows * G, (b + 1) * rows * G)]).toEqual([...tokens.subarray(b * L, b * L + rows * G)]);
    }
    const cli = await drawTokens(ar, 3, { start: conditionTokens(c, labels), guidance: guidanceFor(c, s), temperature: s.temperature, topK: s.topK, topP: 1, seed: s.seed, steps: s.steps });
    expect([...tokens]).toEqual([...cli.tokens]);
  });

  it('completion keeps the given rows (AR and the reverse process)', async () => {
    const held = heldOut(cache);
    const G = tokenizer.config.grid, L = G * G, rows = 3, n = 2;
    const item = held.tokens.slice(0, L);
    const labels = new Int32Array(n).fill(held.labels[0]);
    const prefix = rowsPrefix(item, G, rows, n);
    const t = await sampleARGrid(priors.ar!, settingsFor(priors.ar!.config), labels, { prefix });
    for (let b = 0; b < n; b++) expect([...t.subarray(b * L, b * L + rows * G)]).toEqual([...item.subarray(0, rows * G)]);
    for (const k of ['diffusion', 'diffusion-d3pm', 'mask'] as const) {
      const p = priors[k]!;
      const r = await sampleReverse(p, settingsFor(p.config, { steps: 4 }), labels, { prefix });
      for (let b = 0; b < n; b++) expect([...r.tokens.subarray(b * L, b * L + rows * G)], k).toEqual([...item.subarray(0, rows * G)]);
      expect([...r.frames[r.frames.length - 1]]).toEqual([...r.tokens]);
      expect(r.tokens.every((v) => v >= 0 && v < p.config.codebook)).toBe(true);
      if (k === 'mask') expect(r.frames[0][L - 1]).toBe(maskToken(p.config));
    }
  });
});

describe.skipIf(!existsSync(CHROMIUM) && !ci)('web page in headless Chromium', () => {
  let server: Server;
  let url: string;
  beforeAll(() => {
    const b = spawnSync(process.execPath, [join(root, 'build.mjs'), 'page'], { cwd: root, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`node build.mjs page failed:\n${b.stdout}${b.stderr}`);
    return serveStatic(join(root, 'dist/web'), { port: 0 }).then((s: { server: Server; url: string }) => {
      server = s.server;
      url = s.url;
    });
  });
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it('samples the reference models (AR, diffusion, D3PM, mask) and matches Node token for token', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e: Error) => errors.push(e.message));
      // 3 images of classes drawn from the training frequencies, 8 reverse steps: a few seconds each
      await page.goto(`${url}?demo=ar,diffusion,diffusion-d3pm,mask&set=${SET}&class=drawn&n=3&seed=7&steps=8`);
      const status = await waitForStatus(page, 'done', 280_000);
      expect(status, `page status; page errors: ${errors.join('; ')}`).toBe('done');
      expect(errors).toEqual([]);

      const r = (await page.evaluate(() => window.vqgpuDemo)) as DemoResult;
      expect(r.set).toBe(SET);
      expect(r.adapter.host).toBe('browser');
      expect(r.adapter.isFallbackAdapter).toBe(false);
      expect(await page.textContent('#adapter')).toMatch(/^Running on \S/);
      expect(await page.textContent('#timing')).toMatch(/3 images .* from the mask prior · guidance S = 3 \(ramped from 1 over the steps\) in [\d.]+ s.* · \d+ ms per image/);
      expect(r.runs.map((x) => x.prior)).toEqual(['ar', 'diffusion', 'diffusion-d3pm', 'mask']);

      // The grid canvas holds 3 decoded images, not a blank (one-colour) canvas.
      const px = await page.evaluate(() => {
        const c = document.getElementById('grid') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set<number>();
        let nonWhite = 0;
        for (let i = 0; i < d.length; i += 4) {
          colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) nonWhite++;
        }
        return { w: c.width, colours: colours.size, nonWhite: nonWhite / (d.length / 4) };
      });
      expect(px.w).toBe(2 * tokenizer.config.size + 3 * 2);
      expect(px.colours).toBeGreaterThan(50);
      expect(px.nonWhite).toBeGreaterThan(0.05);

      // Same run folders, same seed, classes and guidance, the CLI's sampler on Dawn: the same tokens.
      for (const x of r.runs) {
        const p = priors[x.prior]!, c = p.config;
        expect(x.settings.cfg, x.prior).toBe(settingsFor(c).cfg);
        const labels = labelsFor(c, { drawn: 3 }, x.settings.seed, cache);
        expect(x.labels, `${x.prior}: classes`).toEqual([...labels]);
        const s = x.settings;
        const node = await drawTokens(p, labels.length, { start: conditionTokens(c, labels), guidance: guidanceFor(c, s), temperature: s.temperature, topK: s.topK, topP: 1, seed: s.seed, steps: s.steps });
        const differ = x.tokens.filter((t, i) => t !== node.tokens[i]).length;
        console.log(`[web] ${x.prior}: ${x.msPerImage.toFixed(0)} ms per image in the browser (${r.adapter.description || 'adapter'}); ${differ} of ${x.tokens.length} tokens differ from Node's`);
        expect(x.tokens, `${x.prior}: tokens`).toEqual([...node.tokens]);
      }
    } finally {
      await browser.close();
    }
  });

  it('the minimal page (examples/web-minimal) draws nine smileys, token for token what the library draws in Node', async () => {
    const browser = await launchChromium();
    const gen = await loadGenerator(run('tokenizer'), run('ar'));
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e: Error) => errors.push(e.message));
      await page.goto(new URL('minimal/?seed=2&class=Smileys', url).href);
      const status = await waitForStatus(page, 'done', 240_000);
      expect(status, `page status; page errors: ${errors.join('; ')}`).toBe('done');
      const tokens = ((await page.evaluate(() => document.body.dataset.tokens)) as string).split(',').map(Number);
      // The library's ImageGenerator is the CLI's sampler: the same classes, default guidance and seed.
      const c = gen.prior.config;
      const labels = classBlocks(['Smileys'], 9, classNames(c));
      const cli = await drawTokens(gen.prior, 9, { start: conditionTokens(c, labels), guidance: { scale: defaultGuidanceScale(c) }, temperature: 1, topK: 0, topP: 1, seed: 2, steps: 32 });
      const node = await gen.sample({ n: 9, class: 'Smileys', seed: 2 });
      expect([...node.tokens]).toEqual([...cli.tokens]);
      expect([...node.labels]).toEqual(new Array(9).fill(classNames(c).indexOf('Smileys & Emotion')));
      expect(tokens).toEqual([...node.tokens]);
      const px = await page.evaluate(() => {
        const cv = document.getElementById('out') as HTMLCanvasElement;
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        let nonWhite = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 720) nonWhite++;
        return { w: cv.width, nonWhite: nonWhite / (d.length / 4) };
      });
      expect(px.w).toBe(3 * 4 * gen.size + 4 * 2);
      expect(px.nonWhite).toBeGreaterThan(0.2);
    } finally {
      gen.dispose();
      await browser.close();
    }
  }, 300_000); // (9 guided AR samples in the page and twice in Node: ~30 s idle, minutes on a loaded 2-core machine)

  it('says clearly that there is no WebGPU adapter instead of showing a blank page', async () => {
    const browser = await launchChromium({ webgpu: false });
    try {
      const page = await browser.context.newPage();
      await page.goto(`${url}?demo=1`);
      const status = await waitForStatus(page, 'done', 60_000);
      expect(status).toMatch(/^error: .*(adapter|WebGPU)/);
      expect(await page.isVisible('#fatal')).toBe(true);
      expect(await page.isVisible('#app')).toBe(false);
      expect(await page.textContent('#fatal')).toMatch(/WebGPU is not available/);
    } finally {
      await browser.close();
    }
  });
});
