// pixelUnshuffle / pixelShuffle (ops/pixel-shuffle.ts) against an index-by-index host reference
// (PyTorch's channel order), their inverse relation, gradients and errors. p = 2 on half-size rows
// of an even width takes the pixel_shuffle.wgsl kernels ([2, 3, 4, 8], [1, 2, 6, 4], the gradient
// checks), other shapes the general permute.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { expectAll } from './expect-tensor.js';
import { gradcheck } from './gradcheck.js';
import { Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

/** x [N, C, H, W] → [N, C·p², H/p, W/p]: out[n, c·p² + i·p + j, y, x] = in[n, c, y·p + i, x·p + j]. */
function unshuffleRef(x: Float32Array, [n, c, h, w]: number[], p: number): Float64Array {
  const out = new Float64Array(x.length);
  const ho = h / p, wo = w / p;
  for (let b = 0; b < n; b++)
    for (let ch = 0; ch < c; ch++)
      for (let i = 0; i < p; i++)
        for (let j = 0; j < p; j++)
          for (let y = 0; y < ho; y++)
            for (let xx = 0; xx < wo; xx++) {
              const o = (((b * c + ch) * p * p + i * p + j) * ho + y) * wo + xx;
              out[o] = x[((b * c + ch) * h + y * p + i) * w + xx * p + j];
            }
  return out;
}

describe('pixelUnshuffle and pixelShuffle', () => {
  const rng = new Rng(21);
  for (const [shape, p] of [[[2, 3, 4, 6], 2], [[2, 3, 4, 8], 2], [[1, 2, 6, 4], 2], [[1, 2, 9, 3], 3], [[3, 1, 4, 4], 4], [[1, 5, 2, 2], 1]] as [number[], number][]) {
    it(`${p}×${p} patches of [${shape}]: the reference's channel order, and shuffle inverts it`, async () => {
      const data = rng.array(shape.reduce((a, b) => a * b, 1));
      const data64 = Float64Array.from(data);
      const [n, c, h, w] = shape;
      const ref = unshuffleRef(data, shape, p);
      const x = vq.tensor(data, shape);
      const u = vq.pixelUnshuffle(x, p);
      // also from a strided input: the transpose of a transposed copy holds the same values
      const strided = vq.transpose(vq.contiguous(vq.transpose(x)));
      await expectAll([
        { t: u, ref: { data: ref, shape: [n, c * p * p, h / p, w / p] }, label: 'unshuffle' },
        { t: vq.pixelUnshuffle(strided, p), ref: { data: ref, shape: [n, c * p * p, h / p, w / p] }, label: 'unshuffle of a strided view' },
        { t: vq.pixelShuffle(u, p), ref: { data: data64, shape }, label: 'shuffle(unshuffle(x))' },
      ]);
      x.dispose();
    });
  }

  it('gradients flow through both (finite differences)', async () => {
    const rng2 = new Rng(22);
    await gradcheck((x) => vq.square(vq.pixelUnshuffle(x, 2)), [{ data: rng2.array(2 * 2 * 4 * 4), shape: [2, 2, 4, 4] }], { maxChecks: 16 });
    await gradcheck((x) => vq.square(vq.pixelShuffle(x, 2)), [{ data: rng2.array(1 * 8 * 3 * 2), shape: [1, 8, 3, 2] }], { maxChecks: 16 });
  });

  it('errors name the shapes', () => {
    expect(() => vq.pixelUnshuffle(vq.zeros([1, 3, 5, 4]), 2)).toThrow(/\[1, 3, 5, 4\] does not split into 2×2 patches/);
    expect(() => vq.pixelUnshuffle(vq.zeros([3, 4, 4]), 2)).toThrow(/expects \[N, C, H, W\]/);
    expect(() => vq.pixelShuffle(vq.zeros([1, 6, 2, 2]), 2)).toThrow(/6 channels .* not a multiple of 2² = 4/);
  });
});
