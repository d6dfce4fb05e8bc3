import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { gatherLastGradRef, gatherLastRef } from './gather.reference.js';
import { gradcheck } from './gradcheck.js';
import { firstMismatch, Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

describe('gatherLast', () => {
  const cases: [number[], number][] = [[[1], 1], [[5], 3], [[2, 3], 1000], [[70000], 7]];
  for (const [lead, len] of cases) {
    it(`picks and scatters on [${lead}, ${len}]`, async () => {
      const rng = new Rng(len);
      const rows = lead.reduce((a, b) => a * b, 1);
      const xs = rng.array(rows * len);
      const gs = rng.array(rows);
      const idxs = Int32Array.from({ length: rows }, (_, r) => (r % 11 === 10 ? -1 : r % 13 === 12 ? len : rng.int(len)));
      const x = vq.tensor(xs, [...lead, len]);
      x.requiresGrad = true;
      const y = vq.gatherLast(x, vq.tensor(idxs, lead));
      expect(y.shape).toEqual(lead);
      vq.backward(y, vq.tensor(gs, lead));
      expect(firstMismatch((await y.toArray()) as Float32Array, gatherLastRef(xs, idxs, len), 0, 0)).toBe(-1);
      expect(firstMismatch((await x.grad!.toArray()) as Float32Array, gatherLastGradRef(gs, idxs, len), 0, 0)).toBe(-1);
    });
  }

  it('composes into a cross-entropy with the right gradient', async () => {
    const rng = new Rng(3);
    const target = vq.tensor(Int32Array.from([2, 0, 4]), [3]);
    await gradcheck((x) => vq.neg(vq.gatherLast(vq.logSoftmax(x), target)), [{ data: rng.array(15), shape: [3, 5] }]);
  });

  it('rejects mismatched shapes', () => {
    const x = vq.tensor(new Float32Array(6), [2, 3]);
    expect(() => vq.gatherLast(x, vq.tensor(Int32Array.from([0, 1, 2])))).toThrow(/idx must be i32 \[2\]/);
    expect(() => vq.gatherLast(x, vq.tensor([0, 1]))).toThrow(/i32/);
  });
});
