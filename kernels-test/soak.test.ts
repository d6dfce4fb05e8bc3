// Soak: a long training loop must not leak. A small AR prior (embedding, attention, MLP, dropout,
// fused cross-entropy, AdamW with clipping) trains for SOAK steps with a loss readback every 50 (as
// the CLI logs); after warm-up the buffer pool's live buffers, live bytes and created-buffer count
// stay exactly flat, and (Node) the host heap, measured after full collections, stays flat. A few
// hundred steps in CI; VQGPU_SOAK_STEPS=20000 for a longer run (2000 steps measured 12.6–13.1 MiB
// of heap throughout, with no trend), VQGPU_SOAK_VERBOSE=1 to print the heap at each check.

import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtime } from '../src/device/runtime.js';
import { makePriorConfig } from '../src/models/prior/config.js';
import { NoiseRng } from '../src/models/prior/noise.js';
import { Prior } from '../src/models/prior/prior.js';
import { manualSeed } from '../src/nn/init.js';
import { makeBatch, PriorTrainer } from '../src/train/prior-trainer.js';

const env = (globalThis as { process?: { env?: Record<string, string | undefined>; memoryUsage?: () => { heapUsed: number } } }).process;
// The browser's GLES compat adapter is several times slower: fewer steps there by default.
const STEPS = Number(env?.env?.VQGPU_SOAK_STEPS ?? (typeof window === 'undefined' ? 300 : 120));
const WARMUP = 30;
const LOG_EVERY = 50;

/**
 * Host heap in use after a full garbage collection (Node, where `gc` can be exposed at run time);
 * null in a browser, where it cannot be read reliably.
 */
let gc: (() => void) | null = null;
function heapUsed(): number | null {
  if (!gc || typeof env?.memoryUsage !== 'function') return null;
  gc();
  return env.memoryUsage().heapUsed;
}

beforeAll(async () => {
  await init();
  if (typeof env?.memoryUsage === 'function') {
    // Node only; the module names are variables so that the browser bundle never sees them.
    const [v8, vm] = ['node:v8', 'node:vm'];
    const v8m = (await import(/* @vite-ignore */ v8)) as typeof import('node:v8');
    const vmm = (await import(/* @vite-ignore */ vm)) as typeof import('node:vm');
    v8m.setFlagsFromString('--expose-gc');
    gc = vmm.runInNewContext('gc') as () => void;
  }
});

describe('soak', () => {
  it(`${STEPS} training steps keep GPU buffers and host memory flat`, async () => {
    const rt = runtime();
    manualSeed(1);
    const grid = 4, K = 16, B = 4, L = grid * grid;
    const config = makePriorConfig({ prior: 'ar', codebook: K, grid, classes: 0, tokenizerChecksum: 'soak', dim: 16, layers: 1, heads: 2, dropout: 0.1 });
    const prior = new Prior(config);
    const trainer = new PriorTrainer(prior, { lr: 1e-3, totalSteps: STEPS, warmup: 10 });
    const rng = new NoiseRng(7);
    // A fixed little data set: 32 grids with structure to learn (rows repeat a random code).
    const data = Int32Array.from({ length: 32 * L }, (_, i) => (Math.floor(i / grid) * 7) % K);
    const x = new Int32Array(B * L), labels = new Int32Array(B);

    let warm: ReturnType<typeof rt.pool.getStats> | null = null;
    let heapWarm: number | null = null;
    const losses: number[] = [];
    for (let step = 1; step <= STEPS; step++) {
      for (let b = 0; b < B; b++) {
        const i = rng.int(32);
        x.set(data.subarray(i * L, (i + 1) * L), b * L);
      }
      trainer.train(makeBatch(config, x, labels, rng));
      await rt.throttle(); // as the CLI's loops: at most one step in flight
      if (step % LOG_EVERY === 0 || step === WARMUP) {
        losses.push(await trainer.takeLoss()); // the CLI's log-time readback
        const s = rt.pool.getStats();
        if (step === WARMUP) {
          warm = s;
          heapWarm = heapUsed();
          continue;
        }
        if (!warm) continue;
        const at = `at step ${step}`;
        expect(s.liveBuffers, `live buffers ${at}`).toBe(warm.liveBuffers);
        expect(s.liveBytes, `live bytes ${at}`).toBe(warm.liveBytes);
        expect(s.created, `buffers created ${at}`).toBe(warm.created);
        if (env?.env?.VQGPU_SOAK_VERBOSE) console.log(`step ${step}: heap ${((heapUsed() ?? 0) / 2 ** 20).toFixed(2)} MiB`);
      }
    }
    const heapEnd = heapUsed();
    if (heapWarm !== null && heapEnd !== null) {
      // Measured after full collections: what remains is retained. 2 MiB covers caches reaching
      // their size (pipelines, staging buffers); a leak of a few bytes per dispatch does not fit.
      const growth = heapEnd - heapWarm;
      expect(growth, `host heap grew ${(growth / 2 ** 20).toFixed(2)} MiB over ${STEPS - WARMUP} steps`).toBeLessThan(2 * 2 ** 20);
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.at(-1)!).toBeLessThan(losses[0]); // it trains, too
    trainer.opt.dispose();
  });
});
