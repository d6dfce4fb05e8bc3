// The Train view's prior stage, in headless Chromium (the GLES compatibility adapter, as in
// train-web.node.test.ts): `?train=prior&steps=N&prior-steps=M` trains the tokenizer on the emoji
// set for N steps, then in the same worker encodes the set with it, trains the AR prior of
// `train-prior --kind ar` (class-conditional: the emoji categories) for M steps and samples a grid.
// (Step budgets, not seconds: on this adapter, on the shared 2-core CPU, the prior's first step
// compiles its kernels for about a minute and a step then takes seconds, so a time budget of a
// test's length may end after one or two steps. The whole test takes 3–4 minutes here.)
// - a reload after the prior's first checkpoint (step 4) offers the saved prior, and
//   `?train=continue` continues it from OPFS to the end of its budget (its curve continued);
// - the prior's loss falls (body[data-prior-losses]: its first and last logged loss);
// - the sample grid comes back (16 finite images of the tokenizer's size);
// - the two downloads, unpacked side by side, are CLI run folders: Node loads the prior with the
//   CLI's loader (class-conditional, trained on the tokens of the downloaded tokenizer: the checksums
//   agree), `vqgpu sample --tokenizer … --prior …` draws from them without a warning, and
//   `vqgpu train-prior --resume` continues the prior on its own token cache;
// - "Open in the Sample view" on the full page: the tokenizer and prior saved in OPFS load on the
//   page's own device, and the Sample view draws a grid from them;
// - the prior picker (`prior-kind=diffusion-d3pm`): a variant, not only a kind, reaches the worker:
//   the D3PM diffusion prior (`train-prior --kind diffusion --noise d3pm`) trains and samples in the
//   tab, and its download is a D3PM diffusion run.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTokenCache } from '../src/data/token-cache.js';
import { init } from '../src/device/runtime.js';
import { loadLatestCheckpoint } from '../src/node/checkpoint.js';
import { checkpointChecksum } from '../src/node/checksum.js';
import { kindLabel } from '../src/models/prior/config.js';
import { checkCacheMatchesPrior, loadPriorRun } from '../src/node/prior-run.js';
import type { TrainHooks } from '../examples/web/train/train-tab.js';
import { readZip } from '../examples/web/train/zip.js';
// @ts-expect-error: plain .mjs helpers without type declarations
import { CHROMIUM, launchChromium, waitForStatus } from '../examples/web/headless.mjs';
// @ts-expect-error: plain .mjs helpers without type declarations
import { serveStatic } from '../scripts/serve-web.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
/** the tokenizer's and the prior's steps of training in the page */
const TOKENIZER_STEPS = 10;
const PRIOR_STEPS = 8;
/** checkpoints every EVERY steps (the reload comes after the prior's first) */
const EVERY = 4;

type Page = {
  goto(u: string): Promise<unknown>;
  evaluate<T, A = undefined>(f: (a: A) => T, a?: A): Promise<T>;
  waitForFunction(f: () => unknown, arg?: unknown, o?: { timeout?: number; polling?: number }): Promise<unknown>;
  on(e: string, f: (x: never) => void): void;
  click(sel: string): Promise<void>;
  textContent(sel: string): Promise<string | null>;
};

describe.skipIf(!existsSync(CHROMIUM) && !ci)('the Train view trains a prior after the tokenizer (headless Chromium)', () => {
  let server: Server;
  let url: string;
  const tmp = mkdtempSync(join(tmpdir(), 'vqgpu-train-web-prior-'));
  beforeAll(async () => {
    const b = spawnSync(process.execPath, [join(root, 'build.mjs'), 'page', 'node'], { cwd: root, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`node build.mjs page node failed:\n${b.stdout}${b.stderr}`);
    const s = (await serveStatic(join(root, 'dist/web'), { port: 0 })) as { server: Server; url: string };
    server = s.server;
    url = s.url;
  });
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it(`tokenizer (${TOKENIZER_STEPS} steps), encode, AR prior (${PRIOR_STEPS} steps, a reload after ${EVERY}): the loss falls, samples come back, the downloads are CLI run folders`, async () => {
    const browser = await launchChromium();
    let prior: TrainHooks['prior'], zips: Record<'tokenizer' | 'prior', Buffer>, events: string[];
    try {
      const page = (await browser.context.newPage()) as Page;
      const errors: string[] = [];
      page.on('pageerror', (e: Error) => errors.push(e.message));
      page.on('console', (m: { type(): string; text(): string }) => m.type() === 'error' && errors.push(m.text()));
      const t0 = Date.now();
      await page.goto(`${url}?train=prior&steps=${TOKENIZER_STEPS}&prior-steps=${PRIOR_STEPS}&checkpoint-every=${EVERY}`);
      const hooks = () => page.evaluate(() => {
        const h = (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain;
        return { prior: h.prior, events: h.events };
      });
      // the reload, once the prior's first checkpoint is in OPFS
      await page.waitForFunction(() => (window as unknown as { vqgpuTrain?: TrainHooks }).vqgpuTrain?.prior.checkpoints.length, undefined, { timeout: 400_000, polling: 100 });
      const before = await hooks();
      expect(before.events).toEqual(['running@0', `done@${TOKENIZER_STEPS}`, 'prior:running@0']);
      expect(before.prior.checkpoints[0]).toBe(`ckpt-${String(EVERY).padStart(6, '0')}.safetensors`);
      const data = before.prior.data!;
      await page.goto(`${url}?train=continue`);
      await page.waitForFunction(() => /A prior is saved in this browser at step/.test(document.getElementById('prior-saved')?.textContent ?? ''), undefined, { timeout: 120_000, polling: 50 });
      const offer = await page.evaluate(() => document.getElementById('prior-saved')!.textContent);
      const status = await waitForStatus(page, 'done', 400_000);
      expect(status, `page status; page errors: ${errors.join('; ')}`).toBe('done');
      expect(errors).toEqual([]);
      const [first, last] = ((await page.evaluate(() => document.body.dataset.priorLosses)) ?? '').split(',').map(Number);
      ({ prior, events } = await hooks());
      prior.data = data;
      console.log(`[train-web-prior] reloaded after the prior's ${before.prior.checkpoints[0]} (events ${before.events.join(' ')}); the page said "${offer}"`);
      expect(offer).toContain(`at step ${EVERY} (of ${PRIOR_STEPS})`);
      expect(events).toEqual([`prior:running@${EVERY}`, `prior:done@${PRIOR_STEPS}`]);
      // the curve continues: the reports up to the checkpoint, then those after the reload
      expect(prior.losses.filter(([s]) => s <= EVERY)).toEqual(before.prior.losses.filter(([s]) => s <= EVERY));
      expect(prior.losses.some(([s]) => s > EVERY)).toBe(true);
      const tps = prior.tokensPerSecond.slice(1);
      console.log(
        `[train-web-prior] ${((Date.now() - t0) / 1000).toFixed(0)} s in all; events ${events.join(' ')}; data ${JSON.stringify(prior.data)}; ` +
          `prior loss ${first} → ${last} (${prior.losses.length} reports: ${JSON.stringify(prior.losses)}); ` +
          `${(tps.reduce((a, b) => a + b, 0) / Math.max(tps.length, 1)).toFixed(0)} tokens/s (mean after the first report); samples ${JSON.stringify(prior.samples)}`,
      );
      // the prior's start: about ln 256 = 5.55 nats/token (uniform over the codebook) or above; it
      // falls from there (in the learning rate's warm-up: by ~0.3 nats in 6 steps, measured)
      expect(first).toBeGreaterThan(4.5);
      expect(last).toBeLessThan(first - 0.1);
      expect(prior.losses.at(-1)![0]).toBe(PRIOR_STEPS);
      expect(prior.data!.classes.length).toBeGreaterThan(1);
      expect(prior.samples).toMatchObject({ n: 16, size: 32 });
      expect(prior.samples!.labels.every((l) => prior.data!.classes.includes(l))).toBe(true);
      expect(Number.isFinite(prior.samples!.min) && Number.isFinite(prior.samples!.max)).toBe(true);
      expect(prior.samples!.max).toBeGreaterThan(prior.samples!.min);
      zips = {
        tokenizer: Buffer.from(await page.evaluate((r) => (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain.runZipBase64(r), 'tokenizer' as const), 'base64'),
        prior: Buffer.from(await page.evaluate((r) => (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain.runZipBase64(r), 'prior' as const), 'base64'),
      };

      // The full page: the Train view finds the saved runs, "Open in the Sample view" loads them there.
      await page.goto(url);
      expect(await waitForStatus(page, 'ready', 180_000), errors.join('; ')).toBe('ready');
      await page.click('nav button[data-tab="train"]');
      await page.waitForFunction(() => !(document.getElementById('prior-use') as HTMLButtonElement).disabled, undefined, { timeout: 120_000, polling: 100 });
      await page.click('#prior-use');
      expect(await waitForStatus(page, 'done', 120_000), errors.join('; ')).toBe('done');
      const loaded = (await page.textContent('#message')) ?? '';
      console.log(`[train-web-prior] Open in the Sample view: "${loaded}"`);
      expect(loaded).toMatch(/tokenizer trained here\/tokenizer\/ckpt-\d+\.safetensors/);
      expect(loaded).toContain(`ar prior trained here/prior/ckpt-${String(PRIOR_STEPS).padStart(6, '0')}.safetensors`);
      expect(loaded).toContain('token cache trained here/prior/tokens.bin');
      expect(await page.evaluate(() => [(document.getElementById('model-set') as HTMLSelectElement).value, document.getElementById('tab-sample')!.hidden])).toEqual(['trained here', false]);
      await page.waitForFunction(() => !(document.getElementById('btn-sample') as HTMLButtonElement).disabled, undefined, { timeout: 30_000, polling: 100 });
      await page.evaluate(() => void (document.body.dataset.status = 'sampling'));
      await page.click('#btn-sample');
      expect(await waitForStatus(page, 'done', 240_000), errors.join('; ')).toBe('done');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }

    // The downloads, unpacked side by side.
    const steps = Number(events.at(-1)!.split('@')[1]);
    const names = readZip(zips.prior).map((f) => f.name).sort();
    expect(names).toEqual([`vqgpu-prior/ckpt-${String(steps).padStart(6, '0')}.safetensors`, 'vqgpu-prior/latest.json', 'vqgpu-prior/tokens.bin']);
    for (const f of [...readZip(zips.tokenizer), ...readZip(zips.prior)]) {
      mkdirSync(join(tmp, dirname(f.name)), { recursive: true });
      writeFileSync(join(tmp, f.name), f.bytes);
    }
    const tok = join(tmp, 'vqgpu-tokenizer'), pri = join(tmp, 'vqgpu-prior');

    // Node's loader: a class-conditional AR prior on the tokens of the downloaded tokenizer.
    await init();
    const loaded = await loadPriorRun(pri);
    expect(loaded.ckpt.step).toBe(steps);
    expect(loaded.config.prior).toBe('ar');
    expect(loaded.config.classes).toBe(prior.data!.classes.length);
    const tokCkpt = (await loadLatestCheckpoint(tok))!;
    expect(tokCkpt.step).toBe(TOKENIZER_STEPS);
    expect(loaded.config.tokenizerChecksum).toBe(checkpointChecksum(tokCkpt.path));
    const cache = decodeTokenCache(new Uint8Array(readFileSync(join(pri, 'tokens.bin'))));
    expect(cache.header.items.length).toBe(prior.data!.images);
    checkCacheMatchesPrior(cache, 'tokens.bin', loaded.config, pri);
    loaded.prior.dispose();

    // The CLI samples from the pair, and continues the prior.
    const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'dist/node/cli.mjs'), ...args], { cwd: root, encoding: 'utf8' });
    const png = join(tmp, 'samples.png');
    const s = cli(['sample', '--tokenizer', tok, '--prior', pri, '--n', '4', '--out', png]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).not.toContain('warning');
    expect(statSync(png).size).toBeGreaterThan(100);
    console.log(`[train-web-prior] vqgpu sample on the page's runs: ${s.stderr.trim().split('\n').pop()}`);
    const tr = cli(['train-prior', '--tokens', join(pri, 'tokens.bin'), '--out', pri, '--resume', '--steps', String(steps + 2), '--log-every', '1']);
    expect(tr.status, tr.stderr).toBe(0);
    expect(tr.stderr).toContain(`at step ${steps}`);
    expect(JSON.parse(readFileSync(join(pri, 'latest.json'), 'utf8')).step).toBe(steps + 2);
  }, 600_000);

  it('the prior picker: the D3PM diffusion prior (`prior-kind=diffusion-d3pm`) trains and samples in the tab, and downloads as a D3PM run', async () => {
    const browser = await launchChromium();
    try {
      const page = (await browser.context.newPage()) as Page;
      const errors: string[] = [];
      page.on('pageerror', (e: Error) => errors.push(e.message));
      await page.goto(`${url}?train=prior&steps=4&prior-steps=4&prior-kind=diffusion-d3pm`);
      expect(await waitForStatus(page, 'done', 400_000), errors.join('; ')).toBe('done');
      const h = await page.evaluate(() => {
        const t = (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain;
        return { events: t.events, samples: t.prior.samples, losses: t.prior.losses };
      });
      console.log(`[train-web-prior] diffusion-d3pm: events ${h.events.join(' ')}; losses ${JSON.stringify(h.losses)}; samples ${JSON.stringify(h.samples)}`);
      expect(h.events).toEqual(['running@0', 'done@4', 'prior:running@0', 'prior:done@4']);
      expect(h.samples).toMatchObject({ n: 16, size: 32 });
      expect(h.samples!.max).toBeGreaterThan(h.samples!.min);
      const zip = Buffer.from(await page.evaluate((r) => (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain.runZipBase64(r), 'prior' as const), 'base64');
      const dir = join(tmp, 'diffusion-d3pm');
      for (const f of readZip(zip)) {
        mkdirSync(join(dir, dirname(f.name)), { recursive: true });
        writeFileSync(join(dir, f.name), f.bytes);
      }
      await init();
      const loaded = await loadPriorRun(join(dir, 'vqgpu-prior'));
      expect([kindLabel(loaded.config), loaded.ckpt.step]).toEqual(['diffusion-d3pm', 4]);
      loaded.prior.dispose();
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 600_000);
});
