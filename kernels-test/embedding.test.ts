import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { embeddingGradRef, embeddingRef } from './embedding.reference.js';
import { gradcheck } from './gradcheck.js';
import { firstMismatch, Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

/** Lookup and table gradient for indices of `idxShape` into a [vocab, dim] table, against the reference. */
async function check(idxShape: number[], vocab: number, dim: number, idxs: Int32Array, seed = 1): Promise<Float32Array> {
  const rng = new Rng(seed);
  const n = idxs.length;
  const gs = rng.array(n * dim); // drawn first: the same seed gives the same g for any table size
  const tab = rng.array(vocab * dim);
  const table = vq.tensor(tab, [vocab, dim]);
  table.requiresGrad = true;
  const out = vq.embedding(vq.tensor(idxs, idxShape), table);
  expect(out.shape).toEqual([...idxShape, dim]);
  vq.backward(out, vq.tensor(gs, out.shape));
  const got = (await out.toArray()) as Float32Array;
  const want = embeddingRef(idxs, tab, vocab, dim);
  expect(firstMismatch(got, want, 0, 0)).toBe(-1); // a gather is exact
  const dt = (await table.grad!.toArray()) as Float32Array;
  const wantDt = embeddingGradRef(idxs, gs, vocab, dim);
  const at = firstMismatch(dt, wantDt, 1e-5, 1e-4);
  expect(at, `dtable[${at}] = ${dt[at]}, want ${wantDt[at]}`).toBe(-1);
  return dt;
}

describe('embedding', () => {
  it('looks up and scatters with repeated indices (tiled schedule)', async () => {
    const rng = new Rng(2);
    // N ≥ V/32: the workgroup-per-vocabulary-tile scatter; V not a multiple of 32, D not of 64.
    await check([7, 9], 70, 5, Int32Array.from({ length: 63 }, () => rng.int(70)));
    await check([300], 33, 130, Int32Array.from({ length: 300 }, () => rng.int(4))); // heavy repeats
    await check([1], 1, 1, Int32Array.from([0]));
  });

  it('looks up and scatters with few indices into a large table (sparse schedule)', async () => {
    await check([2, 3], 1000, 7, Int32Array.from([5, 999, 5, 0, 5, 999]));
  });

  it('gives zeros and no gradient for out-of-range indices', async () => {
    await check([6], 40, 3, Int32Array.from([-1, 40, 3, 1 << 30, 3, -7])); // tiled (6 ≥ 40/32)
    await check([3], 1000, 3, Int32Array.from([-1, 1000, 3])); // sparse
  });

  it('the table gradient is bit-reproducible and equal across schedules', async () => {
    const rng = new Rng(4);
    const idxs = Int32Array.from({ length: 40 }, () => rng.int(3) * 31);
    // vocab 1300: 40 < 1300/32 → sparse; vocab 1200 → tiled. Rows < 1200 have the same sums.
    const a = await check([40], 1300, 9, idxs, 8);
    const b = await check([40], 1300, 9, idxs, 8);
    const c = await check([40], 1200, 9, idxs, 8);
    expect(Array.from(a)).toEqual(Array.from(b));
    // The same g (seed 8) and indices, a different table size: identical row sums bit for bit.
    expect(Array.from(c.subarray(0, 100 * 9))).toEqual(Array.from(a.subarray(0, 100 * 9)));
  });

  it('table gradient matches finite differences', async () => {
    const rng = new Rng(5);
    const idx = vq.tensor(Int32Array.from([1, 3, 1, 0, 1]), [5]);
    await gradcheck((t) => vq.embedding(idx, t), [{ data: rng.array(12), shape: [4, 3] }]);
  });

  it('rejects bad dtypes and shapes', () => {
    const t = vq.tensor(new Float32Array(6), [3, 2]);
    expect(() => vq.embedding(vq.tensor([0, 1]), t)).toThrow(/indices must be i32/);
    expect(() => vq.embedding(vq.tensor(Int32Array.from([0])), vq.tensor([1, 2]))).toThrow(/\[V, D\]/);
  });
});
