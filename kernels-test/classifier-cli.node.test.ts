// `vqgpu train-classifier` as users run it (the built CLI): bad input is one sentence and a
// non-zero exit (2 for usage errors); a tiny run writes checkpoints and metrics.json; a run split
// in two by --resume ends with the same bytes as one straight run.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, checkpointDiff, explain, latestCheckpoint, removeTempDirs, runCli, tempDir, type CliResult } from './reliability-cli.js';

const TINY = ['train-classifier', '--data', 'synthetic', '--size', '16', '--widths', '8,16', '--batch', '8', '--warmup', '2', '--log-every', '2'];

beforeAll(buildCli, 120_000);
afterAll(removeTempDirs);

function oneSentence(r: CliResult, code: number, re: RegExp): void {
  expect(r.code, explain(r)).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l.trim() && !/^Warning: maxDynamic|XDG_RUNTIME_DIR/.test(l));
  expect(lines, explain(r)).toHaveLength(1);
  expect(lines[0]).toMatch(re);
}

describe('train-classifier', () => {
  it('bad flags and a folder without classes: one sentence each', async () => {
    const out = tempDir('cls-bad');
    oneSentence(await runCli(['train-classifier', '--bogus', '--out', out]), 2, /^train-classifier: unknown flag --bogus\./);
    oneSentence(await runCli(['train-classifier', '--widths', '32,x', '--steps', '2', '--out', out]), 2, /--widths '32,x' must be comma-separated integers in 1\.\.4096/);
    oneSentence(await runCli(['train-classifier', '--out', out]), 2, /give --steps N or --minutes M\./);
    oneSentence(await runCli(['train-classifier', '--batch', '0', '--steps', '2', '--out', out]), 2, /--batch must be between 1 and 4096; got 0\./);
    const flat = tempDir('cls-flat');
    const img = new PNG({ width: 4, height: 4 });
    writeFileSync(join(flat, 'a.png'), PNG.sync.write(img));
    mkdirSync(join(flat, 'only'));
    writeFileSync(join(flat, 'only', 'b.png'), PNG.sync.write(img));
    oneSentence(
      await runCli(['train-classifier', '--data', flat, '--steps', '2', '--out', out]), 1,
      /data set '.*' has 1 class; a classifier needs at least 2: put each class's images in its own subfolder/,
    );
  });

  it('a tiny run writes checkpoints and metrics.json; split by --resume it ends with the same bytes', async () => {
    const straight = tempDir('cls-a');
    const a = await runCli([...TINY, '--steps', '8', '--schedule-steps', '8', '--out', straight]);
    expect(a.code, explain(a)).toBe(0);
    const m = JSON.parse(readFileSync(join(straight, 'metrics.json'), 'utf8'));
    expect(m.step).toBe(8);
    expect(m.classes).toEqual(['disc', 'bar']);
    expect(m.heldout.count).toBeGreaterThan(0);
    expect(m.heldout.accuracy).toBeGreaterThanOrEqual(0);
    expect(m.heldout.accuracy).toBeLessThanOrEqual(1);
    expect(a.stdout).toMatch(/"heldoutAccuracy":/);

    const split = tempDir('cls-b');
    const b1 = await runCli([...TINY, '--steps', '4', '--schedule-steps', '8', '--out', split]);
    expect(b1.code, explain(b1)).toBe(0);
    const b2 = await runCli([...TINY, '--steps', '8', '--out', split, '--resume']);
    expect(b2.code, explain(b2)).toBe(0);
    expect(b2.stderr).toMatch(/resumed from .*ckpt-000004\.safetensors at step 4/);
    expect(existsSync(join(split, 'metrics.json'))).toBe(true);
    expect(checkpointDiff(latestCheckpoint(straight), latestCheckpoint(split))).toEqual([]);
  });

  it('--resume into a run folder of another kind names both', async () => {
    const out = tempDir('cls-kind');
    const t = await runCli(['train-tokenizer', '--data', 'synthetic', '--size', '16', '--grid', '4', '--codebook', '16', '--code-dim', '8', '--width', '8', '--batch', '4', '--steps', '1', '--figure-every', '1000', '--out', out]);
    expect(t.code, explain(t)).toBe(0);
    oneSentence(await runCli([...TINY, '--steps', '2', '--out', out, '--resume']), 1, /--out '.*' is a tokenizer run .* but a classifier run made by `vqgpu train-classifier` is needed here\./);
  });
});
