#!/usr/bin/env node
// docs/web-page.png (the README's picture of the page): the page in headless Chromium with the
// reference models loaded (models/emoji-32, copied in by the build), after it sampled one image
// per class from the AR prior with its default guidance (`?demo=ar&class=each`, seed 1), the class
// names over the cells. Builds the page first. Usage: node examples/web/screenshot.mjs [OUT.png]
// `--train [SECONDS]`: docs/web-train.png instead, the Train view after SECONDS (default 120) of
// training a tokenizer on the emoji set in its worker, then SECONDS of its AR prior and its samples
// (`?train=prior`); prints the mean images/s and tokens/s of the reports after the first (the first
// includes compiling every kernel).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../../scripts/serve-web.mjs';
import { launchChromium, waitForStatus } from './headless.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const train = args[0] === '--train';
const seconds = train && /^\d+(\.\d+)?$/.test(args[1] ?? '') ? Number(args[1]) : 120;
const rest = train ? args.slice(/^\d/.test(args[1] ?? '') ? 2 : 1) : args;
const out = rest[0] ?? join(root, 'docs', train ? 'web-train.png' : 'web-page.png');
const b = spawnSync(process.execPath, [join(root, 'build.mjs'), 'page'], { cwd: root, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);

const { server, url } = await serveStatic(join(root, 'dist', 'web'), { port: 0 });
const browser = await launchChromium({ viewport: { width: 1100, height: 860 } });
try {
  const page = await browser.context.newPage();
  if (train) {
    await page.goto(`${url}?train=prior&seconds=${seconds}&prior-seconds=${seconds}`);
    const status = await waitForStatus(page, 'done', (2 * seconds + 900) * 1000);
    if (status !== 'done') throw new Error(`the page says '${status}'`);
    await page.screenshot({ path: out, fullPage: true });
    const h = await page.evaluate(() => {
      const t = window.vqgpuTrain;
      return { ips: t.imagesPerSecond, steps: t.losses.at(-1)?.[0], tps: t.prior.tokensPerSecond, priorSteps: t.prior.losses.at(-1)?.[0], adapter: t.adapter };
    });
    const mean = (v) => v.slice(1).reduce((a, b) => a + b, 0) / Math.max(v.length - 1, 1);
    console.log(`${out}: on ${h.adapter}: tokenizer ${h.steps} steps in ${seconds} s, ${mean(h.ips).toFixed(1)} images/s; ` +
      `AR prior ${h.priorSteps} steps in ${seconds} s, ${mean(h.tps).toFixed(0)} tokens/s (means of the reports after the first)`);
  } else {
    await page.goto(`${url}?demo=ar&set=emoji-32&class=each&seed=1`);
    const status = await waitForStatus(page, 'done');
    if (status !== 'done') throw new Error(`the page says '${status}'`);
    await page.screenshot({ path: out, fullPage: true });
    console.log(`${out}: ${await page.textContent('#timing')}`);
  }
} finally {
  await browser.close();
  server.close();
}
