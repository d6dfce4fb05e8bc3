// Numerical faults. On the GPU: an optimizer step whose gradients hold a NaN or an Inf changes
// nothing (parameters, moments) and is counted, with clipping or with skipNonFinite alone; finite
// steps are unaffected. In the CLI: --on-nan stop names the loss part that went bad and keeps the
// last good checkpoint; --on-nan skip goes on and reports the count.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/device/runtime.js';
import { AdamW, SGD, type Optimizer } from '../src/optim/index.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { buildCli, explain, latestCheckpoint, removeTempDirs, runCli, tempDir, TINY_TOKENIZER } from './reliability-cli.js';

beforeAll(async () => {
  await init();
  buildCli();
}, 120_000);
afterAll(removeTempDirs);

const values = async (t: Tensor) => Array.from((await t.toArray()) as Float32Array);

describe('optimizer steps with non-finite gradients', () => {
  const cases: [string, (p: Tensor[]) => Optimizer][] = [
    ['AdamW with clipNorm', (p) => new AdamW(p, { lr: 0.1, clipNorm: 1 })],
    ['SGD + momentum, skipNonFinite', (p) => new SGD(p, { lr: 0.1, momentum: 0.9, skipNonFinite: true })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: skipped on the GPU and counted, then training goes on`, async () => {
      const a = tensor([1, 2, 3]), b = tensor([4, 5]);
      a.requiresGrad = b.requiresGrad = true;
      const opt = make([a, b]);
      const step = (ga: number[], gb: number[]) => {
        a.grad = tensor(ga);
        b.grad = tensor(gb);
        opt.step();
        opt.zeroGrad();
      };
      step([0.1, 0.2, 0.3], [0.4, 0.5]);
      const before = [await values(a), await values(b)];
      step([0.1, NaN, 0.3], [0.4, 0.5]); // one NaN anywhere: the whole step is skipped
      expect([await values(a), await values(b)]).toEqual(before);
      step([0.1, 0.2, 0.3], [Infinity, 0.5]);
      expect([await values(a), await values(b)]).toEqual(before);
      expect(await opt.skippedSteps()).toBe(2);
      step([0.1, 0.2, 0.3], [0.4, 0.5]);
      const after = [await values(a), await values(b)];
      expect(after).not.toEqual(before);
      expect(after.flat().every(Number.isFinite)).toBe(true);
      expect(await opt.skippedSteps()).toBe(2);
      opt.dispose();
      a.dispose();
      b.dispose();
    });
  }
});

describe('--on-nan in train-tokenizer', () => {
  const TRAIN = ['train-tokenizer', ...TINY_TOKENIZER, '--log-every', '2', '--checkpoint-every', '2', '--figure-every', '1000'];

  it('stop (default): a NaN image at step 3 stops the run at the next log, naming the loss parts', async () => {
    const out = tempDir('nan-stop');
    const r = await runCli([...TRAIN, '--steps', '8', '--out', out], { VQGPU_TEST_NAN_STEP: 'input:3' });
    expect(r.code, explain(r)).toBe(1);
    // (the discriminator, trained on the same images, skips its step too)
    expect(r.stderr).toMatch(/vqgpu train-tokenizer: non-finite values by step 4: loss part 'rec' is NaN.*1 step\(s\) of optimizer 'generator'.* skipped, weights untouched.*the last good checkpoint in .* is kept/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(latestCheckpoint(out)).toMatch(/ckpt-000002\.safetensors$/);
  });

  it('skip: NaN gradients at step 3 are skipped and counted; the run finishes', async () => {
    const out = tempDir('nan-skip');
    const r = await runCli([...TRAIN, '--steps', '6', '--on-nan', 'skip', '--out', out], { VQGPU_TEST_NAN_STEP: '3' });
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr).toMatch(/warning: step 4: non-finite gradients \(the logged loss parts stayed finite\); 1 step\(s\) of optimizer 'generator'.* skipped/);
    expect(r.stderr).toMatch(/done: step 6 .*skipped for non-finite gradients: 1 'generator' step\(s\)/);
    expect(r.stderr).not.toMatch(/warning: step 6/); // one bad step, reported once
    expect(latestCheckpoint(out)).toMatch(/ckpt-000006\.safetensors$/);
  });
});
