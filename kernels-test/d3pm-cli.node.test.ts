// The D3PM diffusion prior through the CLI, as a user runs it: `train-prior --kind diffusion --noise
// d3pm` stores the scheme in the checkpoint's config, so `--resume`, `eval-prior` and `sample` pick
// the right loss and sampler with no extra flag; `--noise` with another kind is refused clearly.
// A tiny tokenizer and prior (a few steps): this tests the plumbing, not the quality.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { buildCli, explain, latestCheckpoint, removeTempDirs, runCli, tempDir, TINY_PRIOR, tinyTokenizerAndCache } from './reliability-cli.js';

let tok = '', prior = '', cache = '', dir = '';

beforeAll(async () => {
  buildCli();
  dir = tempDir('d3pm');
  prior = join(dir, 'prior');
  ({ tok, cache } = await tinyTokenizerAndCache(dir));
}, 180_000);
afterAll(removeTempDirs);

/** The prior config stored in a run's latest checkpoint. */
function storedPrior(run: string): Record<string, unknown> {
  const meta = decodeSafetensors(new Uint8Array(readFileSync(latestCheckpoint(run)))).metadata;
  return (JSON.parse(meta.config) as { prior: Record<string, unknown> }).prior;
}

describe('train-prior --noise d3pm', () => {
  it('refuses --noise with another kind, and --timesteps without d3pm, in one sentence (exit 2)', async () => {
    const ar = await runCli(['train-prior', '--kind', 'ar', '--noise', 'd3pm', '--tokens', cache, '--steps', '1', '--out', join(dir, 'bad')]);
    expect(ar.code, explain(ar)).toBe(2);
    expect(ar.stderr).toMatch(/--noise d3pm applies to --kind diffusion only \(got --kind ar\)/);
    const ts = await runCli(['train-prior', '--kind', 'diffusion', '--timesteps', '8', '--tokens', cache, '--steps', '1', '--out', join(dir, 'bad')]);
    expect(ts.code, explain(ts)).toBe(2);
    expect(ts.stderr).toMatch(/--timesteps needs --kind diffusion --noise d3pm/);
    const sc = await runCli(['train-prior', '--kind', 'diffusion', '--self-condition', '--tokens', cache, '--steps', '1', '--out', join(dir, 'bad')]);
    expect(sc.code, explain(sc)).toBe(2);
    expect(sc.stderr).toMatch(/--self-condition needs --kind diffusion --noise d3pm/);
    expect(existsSync(join(dir, 'bad', 'latest.json'))).toBe(false);
  });

  it('stores the scheme in the checkpoint; resume, eval-prior and sample follow it with no extra flag', async () => {
    const p = await runCli(['train-prior', '--kind', 'diffusion', '--noise', 'd3pm', '--timesteps', '8', '--tokens', cache, ...TINY_PRIOR, '--steps', '2', '--out', prior]);
    expect(p.code, explain(p)).toBe(0);
    expect(p.stderr).toMatch(/diffusion-d3pm prior/);
    expect(storedPrior(prior)).toMatchObject({ prior: 'diffusion', noise: 'd3pm', timesteps: 8 });
    const r = await runCli(['train-prior', '--kind', 'diffusion', '--tokens', cache, '--steps', '3', '--out', prior, '--resume']);
    expect(r.code, explain(r)).toBe(0);
    expect(storedPrior(prior)).toMatchObject({ noise: 'd3pm', timesteps: 8 });

    const ev = await runCli(['eval-prior', '--prior', prior, '--tokens', cache, '--json']);
    expect(ev.code, explain(ev)).toBe(0);
    const line = JSON.parse(ev.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
    expect(line).toMatchObject({ step: 3, kind: 'diffusion', noise: 'd3pm', timesteps: 8 });
    // barely trained: the x_0 cross-entropy is near log2(16) = 4 bits, the bound of 8 levels above it
    expect(line.denoise_loss_bits as number).toBeGreaterThan(2);
    expect(line.denoise_loss_bits as number).toBeLessThan(6);
    expect(line.bound_bits_per_token as number).toBeGreaterThan(0);
    expect(Number.isFinite(line.bound_bits_per_token)).toBe(true);

    const folder = join(dir, 'samples');
    const s = await runCli(['sample', '--tokenizer', tok, '--prior', prior, '--n', '3', '--steps', '4', '--out', folder]);
    expect(s.code, explain(s)).toBe(0);
    expect(s.stderr).toMatch(/3 images from the diffusion-d3pm prior .*\(4 network evaluations/);
    expect(readdirSync(folder).sort()).toEqual(['0000.png', '0001.png', '0002.png']);
    const gif = join(dir, 'reverse.gif');
    const g = await runCli(['sample', '--tokenizer', tok, '--prior', prior, '--n', '4', '--steps', '4', '--corrector-steps', '2', '--out', gif]);
    expect(g.code, explain(g)).toBe(0);
    expect(g.stderr).toMatch(/\(6 network evaluations/);
    expect(readFileSync(gif).subarray(0, 6).toString()).toBe('GIF89a');
    const tooMany = await runCli(['sample', '--tokenizer', tok, '--prior', prior, '--n', '1', '--steps', '9', '--out', join(dir, 'x.png')]);
    expect(tooMany.code, explain(tooMany)).toBe(1);
    expect(tooMany.stderr).toMatch(/steps must be an integer in 1\.\.8/);
  }, 240_000);

  it('--self-condition is stored, resumed, scored and sampled with no extra flag', async () => {
    const run = join(dir, 'prior-sc');
    const p = await runCli(['train-prior', '--kind', 'diffusion', '--noise', 'd3pm', '--self-condition', '--timesteps', '8', '--tokens', cache, ...TINY_PRIOR, '--steps', '2', '--out', run]);
    expect(p.code, explain(p)).toBe(0);
    expect(p.stderr).toMatch(/self-conditioned/);
    expect(storedPrior(run)).toMatchObject({ noise: 'd3pm', selfCondition: true });
    const r = await runCli(['train-prior', '--kind', 'diffusion', '--tokens', cache, '--steps', '3', '--out', run, '--resume']);
    expect(r.code, explain(r)).toBe(0);
    expect(storedPrior(run)).toMatchObject({ selfCondition: true });
    const ev = await runCli(['eval-prior', '--prior', run, '--tokens', cache, '--json']);
    expect(ev.code, explain(ev)).toBe(0);
    expect(JSON.parse(ev.stdout.trim().split('\n').pop()!)).toMatchObject({ step: 3, noise: 'd3pm' });
    const s = await runCli(['sample', '--tokenizer', tok, '--prior', run, '--n', '2', '--steps', '4', '--out', join(dir, 'sc.png')]);
    expect(s.code, explain(s)).toBe(0);
    expect(s.stderr).toMatch(/2 images from the diffusion-d3pm prior .*\(4 network evaluations/);
  }, 240_000);
});
