// eval-samples' row scoring (src/eval/sample-quality.ts) on constructed feature sets: the held-out
// set scored as a row has nn_ratio 1 by construction; class accuracy skips unlabelled items; copies
// and recall use what the row is given.
import { describe, expect, it } from 'vitest';
import { qualityReference, qualityRow } from '../src/eval/sample-quality.js';
import { Rng } from './reference.js';

function gaussian(n: number, d: number, seed: number, shift = 0): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * d }, () => rng.normal() + shift);
}

describe('sample-quality rows', () => {
  const d = 4;
  const train = { features: gaussian(300, d, 1), n: 300 };
  const heldout = { features: gaussian(60, d, 2), n: 60 };
  const ref = qualityReference(train, heldout, d, 60);

  it('scores the held-out set itself as nn_ratio 1 and near-zero KID; a shifted set far worse', () => {
    const own = qualityRow(ref, { set: heldout });
    expect(own.nn_ratio).toBeCloseTo(1, 12);
    expect(own.n).toBe(60);
    expect(own.class_accuracy).toBeNull();
    expect(own.copies).toBeNull();
    const far = qualityRow(ref, { set: { features: gaussian(60, d, 3, 3), n: 60 } });
    expect(far.kid).toBeGreaterThan(20 * Math.abs(own.kid) + 0.1);
    expect(far.precision).toBeLessThan(own.precision);
    expect(far.recall).toBeLessThan(own.recall);
    expect(far.nn_ratio).toBeGreaterThan(2);
  });

  it('counts class accuracy over labelled items only, and copies of training grids', () => {
    const set = { features: heldout.features.subarray(0, 4 * d), n: 4 };
    const row = qualityRow(ref, {
      set,
      classes: { wanted: Int32Array.from([0, 1, -1, 2]), predicted: Int32Array.from([0, 2, 5, 2]) },
      grids: { samples: Int32Array.from([1, 2, 3, 4, 1, 2, 9, 9]), train: Int32Array.from([9, 9, 3, 4]), nTrain: 2, L: 2 },
    });
    expect(row.class_accuracy).toBeCloseTo(2 / 3, 12);
    expect(row.copies).toBeCloseTo(0.5, 12);
  });

  it('takes recall on recallSize rows: a larger set of the same points gives the same recall', () => {
    const big = { features: new Float32Array([...heldout.features, ...gaussian(200, d, 4)]), n: 260 };
    expect(qualityRow(ref, { set: big }).recall).toBeCloseTo(qualityRow(ref, { set: heldout }).recall, 12);
  });
});
