// encodeImages with `flip` (vqgpu encode --flip): every training image's mirror becomes one more
// training grid, right after its batch, keyed KEY#flip with the original's label; held-out images are
// never mirrored. With `shift` (encode --shift N) every training image and mirror also moved to its 8
// neighbouring positions (KEY#shift=DX,DY). The reference: the same tokenizer encoding images
// mirrored and moved here, pixel by pixel.

import { beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../src/autograd/tape.js';
import { init } from '../src/device/runtime.js';
import { BatchLoader } from '../src/data/batch-loader.js';
import type { DataSet } from '../src/data/dataset.js';
import { drawSynthetic } from '../src/data/synthetic.js';
import { defaultTokenizerConfig } from '../src/models/tokenizer/config.js';
import { encodeImages, flippedKey, shiftedKey } from '../src/models/tokenizer/batched-codec.js';
import { VQVAE } from '../src/models/tokenizer/vqvae.js';
import { manualSeed } from '../src/nn/init.js';
import { tensor } from '../src/tensor/tensor.js';

beforeAll(async () => {
  await init();
});

const SIZE = 16, GRID = 4;

/** 11 synthetic images (items 1, 4, 7, 10 held out), labels i % 3, in batches of `batch`. */
function loader(batch: number): BatchLoader {
  const data: DataSet = {
    name: 'synthetic', root: '', labels: ['a', 'b', 'c'],
    items: Array.from({ length: 11 }, (_, i) => ({ path: `synthetic:${i}`, key: `s/${i}`, label: i % 3, heldout: i % 3 === 1 })),
  };
  return new BatchLoader(data, { size: SIZE, batch, split: 'all' }, (it) => drawSynthetic(Number(it.key.slice(2)), SIZE));
}

/** Planar [3, S, S] mirrored left to right (x → S − 1 − x). */
function mirror(img: Float32Array): Float32Array {
  const out = new Float32Array(img.length);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) out[c * SIZE * SIZE + y * SIZE + x] = img[c * SIZE * SIZE + y * SIZE + SIZE - 1 - x];
  return out;
}

/** Planar [3, S, S] moved by (dx, dy) pixels (right, down), white (1) where nothing moved in. */
function move(img: Float32Array, dx: number, dy: number): Float32Array {
  const out = new Float32Array(img.length).fill(1);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < SIZE; y++)
      for (let x = 0; x < SIZE; x++) {
        const [sx, sy] = [x - dx, y - dy];
        if (sx >= 0 && sx < SIZE && sy >= 0 && sy < SIZE) out[c * SIZE * SIZE + y * SIZE + x] = img[c * SIZE * SIZE + sy * SIZE + sx];
      }
  return out;
}

describe('encodeImages with flip', () => {
  it('adds one mirrored training grid per training image, equal to encoding the mirrored image', async () => {
    manualSeed(4);
    const model = new VQVAE(defaultTokenizerConfig({ size: SIZE, grid: GRID, codebook: 16, width: 8, codeDim: 4 }));
    const plain = await encodeImages(model, loader(4));
    const flipped = await encodeImages(model, loader(4), { flip: true });
    const per = GRID * GRID;
    const train = plain.items.filter((it) => it.split === 'train');
    expect(flipped.items.length).toBe(plain.items.length + train.length);
    expect(flipped.tokens.length).toBe(flipped.items.length * per);
    // every original item keeps its grid; every training one has a mirror with its label, in the training split
    const at = new Map(flipped.items.map((it, i) => [it.key, i]));
    for (const [i, it] of plain.items.entries()) {
      const j = at.get(it.key)!;
      expect(flipped.items[j]).toEqual(it);
      expect(Array.from(flipped.tokens.subarray(j * per, (j + 1) * per))).toEqual(Array.from(plain.tokens.subarray(i * per, (i + 1) * per)));
      const m = at.get(flippedKey(it.key));
      if (it.split === 'heldout') {
        expect(m).toBeUndefined();
        continue;
      }
      expect(flipped.items[m!]).toEqual({ key: flippedKey(it.key), split: 'train', label: it.label });
      const img = drawSynthetic(Number(it.key.slice(2)), SIZE).data;
      const t = noGrad(() => model.encode(tensor(mirror(img), [1, 3, SIZE, SIZE])));
      const ref = (await t.toArray()) as Int32Array;
      t.dispose();
      expect(Array.from(flipped.tokens.subarray(m! * per, (m! + 1) * per)), it.key).toEqual(Array.from(ref));
    }
    // the mirror of an asymmetric image is another grid (a mirror that copied its original would pass the rest)
    const differs = train.filter((it) => {
      const [i, m] = [at.get(it.key)!, at.get(flippedKey(it.key))!];
      return flipped.tokens.subarray(i * per, (i + 1) * per).some((t, k) => t !== flipped.tokens[m * per + k]);
    });
    expect(differs.length).toBeGreaterThan(0);
    model.dispose();
  });

  it('with shift 2, adds each training image and its mirror moved to the 8 neighbouring positions, each equal to encoding the moved image', async () => {
    manualSeed(5);
    const model = new VQVAE(defaultTokenizerConfig({ size: SIZE, grid: GRID, codebook: 16, width: 8, codeDim: 4 }));
    const plain = await encodeImages(model, loader(4));
    const moved = await encodeImages(model, loader(4), { flip: true, shift: 2 });
    const per = GRID * GRID;
    const train = plain.items.filter((it) => it.split === 'train');
    expect(moved.items.length).toBe(plain.items.length + 17 * train.length);
    expect(new Set(moved.items.map((it) => it.key)).size).toBe(moved.items.length);
    const at = new Map(moved.items.map((it, i) => [it.key, i]));
    let differs = 0;
    for (const it of plain.items) {
      for (const flip of [false, true])
        for (const dy of [-2, 0, 2])
          for (const dx of [-2, 0, 2]) {
            if (!flip && !dx && !dy) continue;
            const key = dx || dy ? shiftedKey(flip ? flippedKey(it.key) : it.key, dx, dy) : flippedKey(it.key);
            const m = at.get(key);
            if (it.split === 'heldout') {
              expect(m, key).toBeUndefined();
              continue;
            }
            expect(moved.items[m!]).toEqual({ key, split: 'train', label: it.label });
            const src = drawSynthetic(Number(it.key.slice(2)), SIZE).data;
            const t = noGrad(() => model.encode(tensor(move(flip ? mirror(src) : src, dx, dy), [1, 3, SIZE, SIZE])));
            const ref = (await t.toArray()) as Int32Array;
            t.dispose();
            const got = moved.tokens.subarray(m! * per, (m! + 1) * per);
            expect(Array.from(got), key).toEqual(Array.from(ref));
            const i = at.get(it.key)!;
            if (got.some((t, k) => t !== moved.tokens[i * per + k])) differs++;
          }
    }
    // moved grids are other grids (a move that copied its original would pass the rest)
    expect(differs).toBeGreaterThan(train.length);
    model.dispose();
  });
});
