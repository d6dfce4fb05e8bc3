import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { gradcheck } from './gradcheck.js';
import { firstMismatch, Rng } from './reference.js';
import { softmaxRows, softmaxRowsGrad } from './softmax.reference.js';

beforeAll(async () => {
  await vq.init();
});

/** Runs softmax/logSoftmax forward and backward (with a given g) on [rows, len]; compares with the reference. */
async function check(rows: number, len: number, log: boolean, seed = 1): Promise<void> {
  const rng = new Rng(seed);
  const xs = rng.array(rows * len, 3);
  const gs = rng.array(rows * len);
  const x = vq.tensor(xs, [rows, len]);
  x.requiresGrad = true;
  const y = log ? vq.logSoftmax(x) : vq.softmax(x);
  vq.backward(y, vq.tensor(gs, [rows, len]));
  const want = softmaxRows(xs, rows, len, log);
  const got = (await y.toArray()) as Float32Array;
  const at = firstMismatch(got, want, 1e-5, 1e-4);
  expect(at, `y[${at}] = ${got[at]}, want ${want[at]} (${rows}x${len})`).toBe(-1);
  const wantDx = softmaxRowsGrad(want, gs, rows, len, log);
  const dx = (await x.grad!.toArray()) as Float32Array;
  const at2 = firstMismatch(dx, wantDx, 1e-5, 1e-3);
  expect(at2, `dx[${at2}] = ${dx[at2]}, want ${wantDx[at2]} (${rows}x${len})`).toBe(-1);
}

describe('softmax', () => {
  // Short rows take the thread-per-row schedule, few long rows the workgroup-per-row one.
  const shapes: [number, number][] = [[1, 1], [1, 3], [5, 3], [7, 1000], [2, 5000], [300, 17], [70000, 3]];
  for (const [rows, len] of shapes) {
    it(`softmax and logSoftmax match the reference on [${rows}, ${len}]`, async () => {
      await check(rows, len, false);
      await check(rows, len, true, 2);
    });
  }

  it('handles more rows than one grid dimension holds (2-D grid)', async () => {
    const rows = 65535 * 64 + 77; // past maxComputeWorkgroupsPerDimension workgroups of 64 rows
    const x = vq.tensor(new Float32Array(rows), [rows, 1]);
    const y = vq.softmax(x);
    const ly = vq.logSoftmax(x);
    expect(((await y.toArray()) as Float32Array).every((v) => v === 1)).toBe(true);
    expect(((await ly.toArray()) as Float32Array).every((v) => v === 0)).toBe(true);
    for (const t of [x, y, ly]) t.dispose();
  });

  it('is stable for large logits and sums to one', async () => {
    const x = vq.tensor([1000, 1001, 1002, -1000, 0, 1000], [2, 3]);
    const y = (await vq.softmax(x).toArray()) as Float32Array;
    const want = softmaxRows(new Float32Array([1000, 1001, 1002, -1000, 0, 1000]), 2, 3);
    expect(firstMismatch(y, want)).toBe(-1);
    expect(y.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('works along a non-last axis', async () => {
    const rng = new Rng(5);
    const [a, b, c] = [3, 4, 5];
    const xs = rng.array(a * b * c);
    const y = (await vq.softmax(vq.tensor(xs, [a, b, c]), 1).toArray()) as Float32Array;
    // reference: move axis 1 last, softmax rows, move back
    const t = new Float32Array(xs.length);
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) t[(i * c + k) * b + j] = xs[(i * b + j) * c + k];
    const r = softmaxRows(t, a * c, b);
    const want = new Float32Array(xs.length);
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < c; k++) want[(i * b + j) * c + k] = r[(i * c + k) * b + j];
    expect(firstMismatch(y, want)).toBe(-1);
  });

  it('gradients match finite differences', async () => {
    const rng = new Rng(9);
    await gradcheck((x) => vq.softmax(x), [{ data: rng.array(15), shape: [3, 5] }]);
    await gradcheck((x) => vq.softmax(x, 0), [{ data: rng.array(15), shape: [3, 5] }]);
    await gradcheck((x) => vq.logSoftmax(x), [{ data: rng.array(28), shape: [4, 7] }]);
    await gradcheck((x) => vq.logSoftmax(x, 1), [{ data: rng.array(24), shape: [2, 3, 4] }]);
    await gradcheck((x) => vq.logSoftmax(x), [{ data: rng.array(600), shape: [2, 300] }], { maxChecks: 6 });
  });

  it('rejects integer tensors and scalars', () => {
    expect(() => vq.softmax(vq.tensor(new Int32Array([1, 2])))).toThrow(/f32/);
    expect(() => vq.softmax(vq.tensor([1], []))).toThrow(/scalar/);
  });
});
