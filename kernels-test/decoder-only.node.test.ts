// `train-tokenizer --encoder-from RUN`: a decoder trained alone on RUN's frozen encoder and codebook.
// The tokens must stay RUN's (so RUN's token caches and the priors trained on them keep working):
// encoder and codebook bytes unchanged, the same token cache, the same tokenizer identity; a
// deeper decoder starts as exactly RUN's (new residual blocks are identities); the run resumes.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTokenCache } from '../src/data/token-cache.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { checkpointChecksum } from '../src/node/checksum.js';
import { buildCli, checkpointDiff, explain, latestCheckpoint, removeTempDirs, runCli, tempDir, tinyTokenizerAndCache } from './reliability-cli.js';

let dir = '', tok = '', cache = '';
const DECODER = (from: string) => ['train-tokenizer', '--data', 'synthetic', '--encoder-from', from, '--batch', '4', '--figure-every', '1000', '--log-every', '1'];

beforeAll(async () => {
  buildCli();
  dir = tempDir('decoder-only');
  ({ tok, cache } = await tinyTokenizerAndCache(dir));
}, 120_000);
afterAll(removeTempDirs);

const tensorsOf = (path: string) => decodeSafetensors(new Uint8Array(readFileSync(path))).tensors;
const psnrOf = async (run: string) => {
  const r = await runCli(['eval-tokenizer', '--run', run, '--json', '--split', 'all']);
  expect(r.code, explain(r)).toBe(0);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { psnr: number }).psnr;
};

describe('train-tokenizer --encoder-from', () => {
  it('trains the decoder alone: encoder and codebook bytes unchanged, the same tokens and identity', async () => {
    const out = join(dir, 'dec');
    const r = await runCli([...DECODER(tok), '--steps', '4', '--lr', '1e-2', '--out', out]);
    expect(r.code, explain(r)).toBe(0);
    expect(r.stderr).toMatch(/decoder only: the encoder and codebook of .* stay frozen/);
    const changed = checkpointDiff(latestCheckpoint(tok), latestCheckpoint(out)).filter((k) => k.startsWith('model.'));
    expect(changed.some((k) => k.startsWith('model.vqvae.decoder.'))).toBe(true);
    expect(changed.filter((k) => !k.startsWith('model.vqvae.decoder.') && !k.startsWith('model.disc.'))).toEqual([]);
    // the optimizer holds the decoder's parameters only (its state is stored by index)
    const names = Object.keys(tensorsOf(latestCheckpoint(out)));
    const slots = names.filter((k) => /^optim\.g\.\d+\.exp_avg$/.test(k)).length;
    expect(slots).toBe(names.filter((k) => k.startsWith('model.vqvae.decoder.')).length);

    expect(checkpointChecksum(latestCheckpoint(out))).toBe(checkpointChecksum(latestCheckpoint(tok)));
    const again = join(dir, 'tokens-dec.bin');
    const e = await runCli(['encode', '--run', out, '--out', again]);
    expect(e.code, explain(e)).toBe(0);
    const a = decodeTokenCache(new Uint8Array(readFileSync(cache))), b = decodeTokenCache(new Uint8Array(readFileSync(again)));
    expect(b.header.tokenizer.checksum).toBe(a.header.tokenizer.checksum);
    expect(Array.from(b.tokens)).toEqual(Array.from(a.tokens));
  }, 120_000);

  it('a deeper decoder starts as exactly the source (new blocks are identities)', async () => {
    const out = join(dir, 'deeper');
    // learning rate 0: the step changes nothing, so the run's decoder is its starting point
    const r = await runCli([...DECODER(tok), '--res-blocks', '4', '--steps', '1', '--lr', '0', '--out', out]);
    expect(r.code, explain(r)).toBe(0);
    expect(Object.keys(tensorsOf(latestCheckpoint(out))).some((k) => k.includes('decoder.level0_block3.'))).toBe(true);
    expect(await psnrOf(out)).toBeCloseTo(await psnrOf(tok), 4);
    // and a decoder of another width starts fresh: another PSNR
    const wide = join(dir, 'wider');
    const w = await runCli([...DECODER(tok), '--width', '16', '--steps', '1', '--lr', '0', '--out', wide]);
    expect(w.code, explain(w)).toBe(0);
    expect(Math.abs((await psnrOf(wide)) - (await psnrOf(tok)))).toBeGreaterThan(0.01);
  }, 120_000);

  it('resumes: 2 steps then --resume to 4 equals 4 in one go, still decoder-only', async () => {
    const one = join(dir, 'one'), two = join(dir, 'two');
    // a fixed decay (the default 'auto' ends where each run stops, so a split run follows another curve)
    const run = [...DECODER(tok), '--schedule-steps', '4'];
    const a = await runCli([...run, '--steps', '4', '--out', one]);
    expect(a.code, explain(a)).toBe(0);
    expect((await runCli([...run, '--steps', '2', '--out', two])).code).toBe(0);
    const b = await runCli([...run, '--steps', '4', '--out', two, '--resume']);
    expect(b.code, explain(b)).toBe(0);
    expect(checkpointDiff(latestCheckpoint(one), latestCheckpoint(two))).toEqual([]);
    expect(checkpointChecksum(latestCheckpoint(two))).toBe(checkpointChecksum(latestCheckpoint(tok)));
  }, 120_000);
});
