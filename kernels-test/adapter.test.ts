// Smoke test, runs in both projects: a WebGPU adapter exists, and it is the one we meant to get.
import { describe, expect, it } from 'vitest';
import { init } from '../src/device/runtime.js';
import { scaleInPlace } from '../src/optim/clip.js';
import { tensor } from '../src/tensor/tensor.js';

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
const inBrowser = typeof navigator !== 'undefined' && !!(navigator as Navigator).gpu;

describe('adapter', () => {
  it('init() finds a WebGPU adapter', async () => {
    const rt = await init();
    const r = rt.report;
    console.log(`[adapter] ${JSON.stringify({ ...r, features: r.features.join(',') })}`);
    expect(rt.device).toBeTruthy();
    expect(r.host).toBe(inBrowser ? 'browser' : 'node');
    expect(r.limits.maxComputeWorkgroupSizeX).toBeGreaterThanOrEqual(64);
  });

  it('is not SwiftShader (and is lavapipe in Node on CI / with the lvp ICD)', async () => {
    const { report: r } = await init();
    // SwiftShader is ~5x slower than the llvmpipe paths: getting it means a flag or driver is wrong.
    expect(r.description).not.toMatch(/swiftshader/i);
    if (inBrowser) {
      // In Chrome the only fallback adapter is SwiftShader. (Dawn in Node flags every CPU adapter,
      // lavapipe included, as isFallbackAdapter, so this check is for the browser only.)
      expect(r.isFallbackAdapter, 'Chrome gave the fallback (SwiftShader) adapter').toBe(false);
    } else if (env.CI || /lvp/.test(env.VK_ICD_FILENAMES ?? '')) {
      expect(r.description).toMatch(/llvmpipe|lavapipe/i);
    }
  });

  it('keeps transfers recorded between dispatches in order (copy and clear, then a kernel reads them)', async () => {
    const rt = await init();
    const a = tensor([1, 2, 3, 4, 5, 6]), b = tensor([0, 0, 0, 0, 0, 0]), two = tensor([2]);
    scaleInPlace(a, two); // a dispatch opens a pass
    rt.copy(a.buffer, 4, b.buffer, 0, 16); // b[0..4) = a[1..5) = 4, 6, 8, 10
    rt.clear(b.buffer, 4, 4); // b[1] = 0
    scaleInPlace(b, two); // the next dispatch must see both transfers
    expect(Array.from(await b.toArray())).toEqual([8, 0, 16, 20, 0, 0]);
    for (const t of [a, b, two]) t.dispose();
  });
});
