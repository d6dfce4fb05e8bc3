// The Train view's interruptions, in headless Chromium (the GLES compatibility adapter, as in
// train-web.node.test.ts), on step budgets (`?train=…&steps=N`: the decay ends at step N, as the
// CLI's --steps, so two runs of N steps are the same computation):
// - Pause/Resume: a pause mid-training stops the worker at a step (a checkpoint is written), Resume
//   continues it to the end of the budget; the steps grow, the losses stay finite.
// - A reload mid-training: the page offers the run saved in OPFS and `?train=continue` continues it
//   from the last checkpoint; it ends at the same weights and optimizer state as an uninterrupted run
//   of as many steps (bit-exact: one adapter, deterministic kernels, a data order that is a function
//   of (seed, epoch, position) and restored with the loader's position; the restarts' seed is the step).
// - A lost GPU device mid-training (`lose-device=K`: the worker destroys its device after the
//   checkpoint of step K, as a crash of the GPU process would): the worker takes a new device, says
//   so, continues from that checkpoint and ends at the uninterrupted run's weights, bit for bit.
// - A picked folder (the <input webkitdirectory>, given a directory by Playwright) with a corrupt
//   image: the file is named in the page and skipped, and training proceeds on the others.

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { emojiSource } from '../src/node/dataset.js';
import type { TrainHooks } from '../examples/web/train/train-tab.js';
import { readZip } from '../examples/web/train/zip.js';
// @ts-expect-error: plain .mjs helpers without type declarations
import { CHROMIUM, launchChromium, waitForStatus } from '../examples/web/headless.mjs';
// @ts-expect-error: plain .mjs helpers without type declarations
import { serveStatic } from '../scripts/serve-web.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ci = !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
/** the step budget of the reload check, and the checkpoint interval (the reload comes after the first checkpoint) */
const STEPS = 8, EVERY = 4;

type Page = {
  goto(u: string): Promise<unknown>;
  click(sel: string): Promise<void>;
  evaluate<T>(f: () => T): Promise<T>;
  waitForFunction(f: (arg: never) => unknown, arg?: unknown, o?: { timeout?: number; polling?: number }): Promise<unknown>;
  setInputFiles(sel: string, files: string | string[]): Promise<void>;
  textContent(sel: string): Promise<string | null>;
  on(e: string, f: (x: never) => void): void;
  close(): Promise<void>;
};
type Hooks = Omit<TrainHooks, 'runZipBase64' | 'pairs'>;

const hooksOf = (page: Page) =>
  page.evaluate(() => {
    const h = (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain;
    return { adapter: h.adapter, losses: h.losses, imagesPerSecond: h.imagesPerSecond, longTasks: h.longTasks, bad: h.bad, data: h.data, checkpoints: h.checkpoints, events: h.events };
  }) as Promise<Hooks>;

/** The newest checkpoint of the page's run (what "Download run" gives), as safetensors tensors by name. */
async function runTensors(page: Page): Promise<{ step: number; tensors: Map<string, Uint8Array> }> {
  const b64 = await page.evaluate(() => (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain.runZipBase64());
  const files = readZip(Buffer.from(b64, 'base64'));
  const ckpt = files.find((f) => f.name.endsWith('.safetensors'))!;
  const st = decodeSafetensors(new Uint8Array(ckpt.bytes)); // (a copy: the zip entry's offset need not be 4-byte aligned)
  const tensors = new Map<string, Uint8Array>();
  for (const [name, t] of Object.entries(st.tensors)) tensors.set(name, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return { step: Number(st.metadata.step), tensors };
}

function errorsOf(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e: Error) => errors.push(e.message));
  page.on('console', (m: { type(): string; text(): string }) => m.type() === 'error' && errors.push(m.text()));
  return errors;
}

describe.skipIf(!existsSync(CHROMIUM) && !ci)('the Train view: pause/resume, reload, a corrupt file (headless Chromium)', () => {
  let server: Server;
  let url: string;
  let browser: { context: { newPage(): Promise<Page> }; close(): Promise<void> };
  const tmp = mkdtempSync(join(tmpdir(), 'vqgpu-train-web-resume-'));
  beforeAll(async () => {
    const b = spawnSync(process.execPath, [join(root, 'build.mjs'), 'page'], { cwd: root, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`node build.mjs page failed:\n${b.stdout}${b.stderr}`);
    const s = (await serveStatic(join(root, 'dist/web'), { port: 0 })) as { server: Server; url: string };
    server = s.server;
    url = s.url;
    // one profile (one OPFS) for the file's checks, which run in turn: each new run replaces the saved one
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  });

  it('Pause mid-training stops at a step with a checkpoint; Resume continues to the end of the budget', async () => {
    const page = await browser.context.newPage();
    const errors = errorsOf(page);
    try {
      await page.goto(`${url}?train=1&steps=12`);
      // the first progress report (the first steps compile every kernel)
      await page.waitForFunction(() => (window as unknown as { vqgpuTrain?: TrainHooks }).vqgpuTrain?.losses.length, undefined, { timeout: 180_000, polling: 100 });
      await page.click('#train-pause');
      await page.waitForFunction(() => document.getElementById('train-phase')?.textContent === 'paused', undefined, { timeout: 60_000, polling: 100 });
      const paused = await hooksOf(page);
      const at = Number(paused.events.find((e) => e.startsWith('paused@'))!.slice(7));
      console.log(`[train-web-resume] paused at step ${at}; events ${paused.events.join(' ')}; checkpoints ${paused.checkpoints.join(' ')}`);
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(12);
      expect(paused.checkpoints.at(-1)).toBe(`ckpt-${String(at).padStart(6, '0')}.safetensors`);
      expect(await page.evaluate(() => (document.getElementById('train-resume') as HTMLButtonElement).disabled)).toBe(false);
      // paused means paused: no step while it is
      await new Promise((r) => setTimeout(r, 1500));
      expect((await hooksOf(page)).events.at(-1)).toBe(`paused@${at}`);

      await page.click('#train-resume');
      expect(await waitForStatus(page, 'done', 180_000), errors.join('; ')).toBe('done');
      const end = await hooksOf(page);
      console.log(`[train-web-resume] after Resume: events ${end.events.join(' ')}; losses ${JSON.stringify(end.losses)}`);
      expect(end.events.slice(-3)).toEqual([`paused@${at}`, `running@${at}`, 'done@12']);
      const after = end.losses.filter(([s]) => s > at);
      expect(after.length).toBeGreaterThan(0);
      expect(end.losses.every(([, l]) => Number.isFinite(l) && l > 0)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  /** the uninterrupted STEPS-step run's checkpoint (made once, compared with by the reload and device-loss checks) */
  let whole: Awaited<ReturnType<typeof runTensors>> | null = null;
  async function uninterrupted(page: Page, errors: string[]) {
    if (whole) return whole;
    await page.goto(`${url}?train=1&steps=${STEPS}&checkpoint-every=${EVERY}`);
    expect(await waitForStatus(page, 'done', 240_000), errors.join('; ')).toBe('done');
    whole = await runTensors(page);
    expect(whole.step).toBe(STEPS);
    return whole;
  }
  /** the names of the tensors of `run` whose bytes differ from the uninterrupted run's */
  function differing(w: NonNullable<typeof whole>, run: Awaited<ReturnType<typeof runTensors>>): string[] {
    expect(run.step).toBe(STEPS);
    expect([...run.tensors.keys()].sort()).toEqual([...w.tensors.keys()].sort());
    return [...w.tensors].filter(([name, b]) => !Buffer.from(b).equals(Buffer.from(run.tensors.get(name)!))).map(([n]) => n);
  }

  it(`a reload after the checkpoint of step ${EVERY} continues from OPFS and ends at the weights of an uninterrupted ${STEPS}-step run, bit for bit`, async () => {
    const page = await browser.context.newPage();
    const errors = errorsOf(page);
    try {
      const whole = await uninterrupted(page, errors);

      // The interrupted one: a fresh run (Start replaces the saved one), reloaded once its first checkpoint is written.
      await page.goto(`${url}?train=1&steps=${STEPS}&checkpoint-every=${EVERY}`);
      await page.waitForFunction(() => (window as unknown as { vqgpuTrain?: TrainHooks }).vqgpuTrain?.checkpoints.length, undefined, { timeout: 240_000, polling: 50 });
      const before = await hooksOf(page);
      await page.goto(`${url}?train=continue`);
      // the page offers the saved run before it continues
      await page.waitForFunction(() => /is saved in this browser at step/.test(document.getElementById('train-saved')?.textContent ?? ''), undefined, { timeout: 120_000, polling: 50 });
      const offer = (await page.textContent('#train-saved')) ?? '';
      expect(await waitForStatus(page, 'done', 240_000), errors.join('; ')).toBe('done');
      const resumed = await hooksOf(page);
      console.log(`[train-web-resume] reloaded after ${before.checkpoints.join(' ')} (events ${before.events.join(' ')}); the page said: "${offer}"; then ${resumed.events.join(' ')}`);
      const from = Number(resumed.events[0].slice(8));
      expect(resumed.events[0]).toMatch(/^running@\d+$/);
      expect(from % EVERY).toBe(0);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThan(STEPS);
      expect(offer).toContain(`at step ${from}`);
      expect(resumed.events.at(-1)).toBe(`done@${STEPS}`);
      // the loss curve continues: the saved history (the reports up to the checkpoint) first, then those after the reload
      expect(resumed.losses.filter(([s]) => s <= from)).toEqual(before.losses.filter(([s]) => s <= from));
      expect(resumed.losses.at(-1)![0]).toBe(STEPS);

      const differ = differing(whole, await runTensors(page));
      console.log(`[train-web-resume] ${whole.tensors.size} tensors (model and optimizer state) compared: ${differ.length} differ${differ.length ? `: ${differ.slice(0, 5).join(', ')}` : ''}`);
      expect(differ).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it(`a lost GPU device after the checkpoint of step ${EVERY}: a new device, the run continues from that checkpoint and ends at the uninterrupted run's weights`, async () => {
    const page = await browser.context.newPage();
    const errors = errorsOf(page);
    try {
      const whole = await uninterrupted(page, errors);
      await page.goto(`${url}?train=1&steps=${STEPS}&checkpoint-every=${EVERY}&lose-device=${EVERY}`);
      expect(await waitForStatus(page, 'done', 240_000), errors.join('; ')).toBe('done');
      const h = await hooksOf(page);
      console.log(`[train-web-resume] device lost after step ${EVERY}: events ${h.events.join(' ')}; checkpoints ${h.checkpoints.join(' ')}`);
      expect(h.events).toEqual(['running@0', 'device-lost', `running@${EVERY}`, `done@${STEPS}`]);
      const differ = differing(whole, await runTensors(page));
      console.log(`[train-web-resume] after the device loss, ${whole.tensors.size} tensors compared: ${differ.length} differ${differ.length ? `: ${differ.slice(0, 5).join(', ')}` : ''}`);
      expect(differ).toEqual([]);
      // (console errors about the destroyed device itself are expected; no other)
      expect(errors.filter((e) => !/destroyed|lost/i.test(e))).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('a picked folder with a corrupt image: the file is named in the page and skipped, training proceeds', async () => {
    // A folder like the CLI's: two class subfolders of emoji PNGs, and one file that is not an image.
    const dir = join(tmp, 'pics');
    const { root: emojiRoot } = emojiSource();
    const pngs = readdirSync(emojiRoot).filter((f) => f.endsWith('.png')).slice(0, 24);
    for (const [i, f] of pngs.entries()) {
      const sub = join(dir, i % 2 ? 'odd' : 'even');
      mkdirSync(sub, { recursive: true });
      copyFileSync(join(emojiRoot, f), join(sub, f));
    }
    writeFileSync(join(dir, 'even', 'broken.png'), Buffer.from('this is not a PNG file at all'));
    const page = await browser.context.newPage();
    const errors = errorsOf(page);
    try {
      await page.goto(`${url}?train=manual&steps=6`);
      await waitForStatus(page, 'ready', 60_000);
      await page.waitForFunction(() => !(document.getElementById('train-start') as HTMLButtonElement).disabled, undefined, { timeout: 120_000, polling: 100 });
      await page.setInputFiles('#train-folder', dir);
      await page.waitForFunction(() => /Picked 'pics'/.test(document.getElementById('train-info')?.textContent ?? ''), undefined, { timeout: 30_000, polling: 50 }).catch(async (e: Error) => {
        throw new Error(`${e.message}; the page says: ${await page.textContent('#train-info')}; ${errors.join('; ')}`);
      });
      expect(await page.textContent('#train-info')).toContain(`${pngs.length + 1} image files`);
      await page.click('#train-start');
      await page.waitForFunction(() => (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain.data, undefined, { timeout: 120_000, polling: 50 });
      const info = (await page.textContent('#train-info')) ?? '';
      await page.waitForFunction(() => (window as unknown as { vqgpuTrain: TrainHooks }).vqgpuTrain.events.some((e) => e.startsWith('done') || e === 'error'), undefined, { timeout: 240_000, polling: 100 });
      const h = await hooksOf(page);
      console.log(`[train-web-resume] picked folder: "${info}"; bad ${JSON.stringify(h.bad)}; events ${h.events.join(' ')}`);
      expect(h.bad.map(([k]) => k)).toEqual(['even/broken.png']);
      expect(info).toContain('even/broken.png');
      expect(h.data).toMatchObject({ name: 'pics', images: pngs.length + 1 });
      expect(h.events.at(-1)).toBe('done@6');
      expect(h.losses.length).toBeGreaterThan(0);
      expect(h.losses.every(([, l]) => Number.isFinite(l))).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
