// The two walks of the strided elementwise kernels (unary.wgsl and binary.wgsl: `main`, one
// invocation per element, and `main_rows`, one per row of the innermost dimension; ops/launch.ts
// `stridedWalk`), each forced, against reference-layout.ts: permuted and sliced copies (inner
// stride 1 and not), a copy into a strided destination, a unary op and a broadcast binary op on
// permuted views, and the shapes where the row walk must not be taken.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { stridedWalk, walkByRows } from '../src/ops/launch.js';
import { copyInto } from '../src/ops/layout.js';
import { expectAll, randomHost } from './expect-tensor.js';
import { Rng } from './reference.js';
import { broadcastTo, permute, slice } from './reference-layout.js';

beforeAll(async () => {
  await vq.init();
});
afterEach(() => {
  stridedWalk.mode = 'auto';
});

const rng = new Rng(21);

for (const mode of ['rows', 'elements'] as const) {
  describe(`strided walk by ${mode}`, () => {
    it('permuted, sliced and transposed copies; a copy into a strided destination', async () => {
      stridedWalk.mode = mode;
      const h = randomHost(rng, [3, 5, 4, 7]);
      const x = vq.tensor(Float32Array.from(h.data), h.shape);
      const into = vq.zeros([7, 4, 5, 3]);
      copyInto(x, vq.permute(into, [3, 2, 1, 0])); // writes through strides: into = xᵀ
      await expectAll([
        { t: vq.contiguous(vq.permute(x, [0, 2, 1, 3])), ref: permute(h, [0, 2, 1, 3]), label: 'permute [0, 2, 1, 3] (inner stride 1: a head split)' },
        { t: vq.contiguous(vq.permute(x, [3, 1, 0, 2])), ref: permute(h, [3, 1, 0, 2]), label: 'permute [3, 1, 0, 2] (inner stride 7)' },
        { t: vq.contiguous(vq.slice(x, 3, 2, 6)), ref: slice(h, 3, 2, 6), label: 'slice of the last axis' },
        { t: vq.contiguous(vq.slice(vq.permute(x, [1, 0, 3, 2]), 0, 1, 4)), ref: slice(permute(h, [1, 0, 3, 2]), 0, 1, 4), label: 'slice of a permuted view' },
        { t: into, ref: permute(h, [3, 2, 1, 0]), label: 'copyInto a permuted view' },
      ]);
    });

    it('a unary op and a broadcast binary op on permuted views', async () => {
      stridedWalk.mode = mode;
      const h = randomHost(rng, [4, 6, 5]), hb = randomHost(rng, [5]);
      const x = vq.tensor(Float32Array.from(h.data), h.shape), b = vq.tensor(Float32Array.from(hb.data), hb.shape);
      const px = permute(h, [1, 0, 2]);
      const ex = { data: Float64Array.from(px.data, Math.exp), shape: px.shape };
      const bb = broadcastTo(hb, px.shape);
      const sum = { data: Float64Array.from(px.data, (v, i) => v + bb.data[i]), shape: px.shape };
      const xt = permute(h, [0, 2, 1]);
      const bt = broadcastTo({ data: hb.data, shape: [1, 5, 1] }, xt.shape);
      const prod = { data: Float64Array.from(xt.data, (v, i) => v * bt.data[i]), shape: xt.shape };
      await expectAll([
        { t: vq.exp(vq.permute(x, [1, 0, 2])), ref: ex, label: 'exp of a permuted view' },
        { t: vq.add(vq.permute(x, [1, 0, 2]), b), ref: sum, label: 'permuted view + a broadcast bias' },
        { t: vq.mul(vq.permute(x, [0, 2, 1]), vq.reshape(b, [1, 5, 1])), ref: prod, label: 'transposed view × a bias broadcast over the inner axis' },
      ]);
    });
  });
}

describe('the choice of walk', () => {
  it('a rank-1 walk never goes by rows; forced modes win over the adapter', () => {
    stridedWalk.mode = 'rows';
    expect(walkByRows([64])).toBe(false);
    expect(walkByRows([8, 64])).toBe(true);
    stridedWalk.mode = 'elements';
    expect(walkByRows([8, 64])).toBe(false);
  });
});
