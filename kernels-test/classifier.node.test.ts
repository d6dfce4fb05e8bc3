// The image classifier of the sample-quality metrics and its classes: a folder's immediate
// subfolders are its classes (images directly in it have label -1), small classes are dropped
// (src/node/dataset.ts), class names travel by name into the token cache; the CNN
// (src/models/classifier/) overfits a tiny synthetic batch, embeds in batches, and its config and
// weights round-trip through a checkpoint (src/node/classifier-run.ts).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawSynthetic } from '../src/data/synthetic.js';
import { decodeTokenCache, encodeTokenCache } from '../src/data/token-cache.js';
import { init } from '../src/device/runtime.js';
import { Classifier, classify, embedImages } from '../src/models/classifier/classifier.js';
import { makeClassifierConfig } from '../src/models/classifier/config.js';
import { manualSeed } from '../src/nn/init.js';
import { saveCheckpoint } from '../src/node/checkpoint.js';
import { loadClassifierRun } from '../src/node/classifier-run.js';
import { dropSmallClasses, folderDataSet, syntheticDataSet, type DataSet } from '../src/node/dataset.js';
import { ClassifierTrainer, scorePredictions } from '../src/train/classifier-trainer.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vqgpu-cls-'));
  dirs.push(d);
  return d;
}
beforeAll(async () => {
  await init();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function png(): Buffer {
  const img = new PNG({ width: 4, height: 4 });
  img.data.fill(200);
  return PNG.sync.write(img);
}

/** Synthetic images 0..n-1 at `size` px, NCHW, and their labels (disc 0, bar 1). */
function syntheticBatch(n: number, size: number): { images: Float32Array; labels: Int32Array } {
  const per = 3 * size * size;
  const images = new Float32Array(n * per);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    images.set(drawSynthetic(i, size).data, i * per);
    labels[i] = i % 2;
  }
  return { images, labels };
}

describe('classes of a data set', () => {
  it('a folder: its immediate subfolders are the classes; images directly in it have label -1', () => {
    const root = tempDir();
    for (const p of ['cat/a.png', 'cat/deep/er/b.png', 'dog/c.png', 'loose.png', 'zebra/d.png']) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), png());
    }
    mkdirSync(join(root, 'empty-class')); // no images: no class
    mkdirSync(join(root, 'notes'));
    writeFileSync(join(root, 'notes', 'x.txt'), 'not an image'); // no images: no class
    const ds = folderDataSet(root);
    expect(ds.labels).toEqual(['cat', 'dog', 'zebra']);
    const label = Object.fromEntries(ds.items.map((it) => [it.key, it.label]));
    expect(label).toEqual({ 'cat/a.png': 0, 'cat/deep/er/b.png': 0, 'dog/c.png': 1, 'loose.png': -1, 'zebra/d.png': 2 });
  });

  it('a flat folder has no classes (every label -1)', () => {
    const root = tempDir();
    writeFileSync(join(root, 'a.png'), png());
    writeFileSync(join(root, 'b.png'), png());
    const ds = folderDataSet(root);
    expect(ds.labels).toEqual([]);
    expect(ds.items.map((it) => it.label)).toEqual([-1, -1]);
  });

  it('dropSmallClasses: classes below the minimum become -1, the rest keep their order, renumbered', () => {
    const counts = { a: 25, b: 3, c: 20, d: 19 } as Record<string, number>;
    const labels = Object.keys(counts);
    const items = labels.flatMap((name, li) => Array.from({ length: counts[name] }, (_, k) => ({ path: `${name}/${k}`, key: `${name}/${k}`, label: li, heldout: false })));
    items.push({ path: 'x', key: 'x', label: -1, heldout: false });
    const ds: DataSet = { name: 't', root: '', items, labels };
    const out = dropSmallClasses(ds, 20);
    expect(out.labels).toEqual(['a', 'c']);
    expect(out.dropped).toEqual([{ name: 'b', count: 3 }, { name: 'd', count: 19 }]);
    const byClass = (l: number) => out.items.filter((it) => it.label === l).map((it) => it.key.split('/')[0]);
    expect(new Set(byClass(0))).toEqual(new Set(['a']));
    expect(new Set(byClass(1))).toEqual(new Set(['c']));
    expect(byClass(-1).length).toBe(3 + 19 + 1);
    expect(ds.items[items.length - 2].label).toBe(3); // the input is not modified
  });

  it('the token cache stores the class names; item labels index them (and -1 survives)', () => {
    const root = tempDir();
    for (const p of ['b/1.png', 'a/2.png', 'top.png']) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), png());
    }
    const ds = folderDataSet(root);
    const items = ds.items.map((it) => ({ key: it.key, split: 'train' as const, label: it.label }));
    const bytes = encodeTokenCache({
      header: { version: 1, codebook: 4, grid: 1, tokenizer: { checksum: 'x', step: 0, path: 'x' }, labels: ds.labels, items },
      tokens: new Uint16Array(items.length),
    });
    const back = decodeTokenCache(bytes).header;
    const named = Object.fromEntries(back.items.map((it) => [it.key, it.label < 0 ? null : back.labels[it.label]]));
    expect(named).toEqual({ 'a/2.png': 'a', 'b/1.png': 'b', 'top.png': null });
  });
});

describe('classifier', () => {
  it('overfits a tiny synthetic batch (discs vs bars) in a few steps', async () => {
    manualSeed(1);
    const model = new Classifier(makeClassifierConfig({ size: 16, classes: syntheticDataSet().labels, widths: [16, 32, 32] }));
    const trainer = new ClassifierTrainer(model, { lr: 3e-3, weightDecay: 0, warmup: 5, totalSteps: 40, lrFinal: 0.1 });
    const { images, labels } = syntheticBatch(16, 16);
    const first = await (async () => {
      trainer.train(images, labels);
      return trainer.takeLoss();
    })();
    for (let s = 1; s < 40; s++) trainer.train(images, labels);
    const last = await trainer.takeLoss();
    model.eval();
    const pred = await classify(model, images, 16, 5);
    const score = scorePredictions(pred, labels, 2);
    expect(last).toBeLessThan(first * 0.5);
    expect(score.accuracy).toBeGreaterThanOrEqual(15 / 16);
    trainer.dispose();
    model.dispose();
  });

  it('embedImages: [n, F] features, the same in any batch size; input of the wrong size is refused', async () => {
    manualSeed(2);
    const model = new Classifier(makeClassifierConfig({ size: 16, classes: ['a', 'b', 'c'], widths: [8, 16] }));
    expect(model.featureDim).toBe(16);
    const { images } = syntheticBatch(7, 16);
    const a = await embedImages(model, images, 7, 3);
    const b = await embedImages(model, images, 7, 64);
    expect(a.length).toBe(7 * 16);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 4);
    expect(a.some((v) => v !== 0)).toBe(true);
    await expect(embedImages(model, images.subarray(0, 10), 7)).rejects.toThrow(/7 images of 3×16×16 need 5376 floats; got 10/);
    model.dispose();
  });

  it('config, class names and weights round-trip through a checkpoint (loadClassifierRun)', async () => {
    manualSeed(3);
    const cfg = makeClassifierConfig({ size: 16, classes: ['Flags', 'Food & Drink', 'Objects'], widths: [8, 16], depth: 1 });
    const model = new Classifier(cfg);
    const dir = tempDir();
    await saveCheckpoint(dir, { model, step: 7, config: { classifier: cfg, data: 'x' } });
    const { images } = syntheticBatch(4, 16);
    const want = await embedImages(model, images, 4);
    const wantClass = await classify(model, images, 4);
    const run = await loadClassifierRun(dir);
    expect(run.config).toEqual(cfg);
    expect(run.classes).toEqual(['Flags', 'Food & Drink', 'Objects']);
    expect(run.ckpt.step).toBe(7);
    expect(Array.from(await embedImages(run.model, images, 4))).toEqual(Array.from(want));
    expect(Array.from(await classify(run.model, images, 4))).toEqual(Array.from(wantClass));
    run.model.dispose();
    model.dispose();
  });

  it('loadClassifierRun refuses an empty folder and a run of another kind, naming it', async () => {
    const empty = tempDir();
    await expect(loadClassifierRun(empty)).rejects.toThrow(/holds no checkpoint \(expected a run folder made by `vqgpu train-classifier/);
    const other = tempDir();
    manualSeed(4);
    const model = new Classifier(makeClassifierConfig({ size: 16, classes: ['a', 'b'], widths: [8] }));
    await saveCheckpoint(other, { model, step: 1, config: { prior: { kind: 'vqgpu-prior', prior: 'ar', codebook: 16, grid: 4 } } });
    await expect(loadClassifierRun(other)).rejects.toThrow(/is a prior run .* but a classifier run made by `vqgpu train-classifier` is needed here/);
    model.dispose();
  });
});
