#!/usr/bin/env node
// docs/web-page.png (the README's picture of the page): the page in headless Chromium with the
// reference models loaded (models/emoji-32, copied in by the build), after it sampled one image
// per class from the AR prior with its default guidance (`?demo=ar&class=each`, seed 1), the class
// names over the cells. Builds the page first. Usage: node examples/web/screenshot.mjs [OUT.png]

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../../scripts/serve-web.mjs';
import { launchChromium, waitForStatus } from './headless.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = process.argv[2] ?? join(root, 'docs', 'web-page.png');
const b = spawnSync(process.execPath, [join(root, 'build.mjs'), 'page'], { cwd: root, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);

const { server, url } = await serveStatic(join(root, 'dist', 'web'), { port: 0 });
const browser = await launchChromium({ viewport: { width: 1100, height: 860 } });
try {
  const page = await browser.context.newPage();
  await page.goto(`${url}?demo=ar&set=emoji-32&class=each&seed=1`);
  const status = await waitForStatus(page, 'done');
  if (status !== 'done') throw new Error(`the page says '${status}'`);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`${out}: ${await page.textContent('#timing')}`);
} finally {
  await browser.close();
  server.close();
}
