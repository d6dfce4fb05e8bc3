// Checkpoints are untrusted input. A torn or damaged newest checkpoint (or latest.json) falls back
// to the previous complete one and says which file was skipped; and a fuzz feeds the loader
// mutated checkpoint files: each either loads (into a model and optimizer of the right shapes) or
// is refused with an Error of ours — never a TypeError/RangeError from deep inside, never a hang.

import { readFileSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backward } from '../src/autograd/tape.js';
import { init } from '../src/device/runtime.js';
import { manualSeed } from '../src/nn/init.js';
import { Linear } from '../src/nn/linear.js';
import { loadLatestCheckpoint, saveCheckpoint } from '../src/node/checkpoint.js';
import { mean } from '../src/ops/reduce.js';
import { AdamW } from '../src/optim/adam.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor } from '../src/tensor/tensor.js';
import { Rng } from './reference.js';
import { removeTempDirs, tempDir } from './reliability-cli.js';

let dir = '';
function make() {
  manualSeed(3);
  const model = new Linear(3, 4);
  const opt = new AdamW(model.parameters(), { lr: 0.01 });
  return { model, opt };
}

beforeAll(async () => {
  await init();
  dir = tempDir('ckpt-fuzz');
  const { model, opt } = make();
  for (let step = 1; step <= 2; step++) {
    tidy(() => {
      backward(mean(model.forward(tensor([1, 2, 3, 4, 5, 6], [2, 3]))));
      opt.step();
      opt.zeroGrad();
    });
    await saveCheckpoint(dir, { model, optimizer: opt, step, rng: { noise: step }, config: { kind: 'test' } });
  }
});
afterAll(removeTempDirs);

describe('damaged checkpoints', () => {
  it('a torn newest checkpoint falls back to the previous one, naming the skipped file', async () => {
    const d = tempDir('ckpt-torn');
    for (const f of ['ckpt-000001.safetensors', 'ckpt-000002.safetensors', 'latest.json']) await copyFile(join(dir, f), join(d, f));
    const full = readFileSync(join(d, 'ckpt-000002.safetensors'));
    writeFileSync(join(d, 'ckpt-000002.safetensors'), full.subarray(0, full.length >> 1));
    const { model, opt } = make();
    const got = await loadLatestCheckpoint(d, { model, optimizer: opt });
    expect(got?.step).toBe(1);
    expect(got?.skipped.join('\n')).toMatch(/ckpt-000002\.safetensors: /);
    writeFileSync(join(d, 'latest.json'), '{"file": "ckpt-0000'); // torn pointer too
    expect((await loadLatestCheckpoint(d))?.step).toBe(1);
  });

  it('fuzz: mutated files load or are refused with our Error', async () => {
    const good = new Uint8Array(readFileSync(join(dir, 'ckpt-000002.safetensors')));
    const headerEnd = 8 + Number(new DataView(good.buffer).getBigUint64(0, true));
    const rng = new Rng(99);
    const d = tempDir('ckpt-mutants');
    await mkdir(d, { recursive: true });
    let loaded = 0, refused = 0;
    for (let i = 0; i < 150; i++) {
      const b = good.slice();
      const kind = i % 5;
      if (kind === 0) b[rng.int(headerEnd)] = rng.int(256); // header byte
      else if (kind === 1) for (let k = 0; k < 4; k++) b[headerEnd + rng.int(b.length - headerEnd)] ^= 1 << rng.int(8); // tensor bytes
      else if (kind === 2) new DataView(b.buffer).setBigUint64(0, BigInt(rng.int(2 ** 31)), true); // header length
      else if (kind === 3) b[8 + rng.int(headerEnd - 8)] = '0123456789[]{}",:'.charCodeAt(rng.int(17)); // JSON punctuation and digits
      const bytes = kind === 4 ? b.subarray(0, rng.int(b.length)) : b; // truncation
      writeFileSync(join(d, 'ckpt-000002.safetensors'), bytes);
      const { model, opt } = make();
      try {
        await loadLatestCheckpoint(d, { model, optimizer: opt });
        loaded++;
      } catch (e) {
        refused++;
        expect(e, `case ${i} (kind ${kind}): ${(e as Error).stack}`).toBeInstanceOf(Error);
        expect((e as Error).constructor, `case ${i} (kind ${kind}): ${(e as Error).stack}`).toBe(Error);
        expect((e as Error).message.length).toBeGreaterThan(10);
      }
      opt.dispose();
      for (const p of model.parameters()) p.dispose();
    }
    // both outcomes must be common for the fuzz to mean anything
    expect(loaded).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });
});
