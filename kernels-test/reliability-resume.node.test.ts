// Resuming train-tokenizer loses nothing: a run of 8 steps, and a run stopped at 4 then resumed to
// 8, and a run killed with SIGKILL after its first checkpoint then resumed, and a run stopped with
// SIGTERM then resumed, all end with byte-identical weights, codebook EMA state and optimizer
// state. (The kernels are deterministic: fixed-order reductions, no atomics, seeded generators; the
// data order and flips are functions of (seed, epoch, key) and the loader position is checkpointed.)

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, checkpointDiff, explain, latestCheckpoint, removeTempDirs, runCli, startCli, tempDir, TINY_TOKENIZER, waitFor } from './reliability-cli.js';

// Dead-code restarts every 2 steps (seeded by the step). Figures are off except in the split run,
// where one drawn at every checkpoint must not move the data stream.
const TRAIN = ['train-tokenizer', ...TINY_TOKENIZER, '--preset', 'vqgan', '--restart-every', '2', '--log-every', '2'];
const NO_FIGURES = ['--figure-every', '1000'];
let reference = '';
let referenceRun = '';

beforeAll(async () => {
  buildCli();
  const out = tempDir('tok-ref');
  const r = await runCli([...TRAIN, ...NO_FIGURES, '--steps', '8', '--checkpoint-every', '100', '--out', out]);
  expect(r.code, explain(r)).toBe(0);
  reference = latestCheckpoint(out);
  referenceRun = out;
}, 120_000);
afterAll(removeTempDirs);

describe('eval-tokenizer --split', () => {
  it('held-out (the default) and training images partition the whole set; each gives finite metrics', async () => {
    const evalOn = async (...split: string[]) => {
      const r = await runCli(['eval-tokenizer', '--run', referenceRun, '--json', ...split]);
      expect(r.code, explain(r)).toBe(0);
      const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { step: number; psnr: number; images: number };
      expect(m.step).toBe(8);
      expect(Number.isFinite(m.psnr)).toBe(true);
      return m;
    };
    const [heldout, dflt, train, all] = [await evalOn('--split', 'heldout'), await evalOn(), await evalOn('--split', 'train'), await evalOn('--split', 'all')];
    expect(dflt).toEqual(heldout);
    expect(heldout.images).toBeGreaterThan(0);
    expect(train.images).toBeGreaterThan(heldout.images);
    expect(heldout.images + train.images).toBe(all.images);
  }, 120_000);
});

describe('train-tokenizer resume', () => {
  it('4 steps, then --resume to 8: the same bytes as 8 steps in one go', async () => {
    const out = tempDir('tok-split');
    const a = await runCli([...TRAIN, '--figure-every', '2', '--steps', '4', '--checkpoint-every', '2', '--out', out]);
    expect(a.code, explain(a)).toBe(0);
    const b = await runCli([...TRAIN, '--figure-every', '2', '--steps', '8', '--checkpoint-every', '2', '--out', out, '--resume']);
    expect(b.code, explain(b)).toBe(0);
    expect(b.stderr).toMatch(/resumed from .*ckpt-000004\.safetensors at step 4/);
    expect(checkpointDiff(reference, latestCheckpoint(out))).toEqual([]);
  });

  it('SIGKILL after the first checkpoint, then --resume: the same bytes', async () => {
    const out = tempDir('tok-kill');
    const run = startCli([...TRAIN, ...NO_FIGURES, '--steps', '1000', '--checkpoint-every', '2', '--out', out]);
    await waitFor(() => existsSync(join(out, 'latest.json')), 60_000, 'the first checkpoint');
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    const r = await runCli([...TRAIN, ...NO_FIGURES, '--steps', '8', '--checkpoint-every', '2', '--out', out, '--resume']);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr, 'the kill must land before step 8').toMatch(/resumed from .* at step [2-7]\b/);
    expect(checkpointDiff(reference, latestCheckpoint(out))).toEqual([]);
    // Temporary files of the killed writer may remain; no checkpoint is torn and none beyond the keep count.
    expect(readdirSync(out).filter((f) => /^ckpt-\d+\.safetensors$/.test(f)).length).toBeLessThanOrEqual(3);
  });

  it('SIGTERM writes a checkpoint and exits 130; --resume finishes with the same bytes', async () => {
    const out = tempDir('tok-term');
    const run = startCli([...TRAIN, ...NO_FIGURES, '--steps', '8', '--log-every', '1', '--checkpoint-every', '100', '--out', out]);
    await waitFor(() => /step [1-5]\/8/.test(run.output()), 60_000, 'a progress line');
    run.child.kill('SIGTERM');
    const t = await run.done;
    if (t.code === 0) return expect.soft(t.stderr, 'the run finished before the signal arrived; nothing to test').toMatch(/done: step 8/);
    expect(t.code, explain(t)).toBe(130);
    expect(t.stderr).toMatch(/SIGTERM: finishing the step and writing a checkpoint/);
    expect(t.stderr).toMatch(/interrupted, checkpoint written/);
    const stoppedAt = Number(/done: step (\d+)/.exec(t.stderr)![1]);
    expect(latestCheckpoint(out)).toMatch(new RegExp(`ckpt-0*${stoppedAt}\\.safetensors$`));
    const r = await runCli([...TRAIN, ...NO_FIGURES, '--steps', '8', '--checkpoint-every', '100', '--out', out, '--resume']);
    expect(r.code, explain(r)).toBe(0);
    expect(checkpointDiff(reference, latestCheckpoint(out))).toEqual([]);
  });
});
