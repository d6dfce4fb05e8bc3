// The web page (examples/web) in headless Chromium, driven from Node with playwright-core: it
// loads, finds a (non-fallback) adapter, samples a 3×3 grid with the demo checkpoint on its own
// (`?demo=1`), and the grid is not blank; its tokens for a fixed seed equal those Node (Dawn) draws
// from the same checkpoint files with the same code. Without an adapter the page says so.
// Also checks, in Node, what the page draws from: the AR rows it shows as they arrive are the rows
// of the final sample, completion keeps the given rows, the reverse process ends in its tokens.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/device/runtime.js';
import { maskToken } from '../src/models/prior/config.js';
import type { Prior } from '../src/models/prior/prior.js';
import type { TokenizerState } from '../src/models/tokenizer/state.js';
import { loadPrior, loadTokenizer, parseCheckpoint } from '../src/io/run-loader.js';
import { DEMO_SETTINGS, heldOut, rowsPrefix, sampleARGrid, sampleReverse } from '../examples/web/generate.js';
import { DEMO_FILES } from '../examples/web/models.js';
import type { DemoResult } from '../examples/web/main.js';
// @ts-expect-error: plain .mjs helpers without type declarations
import { CHROMIUM, launchChromium, waitForStatus } from '../examples/web/headless.mjs';
// @ts-expect-error: plain .mjs helpers without type declarations
import { serveStatic } from '../scripts/serve-web.mjs';
import { decodeTokenCache } from '../src/data/token-cache.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = (name: string) => join(root, 'examples/web/demo', name);
const hasDemo = existsSync(demo(DEMO_FILES.tokenizer)) && existsSync(demo(DEMO_FILES.ar));
const reverseFile = DEMO_FILES.reverse.find((f) => existsSync(demo(f)));
const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

let tokenizer: TokenizerState;
let ar: Prior;

beforeAll(async () => {
  await init();
  tokenizer = loadTokenizer(new Uint8Array(readFileSync(demo(DEMO_FILES.tokenizer))), DEMO_FILES.tokenizer);
  ar = loadPrior(new Uint8Array(readFileSync(demo(DEMO_FILES.ar))), DEMO_FILES.ar);
});

describe('demo checkpoint', () => {
  it('is shipped with the page, small, and of the right kinds', () => {
    expect(hasDemo).toBe(true);
    expect(reverseFile).toBeDefined();
    let total = 0;
    for (const f of [DEMO_FILES.tokenizer, DEMO_FILES.ar, reverseFile!, DEMO_FILES.tokens]) total += readFileSync(demo(f)).length;
    expect(total).toBeLessThan(8 * 1024 * 1024);
    expect(parseCheckpoint(readFileSync(demo(DEMO_FILES.tokenizer)), 't').kind).toBe('tokenizer');
    expect(ar.config.prior).toBe('ar');
    expect(() => loadTokenizer(new Uint8Array(readFileSync(demo(DEMO_FILES.ar))), DEMO_FILES.ar)).toThrow(/prior checkpoint, but a tokenizer checkpoint/);
  });
});

describe('page sampling (Node, Dawn)', () => {
  it('AR rows shown as they arrive are the rows of the final sample', async () => {
    const G = ar.config.grid, L = G * G, n = 3;
    const partials: { rows: number; tokens: Int32Array }[] = [];
    const tokens = await sampleARGrid(ar, { ...DEMO_SETTINGS, n }, { onRows: (rows, t) => void partials.push({ rows, tokens: t }) });
    expect(tokens.length).toBe(n * L);
    expect(partials.map((p) => p.rows)).toEqual(Array.from({ length: G - 1 }, (_, i) => i + 1));
    for (const { rows, tokens: t } of partials) {
      expect(t.length).toBe(n * rows * G);
      for (let b = 0; b < n; b++) expect([...t.subarray(b * rows * G, (b + 1) * rows * G)]).toEqual([...tokens.subarray(b * L, b * L + rows * G)]);
    }
    // watching the rows does not change the sample
    expect([...(await sampleARGrid(ar, { ...DEMO_SETTINGS, n }))]).toEqual([...tokens]);
  });

  it('completion keeps the given rows (AR and reverse process)', async () => {
    const cache = decodeTokenCache(new Uint8Array(readFileSync(demo(DEMO_FILES.tokens))));
    const held = heldOut(cache);
    const G = ar.config.grid, L = G * G, rows = 3, n = 2;
    const item = held.tokens.slice(0, L);
    const prefix = rowsPrefix(item, held.labels[0], G, rows, n);
    const t = await sampleARGrid(ar, { ...DEMO_SETTINGS, n }, { prefix });
    for (let b = 0; b < n; b++) expect([...t.subarray(b * L, b * L + rows * G)]).toEqual([...item.subarray(0, rows * G)]);

    const rev = loadPrior(new Uint8Array(readFileSync(demo(reverseFile!))), reverseFile!);
    try {
      const r = await sampleReverse(rev, { ...DEMO_SETTINGS, n, steps: 4 }, { prefix });
      for (let b = 0; b < n; b++) expect([...r.tokens.subarray(b * L, b * L + rows * G)]).toEqual([...item.subarray(0, rows * G)]);
      expect([...r.frames[r.frames.length - 1]]).toEqual([...r.tokens]);
      expect(r.tokens.every((v) => v >= 0 && v < rev.config.codebook)).toBe(true);
      if (rev.config.prior === 'mask') expect(r.frames[0][L - 1]).toBe(maskToken(rev.config));
    } finally {
      rev.dispose();
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

  it('samples the demo grid on an adapter, draws it, and matches Node token for token', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e: Error) => errors.push(e.message));
      await page.goto(`${url}?demo=1&seed=${DEMO_SETTINGS.seed}`);
      const status = await waitForStatus(page, 'done');
      expect(status, `page status; page errors: ${errors.join('; ')}`).toBe('done');
      expect(errors).toEqual([]);

      const r = (await page.evaluate(() => window.vqgpuDemo)) as DemoResult;
      expect(r.adapter.host).toBe('browser');
      expect(r.adapter.isFallbackAdapter).toBe(false);
      expect(await page.textContent('#adapter')).toMatch(/^Running on \S/);
      expect(await page.textContent('#timing')).toMatch(/9 images in [\d.]+ s.* · \d+ ms per image/);

      // The grid canvas holds 9 decoded images, not a blank (one-colour) canvas.
      const px = await page.evaluate(() => {
        const c = document.getElementById('grid') as HTMLCanvasElement;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        const colours = new Set<number>();
        let nonWhite = 0;
        for (let i = 0; i < d.length; i += 4) {
          colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) nonWhite++;
        }
        return { w: c.width, h: c.height, colours: colours.size, nonWhite: nonWhite / (d.length / 4) };
      });
      const S = tokenizer.config.size;
      expect(px.w).toBe(3 * S + 4 * 2);
      expect(px.colours).toBeGreaterThan(50);
      expect(px.nonWhite).toBeGreaterThan(0.05);

      // Same checkpoint, same seed, same code on Dawn: the same tokens.
      const node = await sampleARGrid(ar, r.settings);
      const L = ar.config.grid ** 2;
      expect(r.tokens.length).toBe(r.settings.n * L);
      const differ = r.tokens.filter((t, i) => t !== node[i]).length;
      console.log(`[web] browser ${r.adapter.description || 'adapter'}: ${r.msPerImage.toFixed(0)} ms per image; tokens equal to Node's: ${differ === 0} (${differ} of ${r.tokens.length} differ)`);
      expect(r.tokens).toEqual([...node]);
    } finally {
      await browser.close();
    }
  });

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
