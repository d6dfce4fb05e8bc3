import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backward } from '../src/autograd/tape.js';
import { init } from '../src/device/runtime.js';
import { manualSeed } from '../src/nn/init.js';
import { Linear } from '../src/nn/linear.js';
import { Sequential } from '../src/nn/sequential.js';
import { exportWeights, loadLatestCheckpoint, saveCheckpoint, writeFileAtomic } from '../src/node/checkpoint.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { checkpointChecksum, fileChecksum } from '../src/node/checksum.js';
import { gelu, square, sub } from '../src/ops/elementwise.js';
import { mean } from '../src/ops/reduce.js';
import { AdamW } from '../src/optim/adam.js';
import { warmupCosine } from '../src/optim/schedule.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor } from '../src/tensor/tensor.js';
import { Rng } from './reference.js';

let root: string;
beforeAll(async () => {
  await init();
  root = await mkdtemp(join(tmpdir(), 'vqgpu-ckpt-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function makeModel(seed: number) {
  manualSeed(seed);
  return new Sequential(new Linear(3, 8), gelu, new Linear(8, 2));
}

function makeOptimizer(model: Sequential) {
  return new AdamW(model.parameters(), { lr: warmupCosine({ base: 0.01, warmupSteps: 3, totalSteps: 20 }), clipNorm: 0.5 });
}

/** One training step on the batch of step `s` (deterministic in s). */
function trainStep(model: Sequential, opt: AdamW, s: number): void {
  const rng = new Rng(100 + s);
  tidy(() => {
    const x = tensor(rng.array(5 * 3), [5, 3]), y = tensor(rng.array(5 * 2), [5, 2]);
    opt.zeroGrad();
    backward(mean(square(sub(model.forward(x), y))));
    opt.step();
  });
}

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no temp file behind', async () => {
    const dir = join(root, 'atomic');
    await mkdir(dir);
    const p = join(dir, 'f.bin');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    await writeFileAtomic(p, 'hello');
    expect(await readFile(p, 'utf8')).toBe('hello');
    expect(await readdir(dir)).toEqual(['f.bin']);
    await expect(writeFileAtomic(join(root, 'missing-dir', 'f'), 'x')).rejects.toThrow(/ENOENT/);
  });
});

describe('checkpoints', () => {
  it('rotates by keep count and points latest.json at the newest', async () => {
    const dir = join(root, 'rotate');
    const model = makeModel(1);
    const opt = makeOptimizer(model);
    for (let s = 1; s <= 5; s++) {
      trainStep(model, opt, s);
      await saveCheckpoint(dir, { model, optimizer: opt, step: s, config: { hidden: 8 } }, { keep: 3 });
    }
    expect((await readdir(dir)).sort()).toEqual(['ckpt-000003.safetensors', 'ckpt-000004.safetensors', 'ckpt-000005.safetensors', 'latest.json']);
    expect(JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8'))).toEqual({ file: 'ckpt-000005.safetensors', step: 5 });
    const c = await loadLatestCheckpoint(dir);
    expect(c!.step).toBe(5);
    expect(c!.config).toEqual({ hidden: 8 });
    expect(Object.keys(c!.decoded.tensors).filter((k) => k.startsWith('model.'))).toEqual(['model.0.weight', 'model.0.bias', 'model.2.weight', 'model.2.bias']);

    // A damaged newest file (say, a crash mid-copy by another tool) falls back to the previous one.
    await writeFile(join(dir, 'ckpt-000006.safetensors'), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    await writeFile(join(dir, 'latest.json'), JSON.stringify({ file: 'ckpt-000006.safetensors', step: 6 }));
    const fallback = await loadLatestCheckpoint(dir);
    expect(fallback!.step).toBe(5);
    expect(fallback!.skipped[0]).toMatch(/ckpt-000006.safetensors: safetensors: header length/);
    expect(await loadLatestCheckpoint(join(root, 'nothing-here'))).toBeNull();
    opt.dispose();
    model.dispose();
  });

  it('resumes bit-exactly: save at step N, load into a fresh model and optimizer, continue', async () => {
    const N = 4, M = 4, dir = join(root, 'resume');
    // Uninterrupted run.
    const ref = makeModel(5);
    const refOpt = makeOptimizer(ref);
    for (let s = 0; s < N + M; s++) trainStep(ref, refOpt, s);

    // Interrupted run: N steps, save, throw away.
    const a = makeModel(5);
    const aOpt = makeOptimizer(a);
    for (let s = 0; s < N; s++) trainStep(a, aOpt, s);
    await saveCheckpoint(dir, { model: a, optimizer: aOpt, step: N, rng: { seed: 5, position: N }, extra: { note: 'resume' } });
    aOpt.dispose();
    a.dispose();

    // Fresh (differently initialised) model and optimizer, restored from disk.
    const b = makeModel(99);
    const bOpt = makeOptimizer(b);
    const ckpt = await loadLatestCheckpoint(dir, { model: b, optimizer: bOpt });
    expect(ckpt!.step).toBe(N);
    expect(ckpt!.rng).toEqual({ seed: 5, position: N });
    expect(ckpt!.extra).toEqual({ note: 'resume' });
    expect(bOpt.stepCount).toBe(N);
    for (let s = N; s < N + M; s++) trainStep(b, bOpt, s);

    for (const [k, t] of Object.entries(ref.stateDict())) {
      expect(Array.from(await b.stateDict()[k].toArray()), k).toEqual(Array.from(await t.toArray()));
    }
    expect(existsSync(join(dir, `ckpt-00000${N}.safetensors.tmp-${process.pid}`))).toBe(false);
    for (const o of [refOpt, bOpt]) o.dispose();
    for (const m of [ref, b]) m.dispose();
  });

  it('saves and restores several named optimizers', async () => {
    const dir = join(root, 'named');
    const model = makeModel(3);
    const [g, d] = [model.namedParameters().slice(0, 2), model.namedParameters().slice(2)].map((ps) => new AdamW(ps.map(([, t]) => t), { lr: 0.01 }));
    for (let s = 0; s < 3; s++) {
      trainStep(model, g, s); // g steps every time (its trainStep also fills d's gradients)
      if (s % 2 === 0) d.step();
    }
    await saveCheckpoint(dir, { model, optimizers: { g, d }, step: 3 });
    const fresh = makeModel(4);
    const [g2, d2] = [fresh.parameters().slice(0, 2), fresh.parameters().slice(2)].map((ps) => new AdamW(ps, { lr: 0.01 }));
    await loadLatestCheckpoint(dir, { model: fresh, optimizers: { g: g2, d: d2 } });
    expect([g2.stepCount, d2.stepCount]).toEqual([3, 2]);
    for (const [a, b] of [[g, g2], [d, d2]] as const) {
      const sa = a.stateDict().tensors, sb = b.stateDict().tensors;
      expect(Object.keys(sb)).toEqual(Object.keys(sa));
      for (const k of Object.keys(sa)) expect(await sb[k].toArray()).toEqual(await sa[k].toArray());
    }
    await expect(loadLatestCheckpoint(dir, { optimizers: { h: g2 } })).rejects.toThrow(/no state for optimizer 'optim.h'/);
    for (const o of [g, d, g2, d2]) o.dispose();
    model.dispose();
    fresh.dispose();
  });

  it('refuses to restore into a model of another shape', async () => {
    const dir = join(root, 'mismatch');
    const model = makeModel(1);
    await saveCheckpoint(dir, { model, step: 0 });
    manualSeed(1);
    const other = new Sequential(new Linear(3, 4), gelu, new Linear(4, 2));
    await expect(loadLatestCheckpoint(dir, { model: other })).rejects.toThrow(/'0.weight' is F32\[3, 8\] in the source, f32\[3, 4\]/);
    await expect(loadLatestCheckpoint(dir, { optimizer: makeOptimizer(model) })).rejects.toThrow(/holds no state for optimizer 'optim' \(metadata 'optimizer_step'\)/);
    model.dispose();
    other.dispose();
  });

  it('exports the newest weights without optimizer state, loadable as a run', async () => {
    const dir = join(root, 'export-src'), out = join(root, 'export-out');
    const model = makeModel(5);
    const opt = makeOptimizer(model);
    for (let s = 0; s < 2; s++) trainStep(model, opt, s);
    await saveCheckpoint(dir, { model, optimizer: opt, step: 1, config: { note: 'c' }, rng: [1, 2] });
    for (let s = 2; s < 4; s++) trainStep(model, opt, s);
    await saveCheckpoint(dir, { model, optimizer: opt, step: 3, config: { note: 'c' }, rng: [1, 2] });
    const path = await exportWeights(dir, out);
    expect(path).toBe(join(out, 'ckpt-000003.safetensors'));
    const d = decodeSafetensors(new Uint8Array(await readFile(path)));
    expect(Object.keys(d.tensors).length).toBeGreaterThan(0);
    expect(Object.keys(d.tensors).every((k) => k.startsWith('model.'))).toBe(true);
    expect(Object.keys(d.metadata).sort()).toEqual(['config', 'format', 'source_checksum', 'step']);
    // the copy names the checkpoint it came from: caches and priors made from either match
    expect(checkpointChecksum(path)).toBe(fileChecksum(join(dir, 'ckpt-000003.safetensors')));
    expect(fileChecksum(path)).not.toBe(fileChecksum(join(dir, 'ckpt-000003.safetensors')));
    const fresh = makeModel(6);
    const loaded = await loadLatestCheckpoint(out, { model: fresh });
    expect(loaded?.step).toBe(3);
    const [a, b] = [model.stateDict(), fresh.stateDict()];
    for (const k of Object.keys(a)) expect(await b[k].toArray()).toEqual(await a[k].toArray());
    await expect(exportWeights(join(root, 'nothing-here'), out)).rejects.toThrow(/holds no checkpoint/);
    // the run folder itself as the copy's: refused, the run (and its optimizer state) untouched
    const before = fileChecksum(join(dir, 'ckpt-000003.safetensors'));
    await expect(exportWeights(dir, join(dir, '.', ''))).rejects.toThrow(/is the run folder itself/);
    expect(fileChecksum(join(dir, 'ckpt-000003.safetensors'))).toBe(before);
    // --f16: half the bytes, every weight stored as F16 and widened on load to within half's rounding
    const out16 = join(root, 'export-f16');
    const path16 = await exportWeights(dir, out16, { f16: true });
    expect(checkpointChecksum(path16)).toBe(checkpointChecksum(path));
    const d16 = decodeSafetensors(new Uint8Array(await readFile(path16)));
    expect(Object.values(d16.tensors).every((t) => t.dtype === 'F16')).toBe(true);
    const half = makeModel(7);
    await loadLatestCheckpoint(out16, { model: half });
    const h = half.stateDict();
    for (const k of Object.keys(a)) {
      const [x, y] = [await a[k].toArray(), await h[k].toArray()];
      for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -11 + 2 ** -25);
      expect(y).not.toEqual(x); // rounded, so not bit-equal: the F16 path did run
    }
    half.dispose();
    opt.dispose();
    model.dispose();
    fresh.dispose();
  });
});
