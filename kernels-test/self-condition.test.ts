// Self-conditioning of the D3PM prior (config.selfCondition): the network also reads an estimate of
// x_0 (the argmax of its own previous prediction). The config and its refusals, the estimate's
// input (none = no estimate), the training batch's two passes, and the sampler-side logits function
// that carries the estimate from one call to the next (src/sample/draw-from-prior.ts).

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { checkPriorConfig, makePriorConfig, timeToken } from '../src/models/prior/config.js';
import { NoiseRng } from '../src/models/prior/noise.js';
import { Prior } from '../src/models/prior/prior.js';
import { manualSeed } from '../src/nn/init.js';
import { argmax } from '../src/ops/reduce.js';
import { priorTimedLogits } from '../src/sample/draw-from-prior.js';
import { batchLoss, makeBatch, PriorTrainer, SELF_CONDITION_RATE } from '../src/train/prior-trainer.js';

beforeAll(async () => {
  await vq.init();
});

const K = 8, G = 3, L = G * G, T = 6;
const base = { prior: 'diffusion' as const, codebook: K, grid: G, classes: 0, tokenizerChecksum: 'test', dim: 16, layers: 1, heads: 2, noise: 'd3pm' as const, timesteps: T };

function makePrior(selfCondition = true): Prior {
  manualSeed(3);
  return new Prior(makePriorConfig({ ...base, selfCondition }));
}

const dispose = (p: Prior) => p.parameters().forEach((t) => t.dispose());

async function read(t: vq.Tensor): Promise<Float32Array> {
  const v = (await t.toArray()) as Float32Array;
  t.dispose();
  return v;
}

/** [B, L+2] inputs: start token, level t, then codes. */
function inputsOf(prior: Prior, x: Int32Array, t: number): vq.Tensor {
  const B = x.length / L, v = new Int32Array(B * (L + 2));
  for (let b = 0; b < B; b++) {
    v[b * (L + 2)] = K; // start (no class)
    v[b * (L + 2) + 1] = timeToken(prior.config, t);
    v.set(x.subarray(b * L, (b + 1) * L), b * (L + 2) + 2);
  }
  return vq.tensor(v, [B, L + 2]);
}

const randomCodes = (n: number, seed: number) => {
  const r = new NoiseRng(seed);
  return Int32Array.from({ length: n }, () => r.int(K));
};

describe('self-conditioned d3pm prior', () => {
  it('the config round-trips and is refused on other priors', () => {
    const c = makePriorConfig({ ...base, selfCondition: true });
    expect(checkPriorConfig(JSON.parse(JSON.stringify(c)), 'ckpt')).toEqual(c);
    expect(makePriorConfig(base).selfCondition).toBeUndefined();
    expect(() => makePriorConfig({ ...base, noise: 'seed', selfCondition: true })).toThrow(/d3pm diffusion prior only/);
    expect(() => makePriorConfig({ ...base, prior: 'mask', noise: undefined, selfCondition: true })).toThrow(/d3pm diffusion prior only/);
    expect(() => checkPriorConfig({ ...makePriorConfig({ ...base, noise: 'seed' }), selfCondition: true }, 'ckpt')).toThrow(/not d3pm/);
  });

  it('no estimate is the all-"none" estimate; a real estimate changes the logits; plain priors have no estimate table', async () => {
    const prior = makePrior();
    expect(prior.namedParameters().map(([n]) => n)).toContain('estimate.weight');
    expect(makePrior(false).namedParameters().map(([n]) => n)).not.toContain('estimate.weight');
    const B = 2, x = randomCodes(B * L, 1);
    const none = vq.tensor(new Int32Array(B * L).fill(K), [B, L]), est = vq.tensor(randomCodes(B * L, 2), [B, L]);
    const plain = await read(vq.noGrad(() => prior.contentLogits(inputsOf(prior, x, 2))));
    const withNone = await read(vq.noGrad(() => prior.contentLogits(inputsOf(prior, x, 2), none)));
    const withEst = await read(vq.noGrad(() => prior.contentLogits(inputsOf(prior, x, 2), est)));
    expect(plain.length).toBe(B * L * K);
    for (let i = 0; i < plain.length; i++) expect(withNone[i]).toBeCloseTo(plain[i], 5);
    expect(Math.max(...withEst.map((v, i) => Math.abs(v - plain[i])))).toBeGreaterThan(1e-3);
    dispose(prior);
  });

  it("half the batches learn with an estimate: the argmax of a first pass on the same inputs", async () => {
    const prior = makePrior();
    prior.eval();
    const rng = new NoiseRng(5), B = 4, labels = new Int32Array(B).fill(-1);
    let withEstimate = 0;
    for (let i = 0; i < 400; i++) if (makeBatch(prior.config, randomCodes(B * L, i), labels, rng).selfCondition) withEstimate++;
    expect(withEstimate / 400).toBeGreaterThan(SELF_CONDITION_RATE - 0.08);
    expect(withEstimate / 400).toBeLessThan(SELF_CONDITION_RATE + 0.08);
    expect(makeBatch(makePriorConfig(base), randomCodes(B * L, 9), labels, new NoiseRng(1)).selfCondition).toBeUndefined();
    // the loss of a self-conditioned batch = cross-entropy of the logits given argmax(first pass)
    const b = { ...makeBatch(prior.config, randomCodes(B * L, 7), labels, rng), selfCondition: true };
    const got = await (vq.noGrad(() => batchLoss(prior, b))).item();
    const ref = vq.noGrad(() =>
      vq.tidy(() => {
        const inputs = vq.tensor(b.inputs, [B, L + 2]);
        const lg = prior.contentLogits(inputs, argmax(prior.contentLogits(inputs), -1));
        return vq.crossEntropy(vq.reshape(lg, [B * L, K]), vq.tensor(b.targets, [B * L])).keepAlive();
      }),
    );
    const plain = await (vq.noGrad(() => batchLoss(prior, { ...b, selfCondition: false }))).item();
    expect(got).toBeCloseTo(await ref.item(), 5);
    expect(Math.abs(got - plain)).toBeGreaterThan(1e-5);
    ref.dispose();
    dispose(prior);
  });

  it('trains: the loss falls and the estimate table learns', async () => {
    const prior = makePrior(), rng = new NoiseRng(11), B = 16, steps = 40;
    const table = prior.namedParameters().find(([n]) => n === 'estimate.weight')![1];
    const before = await read(vq.clone(table));
    const trainer = new PriorTrainer(prior, { lr: 3e-2, totalSteps: steps, warmup: 5 });
    // grids of one repeated code each: x_0 is easy to read off any clean position
    const grids = () => Int32Array.from({ length: B * L }, (_, i) => (Math.floor(i / L) * 3) % K);
    const losses: number[] = [];
    for (let s = 1; s <= steps; s++) {
      trainer.train(makeBatch(prior.config, grids(), new Int32Array(B).fill(-1), rng));
      if (s % 10 === 0) losses.push(await trainer.takeLoss());
    }
    const after = await read(vq.clone(table));
    expect(losses[losses.length - 1], losses.join(' ')).toBeLessThan(losses[0] - 0.3);
    expect(Math.max(...after.map((v, i) => Math.abs(v - before[i])))).toBeGreaterThan(1e-3);
    trainer.dispose();
    dispose(prior);
  });

  it("the sampler's logits function reads the previous call's argmax per row, and starts over for other rows", async () => {
    const prior = makePrior();
    prior.eval();
    const B = 3, cond = new Int32Array(B).fill(K), x1 = randomCodes(B * L, 21), x2 = randomCodes(B * L, 22);
    const f = priorTimedLogits(prior);
    const first = vq.noGrad(() => f.logits(vq.tensor(x1, [B, L]), cond, 4));
    const second = await read(vq.noGrad(() => f.logits(vq.tensor(x2, [B, L]), cond, 3)));
    const ref = await read(vq.noGrad(() => prior.contentLogits(inputsOf(prior, x2, 3), argmax(first, -1))));
    for (let i = 0; i < ref.length; i++) expect(second[i]).toBeCloseTo(ref[i], 5);
    // a call with another row count has no estimate of its own: plain logits
    const two = await read(vq.noGrad(() => f.logits(vq.tensor(x2.subarray(0, 2 * L), [2, L]), cond.subarray(0, 2), 3)));
    const plain = await read(vq.noGrad(() => prior.contentLogits(inputsOf(prior, x2.subarray(0, 2 * L), 3))));
    for (let i = 0; i < plain.length; i++) expect(two[i]).toBeCloseTo(plain[i], 5);
    first.dispose();
    f.dispose();
    dispose(prior);
  });
});
