// End to end: a small MLP (Linear + GELU/ReLU) fits a toy regression with AdamW, and a warm
// training step neither leaks nor creates GPU buffers.
import { beforeAll, describe, expect, it } from 'vitest';
import { backward } from '../src/autograd/tape.js';
import { init, runtime } from '../src/device/runtime.js';
import { manualSeed } from '../src/nn/init.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import { gelu, relu, square, sub } from '../src/ops/elementwise.js';
import { mean } from '../src/ops/reduce.js';
import { AdamW } from '../src/optim/adam.js';
import { warmupCosine } from '../src/optim/schedule.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { Rng } from './reference.js';

/** y = sin(2·x0)·x1 + 0.5·x0 on N points of [-1, 1]². */
function toyData(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Rng(seed);
  const xs = new Float32Array(2 * n), ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = 2 * rng.uniform() - 1, b = 2 * rng.uniform() - 1;
    xs.set([a, b], 2 * i);
    ys[i] = Math.sin(2 * a) * b + 0.5 * a;
  }
  return { x: tensor(xs, [n, 2]), y: tensor(ys, [n, 1]) };
}

function mse(pred: Tensor, target: Tensor): Tensor {
  return mean(square(sub(pred, target)));
}

describe('MLP training', () => {
  beforeAll(async () => {
    await init();
  });

  it('fits a toy regression with AdamW (loss falls more than 10×)', async () => {
    manualSeed(42);
    const mlp = new Sequential(new Linear(2, 32), gelu, new Linear(32, 32), relu, new Linear(32, 1));
    const { x, y } = toyData(64, 1);
    const steps = 250;
    const opt = new AdamW(mlp.parameters(), { lr: warmupCosine({ base: 0.02, warmupSteps: 10, totalSteps: steps, min: 0.002 }), weightDecay: 1e-4, clipNorm: 5 });
    const lossAt = async (): Promise<number> => {
      const l = tidy(() => mse(mlp.forward(x), y));
      const v = await l.item();
      l.dispose();
      return v;
    };
    const first = await lossAt();
    for (let s = 0; s < steps; s++) {
      tidy(() => {
        opt.zeroGrad();
        backward(mse(mlp.forward(x), y));
        opt.step();
      });
    }
    const last = await lossAt();
    console.log(`[mlp] loss ${first.toFixed(4)} → ${last.toFixed(5)} (${(first / last).toFixed(1)}×), grad norm ${(await opt.gradNorm!.item()).toFixed(4)}`);
    expect(last).toBeLessThan(first / 10);
    opt.zeroGrad();
    opt.dispose();
    mlp.dispose();
    x.dispose();
    y.dispose();
  });

  it('a warm training step keeps live and created buffers flat over hundreds of steps', async () => {
    manualSeed(7);
    const mlp = new Sequential(new Linear(2, 16), gelu, new Linear(16, 1));
    const { x, y } = toyData(33, 2);
    const opt = new AdamW(mlp.parameters(), { lr: 1e-3, clipNorm: 1 });
    const rt = runtime();
    const step = () =>
      tidy(() => {
        opt.zeroGrad();
        backward(mse(mlp.forward(x), y));
        opt.step();
      });
    for (let s = 0; s < 5; s++) step();
    await rt.sync();
    const before = rt.pool.getStats();
    const d0 = rt.counters.dispatches;
    step();
    const perStep = rt.counters.dispatches - d0;
    for (let s = 0; s < 300; s++) step();
    await rt.sync();
    const after = rt.pool.getStats();
    expect(after.liveBuffers).toBe(before.liveBuffers);
    expect(after.created).toBe(before.created);
    expect(rt.counters.dispatches - d0).toBe(301 * perStep);
    opt.zeroGrad();
    opt.dispose();
    mlp.dispose();
    x.dispose();
    y.dispose();
  });
});
