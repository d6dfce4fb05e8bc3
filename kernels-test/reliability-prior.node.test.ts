// train-prior resumes bit-exactly (AR prior with dropout on: the batch sampler's RNG and the GPU
// generator are both checkpointed, and the learning-rate schedule's length is part of the run), and
// --on-nan skip rides over a step with NaN gradients (injected by the VQGPU_TEST_NAN_STEP hook).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/io/safetensors.js';
import {
  buildCli, checkpointDiff, explain, latestCheckpoint, removeTempDirs, runCli, startCli, tempDir, TINY_PRIOR, TINY_TOKENIZER, waitFor,
} from './reliability-cli.js';

let cache = '';
let reference = '';
// (with a weight average, so that its state is part of what must resume bit-exactly)
const train = (out: string, ...more: string[]) => ['train-prior', '--tokens', cache, ...TINY_PRIOR, '--ema', '0.9', '--log-every', '2', '--eval-every', '1000', '--out', out, ...more];

beforeAll(async () => {
  buildCli();
  const tok = tempDir('prior-tok');
  const t = await runCli(['train-tokenizer', ...TINY_TOKENIZER, '--steps', '2', '--figure-every', '1000', '--out', tok]);
  expect(t.code, explain(t)).toBe(0);
  cache = join(tok, 'tokens.bin');
  const e = await runCli(['encode', '--run', tok, '--out', cache]);
  expect(e.code, explain(e)).toBe(0);
  const ref = tempDir('prior-ref');
  const r = await runCli(train(ref, '--steps', '8', '--checkpoint-every', '100'));
  expect(r.code, explain(r)).toBe(0);
  reference = latestCheckpoint(ref);
}, 180_000);
afterAll(removeTempDirs);

describe('train-prior resume', () => {
  it('4 steps (of an 8-step schedule), then --resume to 8: the same bytes as 8 in one go', async () => {
    const out = tempDir('prior-split');
    const a = await runCli(train(out, '--steps', '4', '--schedule-steps', '8', '--checkpoint-every', '100'));
    expect(a.code, explain(a)).toBe(0);
    const b = await runCli(train(out, '--steps', '8', '--checkpoint-every', '100', '--resume'));
    expect(b.code, explain(b)).toBe(0);
    expect(checkpointDiff(reference, latestCheckpoint(out))).toEqual([]);
  });

  it('SIGKILL after the first checkpoint, then --resume: the same bytes', async () => {
    const out = tempDir('prior-kill');
    // Far more steps than the test waits for (the 8-step schedule is the reference's).
    const run = startCli(train(out, '--steps', '100000', '--schedule-steps', '8', '--checkpoint-every', '2'));
    await waitFor(() => existsSync(join(out, 'latest.json')), 60_000, 'the first checkpoint');
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    const r = await runCli(train(out, '--steps', '8', '--checkpoint-every', '2', '--resume'));
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr, 'the kill must land before step 8').toMatch(/resumed from .* at step [2-7]\b/);
    expect(checkpointDiff(reference, latestCheckpoint(out))).toEqual([]);
  });

  it('--on-nan skip: a step with NaN gradients is skipped and counted, the weights stay finite', async () => {
    const out = tempDir('prior-nan');
    const r = await runCli(train(out, '--steps', '6', '--checkpoint-every', '100', '--on-nan', 'skip'), { VQGPU_TEST_NAN_STEP: '3' });
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr).toMatch(/warning: step 4: non-finite gradients .*1 step\(s\) of optimizer 'prior' skipped/);
    expect(r.stderr).toMatch(/done: step 6, 1 step\(s\) skipped for non-finite gradients/);
    const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(latestCheckpoint(out))));
    for (const [name, t] of Object.entries(tensors)) {
      expect((t.data as Float32Array).every(Number.isFinite), name).toBe(true);
    }
  });

  it('--on-nan stop (default): exits 1 naming the fault, the last good checkpoint kept', async () => {
    const out = tempDir('prior-nan-stop');
    const r = await runCli(train(out, '--steps', '8', '--checkpoint-every', '2'), { VQGPU_TEST_NAN_STEP: '3' });
    expect(r.code, explain(r)).toBe(1);
    expect(r.stderr).toMatch(/vqgpu train-prior: non-finite values by step 4: non-finite gradients .*Stopped \(--on-nan stop\); the last good checkpoint in .* is kept/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(latestCheckpoint(out)).toMatch(/ckpt-000002\.safetensors$/);
  });
});
