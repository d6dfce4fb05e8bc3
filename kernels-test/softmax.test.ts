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
  // Short rows take the thread-per-row schedule (its vec4 entry where rows are whole vec4s), few long
  // rows the workgroup-per-row one.
  const shapes: [number, number][] = [[1, 1], [1, 3], [5, 3], [7, 1000], [2, 5000], [300, 17], [70000, 3], [1, 4], [300, 16], [130, 260]];
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

  it('causal rows (causalSoftmax): each row over its keys j ≤ q + off, 0 past them, never read there; in chunks too', async () => {
    // [B, Tq, Tk, off]: the thread schedule (vec4 rows where Tk % 4 = 0: rows ending on every lane of
    // a vec4); few long rows (the workgroup schedule on CPUs)
    const cases: [number, number, number, number][] = [[2, 5, 9, 4], [3, 7, 7, 0], [1, 3, 300, 297], [4, 40, 40, 0], [3, 9, 12, 3], [2, 70, 72, 2]];
    for (const cap of [null, 4096]) {
      vq.runtime().bindingCap = cap; // 4 KiB: [4, 40, 40] in chunks of rows, whose first row is not query 0
      try {
        for (const [B, tq, tk, off] of cases) {
          const rng = new Rng(tq * tk + off);
          const rows = B * tq, live = (r: number) => Math.min(tk, (r % tq) + off + 1);
          const xs = rng.array(rows * tk, 3), gs = rng.array(rows * tk);
          for (let r = 0; r < rows; r++) for (let j = live(r); j < tk; j++) xs[r * tk + j] = gs[r * tk + j] = NaN; // never read
          const x = vq.tensor(xs, [B, tq, tk], { requiresGrad: true });
          const y = vq.causalSoftmax(x, off);
          vq.backward(y, vq.tensor(gs, [B, tq, tk]));
          const [got, dx] = [(await y.toArray()) as Float32Array, (await x.grad!.toArray()) as Float32Array];
          for (let r = 0; r < rows; r++) {
            const n = live(r), row = (a: Float32Array) => a.subarray(r * tk, r * tk + n);
            const want = softmaxRows(row(xs), 1, n), wantDx = softmaxRowsGrad(want, row(gs), 1, n, false);
            const at = firstMismatch(row(got), want, 1e-5, 1e-4), at2 = firstMismatch(row(dx), wantDx, 1e-5, 1e-3);
            expect(at, `cap ${cap} [${B}, ${tq}, ${tk}] off ${off}: y row ${r}`).toBe(-1);
            expect(at2, `cap ${cap} [${B}, ${tq}, ${tk}] off ${off}: dx row ${r}`).toBe(-1);
            for (let j = n; j < tk; j++) expect(got[r * tk + j] === 0 && dx[r * tk + j] === 0, `row ${r} key ${j}`).toBe(true);
          }
          for (const t of [x, y]) t.dispose();
        }
      } finally {
        vq.runtime().bindingCap = null;
      }
    }
    expect(() => vq.causalSoftmax(vq.zeros([4, 5]), -1)).toThrow(/causal rows/);
  });

  it('rejects integer tensors and scalars', () => {
    expect(() => vq.softmax(vq.tensor(new Int32Array([1, 2])))).toThrow(/f32/);
    expect(() => vq.softmax(vq.tensor([1], []))).toThrow(/scalar/);
  });
});
