// Headless Debian Chromium (/usr/bin/chromium, never a downloaded browser) with WebGPU on a machine
// without a GPU: ANGLE on EGL → Mesa llvmpipe OpenGL ES, exposed as a compatibility-mode adapter
// (see /work/shared/notes/chromium-webgpu.md; the vitest `chrome` project uses the same flags).
// Shared by the browser test (kernels-test/web.node.test.ts) and examples/web/screenshot.mjs.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.VQGPU_CHROMIUM ?? '/usr/bin/chromium';

const BASE_ARGS = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const WEBGPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-webgpu-developer-features', // names the adapter (adapter.info.description)
  // `--use-angle=gl` instead of `gl-egl` silently falls back to SwiftShader
  '--use-angle=gl-egl',
  '--use-webgpu-adapter=opengles',
  '--force-webgpu-compat',
];

/**
 * A headless Chromium context with a fresh profile; `webgpu: false` leaves WebGPU without an adapter
 * (the page's "no adapter" path). Returns the context and a close() that also removes the profile.
 */
export async function launchChromium({ webgpu = true, viewport = { width: 1180, height: 900 } } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'vqgpu-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : [])],
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Resolves with document.body.dataset.status once it is `want` (or an error, or `timeoutMs` passed). */
export async function waitForStatus(page, want = 'done', timeoutMs = 240_000) {
  await page.waitForFunction(
    (w) => {
      const s = document.body.dataset.status ?? '';
      return s === w || s.startsWith('error');
    },
    want,
    { timeout: timeoutMs, polling: 100 },
  );
  return page.evaluate(() => document.body.dataset.status);
}
