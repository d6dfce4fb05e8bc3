// Training in the web page (examples/web/train/), in headless Chromium (the GLES compatibility
// adapter, as in web.node.test.ts): `?train=1&seconds=S` trains the tokenizer on the bundled emoji
// set in the page's worker for S seconds, then
// - the loss falls (body[data-losses]: the first and the last logged loss);
// - no main-thread task longer than 100 ms happened while it trained (PerformanceObserver);
// - the run folder the "Download run" button gives (a ZIP) is a CLI run folder: Node loads it with
//   the CLI's loader and reconstructs the page's held-out images as the page did, and
//   `vqgpu eval-tokenizer` and `vqgpu train-tokenizer --resume` read it unchanged.
// Pause/Resume, a reload continuing bit-exactly from OPFS and a picked folder with a corrupt file:
// train-web-resume.node.test.ts.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/device/runtime.js';
import { reconstruct } from '../src/models/tokenizer/reconstruct.js';
import { emojiDataSet } from '../src/node/dataset.js';
import { ImageLoader } from '../src/node/image-loader.js';
import { loadTokenizerRun } from '../src/node/tokenizer-run.js';
import type { TrainHooks } from '../examples/web/train/train-tab.js';
import { readZip } from '../examples/web/train/zip.js';
// @ts-expect-error: plain .mjs helpers without type declarations
import { CHROMIUM, launchChromium, waitForStatus } from '../examples/web/headless.mjs';
// @ts-expect-error: plain .mjs helpers without type declarations
import { serveStatic } from '../scripts/serve-web.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
/** training seconds in the page (the automation's default is 60) */
const SECONDS = Number(process.env.VQGPU_TRAIN_WEB_SECONDS ?? 30);

type Hooks = Omit<TrainHooks, 'runZipBase64'>;

describe.skipIf(!existsSync(CHROMIUM) && !ci)('training in the web page (headless Chromium)', () => {
  let server: Server;
  let url: string;
  const tmp = mkdtempSync(join(tmpdir(), 'vqgpu-train-web-'));
  beforeAll(() => {
    // the page, and the CLI the downloaded run folder is handed to
    const b = spawnSync(process.execPath, [join(root, 'build.mjs'), 'page', 'node'], { cwd: root, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`node build.mjs page node failed:\n${b.stdout}${b.stderr}`);
    return serveStatic(join(root, 'dist/web'), { port: 0 }).then((s: { server: Server; url: string }) => {
      server = s.server;
      url = s.url;
    });
  });
  afterAll(async () => {
    rmSync(tmp, { recursive: true, force: true });
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it(`trains the tokenizer in a worker for ${SECONDS} s: the loss falls, no long main-thread task, the download is a CLI run folder`, async () => {
    const browser = await launchChromium();
    let hooks: Hooks, zip: Buffer, steps: number;
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e: Error) => errors.push(e.message));
      page.on('console', (m: { type(): string; text(): string }) => m.type() === 'error' && errors.push(m.text()));
      page.on('response', (r: { status(): number; url(): string }) => r.status() >= 400 && errors.push(`HTTP ${r.status()}: ${r.url()}`));
      const t0 = Date.now();
      await page.goto(`${url}?train=1&seconds=${SECONDS}`);
      const status = await waitForStatus(page, 'done', 240_000 + SECONDS * 1000);
      expect(status, `page status; page errors: ${errors.join('; ')}`).toBe('done');
      expect.soft(errors).toEqual([]);
      const [first, last] = ((await page.evaluate(() => document.body.dataset.losses)) ?? '').split(',').map(Number);
      hooks = (await page.evaluate(() => {
        const h = (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain;
        return { adapter: h.adapter, losses: h.losses, imagesPerSecond: h.imagesPerSecond, longTasks: h.longTasks, pairs: h.pairs, bad: h.bad, data: h.data, checkpoints: h.checkpoints };
      })) as Hooks;
      const ips = hooks.imagesPerSecond.slice(1); // the first report includes the kernels' compilation
      steps = hooks.pairs?.step ?? -1; // the last pairs and the last checkpoint are of the run's last step
      const maxLong = Math.max(0, ...hooks.longTasks.map(([, d]) => d));
      console.log(
        `[train-web] ${hooks.adapter}: ${steps} steps in ${SECONDS} s of training (${((Date.now() - t0) / 1000).toFixed(0)} s in all); ` +
          `rec loss ${first} → ${last} (${hooks.losses.length} reports: ${JSON.stringify(hooks.losses.slice(0, 3))} … ${JSON.stringify(hooks.losses.slice(-2))}); ` +
          `${(ips.reduce((a, b) => a + b, 0) / Math.max(ips.length, 1)).toFixed(1)} images/s (mean of ${ips.length} reports after the first); ` +
          `main-thread long tasks while training: ${hooks.longTasks.length}, longest ${maxLong.toFixed(0)} ms; checkpoints ${hooks.checkpoints.join(' ')}`,
      );
      expect(hooks.bad).toEqual([]);
      expect(first).toBeGreaterThan(0);
      expect(last).toBeLessThan(first * 0.7);
      expect.soft(maxLong).toBeLessThanOrEqual(100);

      // The button's download (a ZIP of the run folder).
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
      expect(dl.suggestedFilename()).toBe('vqgpu-tokenizer.zip');
      zip = readFileSync(await dl.path());
    } finally {
      await browser.close();
    }

    const files = readZip(zip);
    expect(files.map((f) => f.name).sort()).toEqual([`vqgpu-tokenizer/ckpt-${String(steps).padStart(6, '0')}.safetensors`, 'vqgpu-tokenizer/latest.json']);
    for (const f of files) {
      mkdirSync(join(tmp, dirname(f.name)), { recursive: true });
      writeFileSync(join(tmp, f.name), f.bytes);
    }
    const run = join(tmp, 'vqgpu-tokenizer');

    // Node loads it with the CLI's loader and reconstructs the page's held-out images as the page did.
    await init();
    const { state, ckpt } = await loadTokenizerRun(run);
    expect(ckpt.step).toBe(steps);
    expect((ckpt.config as { data: string }).data).toBe('emoji');
    const p = hooks.pairs!;
    expect(p.step).toBe(steps);
    // The page's emoji set is the CLI's: the same files, training split and held-out images. The
    // pixels differ only where the browser's decoder rounds differently (partly transparent edges:
    // the canvas keeps premultiplied 8-bit colour), measured here.
    const emoji = emojiDataSet();
    expect(hooks.data).toEqual({ name: 'emoji', images: emoji.items.length, train: emoji.items.filter((it) => !it.heldout).length });
    const nodeHeld = new ImageLoader(emoji, { size: state.config.size, batch: p.n, split: 'heldout' }).epoch().next().value!;
    let pixDiff = 0;
    for (let i = 0; i < nodeHeld.images.length; i++) pixDiff = Math.max(pixDiff, Math.abs(nodeHeld.images[i] - p.images[i]));
    console.log(`[train-web] the page's decoded held-out emoji vs Node's (pngjs): max |Δ| = ${pixDiff.toExponential(2)} (in [-1, 1] units; 2/255 = ${(2 / 255).toExponential(2)})`);
    expect.soft(pixDiff).toBeLessThan(0.05);
    const recon = await reconstruct(state.vqvae, Float32Array.from(p.images), p.n);
    let maxDiff = 0;
    for (let i = 0; i < recon.length; i++) maxDiff = Math.max(maxDiff, Math.abs(recon[i] - p.recon[i]));
    console.log(`[train-web] ${p.n} held-out images reconstructed in Node (Dawn) vs the page: max |Δ| = ${maxDiff.toExponential(2)}`);
    state.dispose();
    expect.soft(maxDiff).toBeLessThanOrEqual(1e-5);

    // The CLI reads the folder unchanged: evaluates it, and continues training from it.
    const cli = (args: string[]) => spawnSync(process.execPath, [join(root, 'dist/node/cli.mjs'), ...args], { cwd: root, encoding: 'utf8' });
    const ev = cli(['eval-tokenizer', '--run', run, '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    const m = JSON.parse(ev.stdout.trim().split('\n').pop()!) as { step: number; psnr: number };
    expect(m.step).toBe(steps);
    console.log(`[train-web] vqgpu eval-tokenizer on the page's run: ${ev.stdout.trim()}`);
    const tr = cli(['train-tokenizer', '--out', run, '--resume', '--steps', String(steps + 3), '--log-every', '1']);
    expect(tr.status, tr.stderr).toBe(0);
    expect(tr.stderr).toContain(`resumed from ${join(run, `ckpt-${String(steps).padStart(6, '0')}.safetensors`)} at step ${steps}`);
    expect(JSON.parse(readFileSync(join(run, 'latest.json'), 'utf8')).step).toBe(steps + 3);
  });
});
