// The VQ-VAE tokenizer (src/models/tokenizer/*, src/train/tokenizer-trainer.ts): shapes through the
// encoder, quantizer and decoder for several (size, grid) pairs, config validation, and a tiny
// model that must overfit four synthetic images (plus a few steps with the discriminator, the
// perceptual loss and VQGAN's adaptive weight on).

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { drawSynthetic } from '../src/data/synthetic.js';
import { defaultTokenizerConfig, type TokenizerConfig } from '../src/models/tokenizer/config.js';
import { Discriminator } from '../src/models/tokenizer/discriminator.js';
import { VQVAE } from '../src/models/tokenizer/vqvae.js';
import { manualSeed } from '../src/nn/init.js';
import { DEFAULT_LOSS, TokenizerTrainer, type LossConfig } from '../src/train/tokenizer-trainer.js';

beforeAll(async () => {
  await vq.init();
});

/** A small config: width 8, code dimension 4, group norms of 4 groups. */
function small(size: number, grid: number, codebook = 16, extra: Partial<TokenizerConfig> = {}): TokenizerConfig {
  return defaultTokenizerConfig({ size, grid, codebook, width: 8, codeDim: 4, groups: 4, ...extra });
}

/** N synthetic images [N, 3, S, S] in [-1, 1] (discs and bars on white). */
function synthetic(n: number, size: number, from = 0): Float32Array {
  const per = 3 * size * size;
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) out.set(drawSynthetic(from + i, size).data, i * per);
  return out;
}

describe('VQVAE shapes', () => {
  const variants: [number, number, boolean, Partial<TokenizerConfig>, string][] = [
    [16, 4, false, {}, ''],
    [32, 8, false, {}, ''],
    [16, 2, false, {}, ''],
    [16, 4, true, {}, ', l2-normalised codes'],
    [32, 4, false, { patch: 2 }, ', 2×2 patches'],
    [16, 4, false, { midBlocks: 2, midMult: 3, attention: true }, ', two wider middle blocks and attention'],
    [32, 8, false, { patch: 2, encoderWidth: 4, encoderResBlocks: 0 }, ', a narrower encoder without residual blocks'],
  ];
  for (const [size, grid, l2norm, extra, what] of variants) {
    it(`size ${size}, grid ${grid}${what}: [N,3,S,S] → z_e [N,D,G,G] → recon [N,3,S,S]; tokens [N,G,G] i32`, async () => {
      manualSeed(1);
      const base = small(size, grid, 16, extra);
      const cfg = { ...base, quantizer: { ...base.quantizer, l2norm } };
      const model = new VQVAE(cfg);
      const N = 2, D = cfg.codeDim;
      expect(cfg.mult.length).toBe(Math.log2(size / grid / (cfg.patch ?? 1)));
      const r = vq.tidy(() => {
        const x = vq.tensor(synthetic(N, size), [N, 3, size, size]);
        const ze = model.encoder.forward(x);
        const out = model.forward(x);
        const tokens = model.encode(x);
        const dec = model.decode(tokens);
        return {
          ze: ze.shape, zq: out.zq.shape, idx: out.indices.shape, recon: out.recon.shape, loss: out.loss.shape,
          tokShape: tokens.shape, tokType: tokens.dtype, decShape: dec.shape,
          tokens: tokens.keepAlive(), fwdIdx: out.indices.keepAlive(), recon2: out.recon.keepAlive(), dec2: dec.keepAlive(),
        };
      });
      expect(r.ze).toEqual([N, D, grid, grid]);
      expect(r.zq).toEqual([N, D, grid, grid]);
      expect(r.idx).toEqual([N, grid, grid]);
      expect(r.recon).toEqual([N, 3, size, size]);
      expect(r.loss).toEqual([]);
      expect(r.tokShape).toEqual([N, grid, grid]);
      expect(r.tokType).toBe('i32');
      expect(r.decShape).toEqual([N, 3, size, size]);
      const [tok, fwd, recon, dec] = await Promise.all([r.tokens, r.fwdIdx, r.recon2, r.dec2].map((t) => t.toArray()));
      const K = cfg.codebook;
      for (const t of tok) expect(t >= 0 && t < K).toBe(true);
      // encode() and the training forward choose the same codes; decode(encode(x)) is the forward's reconstruction.
      expect(Array.from(tok)).toEqual(Array.from(fwd));
      let worst = 0;
      for (let i = 0; i < recon.length; i++) worst = Math.max(worst, Math.abs(recon[i] - dec[i]));
      expect(worst).toBeLessThan(1e-4);
      for (const t of [r.tokens, r.fwdIdx, r.recon2, r.dec2]) t.dispose();
      model.dispose();
    });
  }

  it('a config from before patch, midBlocks, midMult and attention builds the same parameters', () => {
    const cfg = small(32, 8);
    const old = { ...cfg } as Partial<TokenizerConfig>;
    for (const k of ['patch', 'midBlocks', 'midMult', 'attention'] as const) delete old[k];
    const [a, b] = [new VQVAE(cfg), new VQVAE(old as TokenizerConfig)];
    const names = (m: VQVAE) => m.namedParameters().map(([n, t]) => `${n} ${t.shape}`);
    expect(names(b)).toEqual(names(a));
    a.dispose();
    b.dispose();
  });

  it('encoderWidth and encoderResBlocks shape the encoder alone', () => {
    const cfg = small(32, 8, 16, { patch: 2 });
    const [a, b] = [new VQVAE(cfg), new VQVAE({ ...cfg, encoderWidth: 2 * cfg.width, encoderResBlocks: cfg.resBlocks + 1 })];
    const shapes = (m: { namedParameters(): [string, { shape: readonly number[] }][] }) => Object.fromEntries(m.namedParameters().map(([n, t]) => [n, `${t.shape}`]));
    expect(shapes(b.decoder)).toEqual(shapes(a.decoder));
    expect(shapes(b.encoder)['stem.weight']).toBe(`${2 * cfg.width},12,3,3`);
    expect(Object.keys(shapes(b.encoder)).filter((n) => n.startsWith('level0_block')).length)
      .toBe(Object.keys(shapes(a.encoder)).filter((n) => n.startsWith('level0_block')).length * (cfg.resBlocks + 1) / cfg.resBlocks);
    a.dispose();
    b.dispose();
  });

  it('rejects configs with clear errors', () => {
    expect(() => defaultTokenizerConfig({ size: 32, grid: 8, codebook: 16, width: 12 })).toThrow(/--width 12: a level of 12 channels does not split into 8 group-norm groups/);
    expect(() => defaultTokenizerConfig({ size: 32, grid: 8, codebook: 16, encoderWidth: 20 })).toThrow(/--enc-width 20: a level of 20 channels/);
    expect(() => defaultTokenizerConfig({ size: 32, grid: 8, codebook: 16, width: 4, encoderWidth: 4 })).not.toThrow(); // min(8, 4) groups
    expect(() => defaultTokenizerConfig({ size: 24, grid: 8, codebook: 16 })).toThrow(/power of two/);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 5, codebook: 16 })).toThrow(/power of two/);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 16, codebook: 16 })).toThrow(/power of two/);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 32, codebook: 16 })).toThrow(/power of two/);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 4, codebook: 1 })).toThrow(/codebook/);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 4, codebook: 65537 })).toThrow(/codebook/);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 4, codebook: 2.5 })).toThrow(/codebook/);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 4, codebook: 16, mult: [1] })).toThrow(/--mult has 1 entries; --size 16 → --grid 4 halves the side 2 times/);
    expect(defaultTokenizerConfig({ size: 16, grid: 4, codebook: 65536 }).codebook).toBe(65536);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 4, codebook: 16, patch: 4 })).toThrow(/--patch 4 must be a power of two below --size 16 \/ --grid 4 = 4/);
    expect(() => defaultTokenizerConfig({ size: 32, grid: 4, codebook: 16, patch: 3 })).toThrow(/--patch 3/);
    expect(() => defaultTokenizerConfig({ size: 16, grid: 4, codebook: 16, midBlocks: 0 })).toThrow(/--mid-blocks must be an integer ≥ 1/);
    expect(() => defaultTokenizerConfig({ size: 32, grid: 4, codebook: 16, patch: 2, mult: [1, 2, 2] })).toThrow(/halves the side 2 times after the 2×2 patches/);
    // A quantizer given the wrong code dimension says so.
    const model = new VQVAE(small(16, 4));
    expect(() => vq.tidy(() => model.quantizer.forward(vq.zeros([1, 3, 4, 4])))).toThrow(/channels/);
    model.dispose();
  });
});

const yieldToEventLoop = () => new Promise<void>((r) => setTimeout(r, 0));

async function reconL1(model: VQVAE, images: Float32Array, n: number, size: number): Promise<number> {
  const t = vq.noGrad(() =>
    vq.tidy(() => {
      model.eval();
      const x = vq.tensor(images, [n, 3, size, size]);
      return vq.mean(vq.abs(vq.sub(x, model.forward(x).recon))).keepAlive();
    }),
  );
  model.train();
  const v = await t.item();
  t.dispose();
  return v;
}

describe('TokenizerTrainer', () => {
  it('decaySteps: the generator learning rate follows a cosine from lr to lr/10; 0 keeps it constant', () => {
    const model = new VQVAE(small(16, 4, 8, { codeDim: 8, groups: 4 }));
    const decayed = new TokenizerTrainer(model, null, { ...DEFAULT_LOSS, perceptual: 0, adversarial: 0, lr: 1e-3, decaySteps: 100 });
    const at = (step: number) => { decayed.optG.stepCount = step; return decayed.optG.currentLr; };
    expect(at(0)).toBeCloseTo(1e-3, 12);
    expect(at(50)).toBeCloseTo(1e-4 + 0.9e-3 / 2, 12);
    expect(at(100)).toBeCloseTo(1e-4, 12);
    expect(at(1000)).toBeCloseTo(1e-4, 12);
    const constant = new TokenizerTrainer(model, null, { ...DEFAULT_LOSS, perceptual: 0, adversarial: 0, lr: 1e-3 });
    constant.optG.stepCount = 500;
    expect(constant.optG.currentLr).toBe(1e-3);
    decayed.optG.dispose();
    constant.optG.dispose();
    model.dispose();
  });

  it("decaySteps 'auto': constant until the loop's estimate of the run's end arrives, then the decay to that step (re-targeted as it moves)", () => {
    const model = new VQVAE(small(16, 4, 8, { codeDim: 8, groups: 4 }));
    const t = new TokenizerTrainer(model, null, { ...DEFAULT_LOSS, perceptual: 0, adversarial: 0, lr: 1e-3, decaySteps: 'auto' });
    const at = (step: number) => { t.optG.stepCount = step; return t.optG.currentLr; };
    expect(at(5000)).toBe(1e-3);
    t.setDecaySteps(200);
    expect(at(100)).toBeCloseTo(1e-4 + 0.9e-3 / 2, 12);
    expect(at(200)).toBeCloseTo(1e-4, 12);
    t.setDecaySteps(400); // a faster machine than first measured: the decay stretches
    expect(at(200)).toBeCloseTo(1e-4 + 0.9e-3 / 2, 12);
    const fixed = new TokenizerTrainer(model, null, { ...DEFAULT_LOSS, perceptual: 0, adversarial: 0, lr: 1e-3, decaySteps: 100 });
    expect(() => fixed.setDecaySteps(50)).toThrow(/not 'auto'/);
    t.optG.dispose();
    fixed.optG.dispose();
    model.dispose();
  });

  it('decayShape linear with lrFinal: a straight line from lr to lr·lrFinal', () => {
    const model = new VQVAE(small(16, 4, 8, { codeDim: 8, groups: 4 }));
    const t = new TokenizerTrainer(model, null, { ...DEFAULT_LOSS, perceptual: 0, adversarial: 0, lr: 1e-3, decaySteps: 100, decayShape: 'linear', lrFinal: 0 });
    const at = (step: number) => { t.optG.stepCount = step; return t.optG.currentLr; };
    expect(at(0)).toBeCloseTo(1e-3, 12);
    expect(at(25)).toBeCloseTo(0.75e-3, 12);
    expect(at(100)).toBe(0);
    t.optG.dispose();
    model.dispose();
  });

  it('a tiny model overfits four synthetic images (EMA codebook, no discriminator)', async () => {
    manualSeed(3);
    const size = 16, n = 4;
    const cfg = small(size, 4, 16, { codeDim: 8, groups: 4 });
    const model = new VQVAE(cfg);
    const loss: LossConfig = { ...DEFAULT_LOSS, perceptual: 0, adversarial: 0, lr: 3e-3, clip: 1 };
    const trainer = new TokenizerTrainer(model, null, loss);
    expect(trainer.optD).toBeNull();
    const images = synthetic(n, size);
    const x = vq.tensor(images, [n, 3, size, size]);
    const before = await reconL1(model, images, n, size);
    const steps = 60;
    for (let s = 0; s < steps; s++) {
      trainer.train(x, s > 0 && s % 25 === 0);
      // Let Dawn process finished submits (without a turn of the event loop, Dawn/lavapipe
      // segfaults after ~150 queued steps; see the report on train-tokenizer).
      if (s % 10 === 9) await yieldToEventLoop();
    }
    const l = await trainer.takeLosses();
    const after = await reconL1(model, images, n, size);
    x.dispose();
    expect(trainer.step).toBe(steps);
    for (const [k, v] of Object.entries(l)) expect(Number.isFinite(v), `loss part ${k}`).toBe(true);
    expect(l.perc).toBe(0);
    expect(l.adv).toBe(0);
    expect(l.lambda).toBe(0);
    expect(before).toBeGreaterThan(0.3);
    expect(after, `L1 ${before} → ${after}`).toBeLessThan(0.4 * before);
    // After takeLosses the accumulator starts again.
    const l2 = await trainer.takeLosses();
    expect(l2.rec).toBe(0);
    model.dispose();
  });

  it('with the discriminator: perceptual loss, hinge loss and a finite positive adaptive weight after the warm-up', async () => {
    manualSeed(4);
    const size = 16, n = 2;
    const cfg = small(size, 4, 16, { disc: { width: 8, layers: 2 } });
    const model = new VQVAE(cfg);
    const disc = new Discriminator(cfg.disc, cfg.groups);
    const loss: LossConfig = { ...DEFAULT_LOSS, perceptual: 0.1, adversarial: 0.1, advWarmup: 2, lr: 1e-3, discLr: 1e-3 };
    const trainer = new TokenizerTrainer(model, disc, loss);
    const x = vq.tensor(synthetic(n, size, 5), [n, 3, size, size]);
    const dParam = disc.parameters()[0];
    const d0 = await dParam.toArray();
    trainer.train(x, false);
    trainer.train(x, false);
    const warm = await trainer.takeLosses();
    // Warm-up: the perceptual loss is on and so is the discriminator's training (its features
    // define that loss); the adversarial term and λ are not.
    expect(warm.perc).toBeGreaterThan(0);
    expect(warm.adv).toBe(0);
    expect(warm.lambda).toBe(0);
    expect(warm.disc).toBeGreaterThan(0);
    expect(Array.from(await dParam.toArray())).not.toEqual(Array.from(d0));
    for (let s = 0; s < 3; s++) trainer.train(x, false);
    const on = await trainer.takeLosses();
    for (const [k, v] of Object.entries(on)) expect(Number.isFinite(v), `loss part ${k} = ${v}`).toBe(true);
    expect(on.lambda).toBeGreaterThan(0);
    expect(on.disc).toBeGreaterThan(0);
    expect(on.perc).toBeGreaterThan(0);
    // The discriminator's parameters stay trainable and no gradient is left behind.
    for (const p of disc.parameters()) {
      expect(p.requiresGrad).toBe(true);
    }
    x.dispose();
    model.dispose();
    disc.dispose();
  });
});
