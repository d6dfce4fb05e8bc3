// Two test projects over the same kernel tests:
//   node   — Dawn through the `webgpu` package (lavapipe on machines without a GPU);
//   chrome — vitest browser mode in Debian's /usr/bin/chromium (ANGLE → llvmpipe GLES compat adapter).
// See /work/shared/notes/chromium-webgpu.md for why these flags.
import { existsSync } from 'node:fs';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';

const LVP_ICD = '/usr/share/vulkan/icd.d/lvp_icd.json';
// Set in the main process so that the forked test workers (where Dawn loads Vulkan) inherit it.
if (!process.env.VK_ICD_FILENAMES && existsSync(LVP_ICD)) process.env.VK_ICD_FILENAMES = LVP_ICD;

/** `import src from '../shaders/x.wgsl'` yields the file's text (esbuild does the same with loader 'text'). */
function wgslText(): Plugin {
  return {
    name: 'vqgpu-wgsl-text',
    transform(code, id) {
      if (id.split('?')[0].endsWith('.wgsl')) return { code: `export default ${JSON.stringify(code)};`, map: null };
      return null;
    },
  };
}

const CHROMIUM = process.env.VQGPU_CHROMIUM ?? '/usr/bin/chromium';
const CHROME_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-webgpu-developer-features',
  // ANGLE on EGL → Mesa llvmpipe OpenGL ES, exposed as a WebGPU compatibility-mode adapter.
  // (`--use-angle=gl` instead of `gl-egl` silently falls back to SwiftShader.)
  '--use-angle=gl-egl',
  '--use-webgpu-adapter=opengles',
  '--force-webgpu-compat',
];

const shared = {
  testTimeout: 120_000,
  hookTimeout: 120_000,
  // One GPU (or one CPU rasteriser on 2 cores): test files run one after another.
  fileParallelism: false,
  maxWorkers: 1,
};

export default defineConfig({
  plugins: [wgslText()],
  test: {
    projects: [
      {
        plugins: [wgslText()],
        test: {
          ...shared,
          name: 'node',
          environment: 'node',
          include: ['kernels-test/**/*.test.ts'],
          env: process.env.VK_ICD_FILENAMES ? { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES } : {},
        },
      },
      {
        plugins: [wgslText()],
        test: {
          ...shared,
          // The GLES compat path is several times slower than Dawn/lavapipe (conv2d, attention files: minutes).
          testTimeout: 300_000,
          name: 'chrome',
          include: ['kernels-test/**/*.test.ts'],
          // files that need Node APIs (fs, child_process, ...) run in the node project only
          exclude: ['kernels-test/**/*.node.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            instances: [{ browser: 'chromium' }],
            provider: playwright({ launchOptions: { executablePath: CHROMIUM, args: CHROME_ARGS } }),
          },
        },
      },
    ],
  },
});
