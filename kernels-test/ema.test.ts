// The weight average for sampling (src/nn/ema.ts): the recurrence against a host computation, with
// its warm-up of the decay; and a checkpoint that holds one is sampled with it ("ema." weights), the
// trained weights staying one option away.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { encodeCheckpoint } from '../src/io/checkpoint.js';
import { hasEMA, parseCheckpoint, priorFromCheckpoint, samplingPrefix } from '../src/io/run-loader.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { makePriorConfig } from '../src/models/prior/config.js';
import { Prior } from '../src/models/prior/prior.js';
import { WeightEMA } from '../src/nn/ema.js';

beforeAll(async () => {
  await vq.init();
});

const host = async (t: vq.Tensor) => Array.from((await t.toArray()) as Float32Array);

describe('WeightEMA', () => {
  it('follows ema ← ema + (1 − d_t)(w − ema), d_t = min(d, (1 + t)/(10 + t)), starting from the weights', async () => {
    const src = new vq.nn.Linear(3, 5), dst = new vq.nn.Linear(3, 5);
    const ema = new WeightEMA(src, dst, 0.5);
    let want = await Promise.all(src.parameters().map(host));
    expect(await Promise.all(dst.parameters().map(host))).toEqual(want);
    for (let t = 0; t < 12; t++) {
      // new source weights each "step"
      const fresh = src.parameters().map((p) => vq.tensor(Float32Array.from({ length: p.size }, (_, i) => Math.sin(7 * t + i)), p.shape));
      fresh.forEach((f, i) => { vq.copyInto(f, src.parameters()[i]); f.dispose(); });
      const d = Math.min(0.5, (1 + t) / (10 + t));
      expect(ema.currentDecay).toBeCloseTo(d, 12);
      const w = await Promise.all(src.parameters().map(host));
      want = want.map((e, i) => e.map((v, j) => v + (1 - d) * (w[i][j] - v)));
      ema.update();
    }
    const got = await Promise.all(dst.parameters().map(host));
    got.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 5)));
    expect(ema.updates).toBe(12);
    expect(() => new WeightEMA(src, new vq.nn.Linear(3, 4), 0.9)).toThrow(/same parameters/);
    expect(() => new WeightEMA(src, dst, 1)).toThrow(/decay/);
  });

  it('a checkpoint with an average is sampled with it; samplingPrefix "model" takes the trained weights', async () => {
    const config = makePriorConfig({ prior: 'ar', codebook: 16, grid: 2, classes: 0, tokenizerChecksum: 'test', dim: 16, layers: 1, heads: 2 });
    const prior = new Prior(config), shadow = new Prior(config);
    const ema = new WeightEMA(prior, shadow, 0.9);
    const p0 = prior.parameters()[0];
    const moved = vq.tensor(new Float32Array(p0.size).fill(0.25), p0.shape);
    vq.copyInto(moved, p0); // the trained weights move away from the average
    moved.dispose();
    const bytes = await encodeCheckpoint({ model: prior, ema: ema.shadow, step: 3, config: { prior: config } });
    const decoded = decodeSafetensors(bytes);
    expect(hasEMA(decoded)).toBe(true);
    expect(samplingPrefix(decoded)).toBe('ema.');
    expect(samplingPrefix(decoded, 'model')).toBe('model.');
    const loaded = priorFromCheckpoint(parseCheckpoint(bytes, 'test'));
    expect(await host(loaded.parameters()[0])).toEqual(await host(shadow.parameters()[0]));
    expect(await host(loaded.parameters()[0])).not.toEqual(await host(p0));
    const plain = decodeSafetensors(await encodeCheckpoint({ model: prior, step: 3, config: { prior: config } }));
    expect(hasEMA(plain)).toBe(false);
    expect(samplingPrefix(plain)).toBe('model.');
    for (const m of [prior, shadow, loaded]) m.dispose();
  });
});
