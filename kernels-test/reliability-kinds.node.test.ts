// Files of the wrong kind are refused with one sentence naming both sides, exit code 1, no stack
// trace: a prior run given as a tokenizer and the other way round, a token cache made by another
// tokenizer, a cache whose codebook does not match the prior, a file given as a run folder.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTokenCache, encodeTokenCache } from '../src/data/token-cache.js';
import { buildCli, explain, removeTempDirs, runCli, tempDir, TINY_PRIOR, TINY_TOKENIZER, tinyTokenizerAndCache, type CliResult } from './reliability-cli.js';

let tok = '', prior = '', cache = '', dir = '';

beforeAll(async () => {
  buildCli();
  dir = tempDir('kinds');
  prior = join(dir, 'prior');
  ({ tok, cache } = await tinyTokenizerAndCache(dir));
  const p = await runCli(['train-prior', '--tokens', cache, ...TINY_PRIOR, '--steps', '2', '--out', prior]);
  expect(p.code, explain(p)).toBe(0);
}, 180_000);
afterAll(removeTempDirs);

/** Exit 1, one line on stderr (besides Dawn's adapter noise) matching `re`, no stack trace. */
function expectRefusal(r: CliResult, re: RegExp): void {
  expect(r.code, explain(r)).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('vqgpu '));
  expect(lines, explain(r)).toHaveLength(1);
  expect(lines[0]).toMatch(re);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** A copy of the cache with its header changed. */
function alteredCache(name: string, change: (h: ReturnType<typeof decodeTokenCache>['header']) => void): string {
  const c = decodeTokenCache(new Uint8Array(readFileSync(cache)));
  change(c.header);
  const path = join(dir, name);
  writeFileSync(path, encodeTokenCache(c));
  return path;
}

describe('wrong kinds of checkpoint and cache', () => {
  it('a prior run given where a tokenizer run is needed', async () => {
    expectRefusal(await runCli(['encode', '--run', prior, '--out', join(dir, 'x.bin')]),
      /'.*prior' is a prior run \(ar prior over 16 codes on 4×4\) .*but a tokenizer run made by `vqgpu train-tokenizer` is needed/);
    expectRefusal(await runCli(['sample', '--tokenizer', prior, '--prior', prior, '--out', join(dir, 'x.png')]),
      /'.*prior' is a prior run .*but a tokenizer run/);
  });

  it('a tokenizer run given where a prior run is needed', async () => {
    expectRefusal(await runCli(['eval-prior', '--prior', tok, '--tokens', cache]),
      /'.*tok' is a tokenizer run \(16 codes, 4×4 tokens of 16 px images\) .*but a prior run made by `vqgpu train-prior` is needed/);
    expectRefusal(await runCli(['train-prior', '--tokens', cache, '--out', tok, '--resume', '--steps', '4']),
      /--out '.*tok' is a tokenizer run .*but a prior run/);
    expectRefusal(await runCli(['train-tokenizer', ...TINY_TOKENIZER, '--out', prior, '--resume', '--steps', '4']),
      /--out '.*prior' is a prior run .*but a tokenizer run/);
  });

  it('a fresh run (no --resume) into a folder that holds a run, of either kind: refused, the run untouched', async () => {
    const snapshot = (d: string) => readdirSync(d).sort().map((f) => `${f}:${readFileSync(join(d, f)).toString('base64').length}:${readFileSync(join(d, f)).subarray(0, 4096).toString('base64')}`);
    for (const [argv, d] of [
      [['train-prior', '--tokens', cache, ...TINY_PRIOR, '--steps', '2', '--out', tok], tok],
      [['train-tokenizer', ...TINY_TOKENIZER, '--steps', '2', '--out', prior], prior],
      [['train-prior', '--tokens', cache, ...TINY_PRIOR, '--steps', '3', '--out', prior], prior],
    ] as [string[], string][]) {
      const before = snapshot(d);
      const r = await runCli(argv);
      expect(r.code, explain(r)).toBe(2);
      expect(r.stderr).toMatch(/'.*' already holds a run \(its checkpoint at step \d+\); continue it with --resume, or give a new --out folder\./);
      expect(snapshot(d)).toEqual(before);
    }
  });

  it('a token cache made by another tokenizer, or for another codebook', async () => {
    const other = alteredCache('other.bin', (h) => (h.tokenizer = { ...h.tokenizer, checksum: '0123456789abcdef', path: '/elsewhere/tok' }));
    expectRefusal(await runCli(['eval-prior', '--prior', prior, '--tokens', other]),
      /token cache '.*other\.bin' was made by tokenizer 0123456789abcdef \(\/elsewhere\/tok\), but prior '.*prior' was trained on tokens of tokenizer [0-9a-f]{16}/);
    const wide = alteredCache('wide.bin', (h) => (h.codebook = 32));
    expectRefusal(await runCli(['eval-prior', '--prior', prior, '--tokens', wide]),
      /token cache '.*wide\.bin' has 32 codes on a 4×4 grid, but prior '.*prior' was trained for 16 codes on 4×4/);
  });

  it('a file given as a run folder', async () => {
    expectRefusal(await runCli(['eval-tokenizer', '--run', cache]), /'.*tokens\.bin' is a file, not a run folder/);
  });
});
