// Reductions (reduce.wgsl through ops/reduce.ts) against reference-reduce.ts: single, multiple
// and all axes, keepDims, strided inputs, scalars, ties (arg ops take the lowest index, max/min
// split the gradient), both kernel schedules (per_thread, per_group) including grids taller than
// one dimension holds, gradients and clear errors.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { expectAll, expectTensor, layouts, randomHost, upload, type Check } from './expect-tensor.js';
import { gradcheck } from './gradcheck.js';
import { Rng } from './reference.js';
import { reduce, type ReduceRefOp } from './reference-reduce.js';
import { host } from './reference-layout.js';

beforeAll(async () => {
  await vq.init();
});

const rng = new Rng(21);
/** Small integers: exact sums, and plenty of ties for max/min/argmax/argmin. */
const ints = () => Math.floor(rng.uniform() * 7) - 3;

const OPS: Record<ReduceRefOp, (t: vq.Tensor, axes?: number | number[], keepDims?: boolean) => vq.Tensor> = {
  sum: vq.sum, mean: vq.mean, max: vq.max, min: vq.min,
  argmax: (t, a, k) => vq.argmax(t, a as number, k), argmin: (t, a, k) => vq.argmin(t, a as number, k),
};

describe('reductions', () => {
  it('sum, mean, max, min over one, several and all axes (keepDims or not), dense and strided', async () => {
    const axesCases: (number[] | undefined)[] = [[0], [1], [-1], [2], [0, 2], [2, 0, 1], undefined, [1, 2]];
    const h = randomHost(rng, [3, 5, 67], ints);
    for (const l of layouts(h)) {
      const checks: Check[] = [];
      for (const op of ['sum', 'mean', 'max', 'min'] as const) {
        for (const [k, axes] of axesCases.entries()) {
          const keep = k % 2 === 1;
          const norm = axes?.map((a) => (a + 3) % 3);
          const label = `${op} over ${axes ? `[${axes}]` : 'all'} (keepDims ${keep}) of ${l.name}`;
          checks.push({ t: OPS[op](l.tensor, axes, keep), ref: reduce(l.ref, op, norm, keep), label });
        }
      }
      await expectAll(checks);
      l.tensor.dispose();
    }
  });

  it('sum and mean over leading axes with whole vec4s of kept elements (the column schedule on CPU adapters)', async () => {
    const cases: [number[], number[]][] = [[[6, 8], [0]], [[3, 5, 12], [0, 1]], [[3, 5, 12], [0]], [[2, 3, 4, 4], [0, 1]], [[513, 4], [0]]];
    const checks: Check[] = [];
    for (const [shape, axes] of cases) {
      const h = randomHost(rng, shape);
      const t = vq.tensor(h.data, shape);
      for (const op of ['sum', 'mean'] as const) {
        checks.push({ t: OPS[op](t, axes, false), ref: reduce(h, op, axes, false), label: `${op} over [${axes}] of [${shape}]` });
      }
    }
    await expectAll(checks);
  });

  it('argmax/argmin along each axis take the lowest index among ties', async () => {
    const h = randomHost(rng, [4, 6, 33], ints);
    for (const l of layouts(h)) {
      const checks: Check[] = [];
      for (const op of ['argmax', 'argmin'] as const) {
        for (const axis of [0, 1, 2, -1]) {
          for (const keep of [false, true]) {
            const y = OPS[op](l.tensor, axis, keep);
            expect(y.dtype).toBe('i32');
            checks.push({ t: y, ref: reduce(l.ref, op, [(axis + 3) % 3], keep), label: `${op} axis ${axis} (keepDims ${keep}) of ${l.name}` });
          }
        }
      }
      await expectAll(checks);
      l.tensor.dispose();
    }
  });

  it('work on scalars, size-1 and empty axes', async () => {
    const s = vq.tensor([-2.5], []);
    for (const op of ['sum', 'mean', 'max', 'min'] as const) await expectTensor(OPS[op](s), host([-2.5], []), `${op} of a scalar`);
    await expectTensor(vq.sum(s, 0), host([-2.5], []), 'sum of a scalar over axis 0');
    await expectTensor(vq.sum(s, -1, true), host([-2.5], []), 'sum of a scalar over axis -1');
    await expectTensor(vq.argmax(s), host([0], []), 'argmax of a scalar');
    const x = vq.tensor([1, 2, 3, 4, 5, 6], [2, 1, 3]);
    await expectTensor(vq.sum(x), host([21], []), 'sum of everything has shape []');
    await expectTensor(vq.max(x, 1), host([1, 2, 3, 4, 5, 6], [2, 3]), 'max over a size-1 axis');
    await expectTensor(vq.argmin(x, 1, true), host([0, 0, 0, 0, 0, 0], [2, 1, 3]), 'argmin over a size-1 axis');
    const e = vq.zeros([2, 0, 3]);
    await expectTensor(vq.sum(e, 1), host([0, 0, 0, 0, 0, 0], [2, 3]), 'sum over an empty axis');
    await expectTensor(vq.sum(e, 2), host([], [2, 0]), 'sum with no rows');
    expect(() => vq.max(e, 1)).toThrow(/max: cannot reduce over an empty axis of \[2, 0, 3\]/);
  });

  it('both schedules agree with the reference: few long rows, many short rows, > 65535 rows', async () => {
    const shapes: [number, number][] = [[1, 1], [3, 1000], [2, 4097], [500, 7], [64, 256], [70001, 3]];
    for (const [rows, len] of shapes) {
      const h = randomHost(rng, [rows, len], ints);
      const x = upload(h);
      const checks: Check[] = [];
      for (const schedule of ['per_thread', 'per_group'] as const) {
        for (const op of ['sum', 'max', 'min', 'argmax', 'argmin'] as const) {
          // Over 65535 rows the per-group schedule needs a 2-D grid: one op shows it indexes rows right.
          if (rows > 65535 && (schedule === 'per_thread' || op !== 'argmax')) continue;
          checks.push({ t: vq.reduceRows(x, op, schedule), ref: reduce(h, op, [1]), label: `${op} ${schedule} [${rows}, ${len}]` });
        }
      }
      await expectAll(checks);
      x.dispose();
    }
  });

  it('sums > 4M rows (2-D grid of the per-thread schedule)', async () => {
    const rows = 4_194_305; // > 65535 · 64
    const data = new Float32Array(rows);
    for (let i = 0; i < rows; i++) data[i] = (i % 13) - 6;
    const x = vq.tensor(data, [rows, 1]);
    const y = vq.reduceRows(x, 'max', 'per_thread');
    const got = await y.toArray();
    let bad = -1;
    for (let r = 0; r < rows && bad < 0; r++) if (got[r] !== data[r]) bad = r;
    expect(bad, `row ${bad}`).toBe(-1);
    x.dispose();
    y.dispose();
  });

  it('throw clear errors', () => {
    const x = vq.zeros([2, 3]);
    expect(() => vq.sum(x, 2)).toThrow(/sum: axis 2 is out of range for \[2, 3\]/);
    expect(() => vq.mean(x, [0, -3])).toThrow(/mean: axis -3 is out of range for \[2, 3\]/);
    expect(() => vq.argmax(x, 5)).toThrow(/argmax: axis 5 is out of range for \[2, 3\]/);
    expect(() => vq.sum(vq.tensor([1], []), 1)).toThrow(/sum: axis 1 is out of range for a scalar/);
    expect(() => vq.max(vq.zeros([3], 'i32'))).toThrow(/max: expects an f32 tensor, got i32 \[3\]/);
    expect(() => vq.reduceRows(vq.zeros([3]), 'sum')).toThrow(/reduceRows: expects a \[rows, len\] tensor, got \[3\]/);
    x.dispose();
    expect(() => vq.sum(x)).toThrow(/\[2, 3\] was used after dispose/);
  });
});

describe('reduction gradients', () => {
  const input = (shape: number[]) => ({ data: Float32Array.from(randomHost(rng, shape).data), shape });
  /** Distinct values at least 0.1 apart: no ties within finite-difference reach. */
  const distinct = (shape: number[]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const perm = Array.from({ length: n }, (_, i) => i).sort(() => rng.uniform() - 0.5);
    return { data: Float32Array.from(perm, (v) => v * 0.1 - 1), shape };
  };

  it('match finite differences (sum, mean, max, min; axes, keepDims, strided inputs)', async () => {
    const opts = { maxChecks: 8 };
    await gradcheck((x) => vq.sum(x, 1), [input([3, 4, 5])], opts);
    await gradcheck((x) => vq.sum(x, [0, 2], true), [input([3, 4, 5])], opts);
    await gradcheck((x) => vq.mean(x, -1), [input([3, 4, 5])], opts);
    await gradcheck((x) => vq.mean(vq.transpose(x), [0, 1], true), [input([4, 5])], opts);
    await gradcheck((x) => vq.sum(vq.mul(x, x)), [input([7])], opts);
    await gradcheck((x) => vq.max(x, 1), [distinct([3, 4, 5])], opts);
    await gradcheck((x) => vq.min(vq.slice(x, 0, 1, 3), [0, 2], true), [distinct([3, 4, 5])], opts);
    await gradcheck((x) => vq.max(x), [distinct([6, 5])], opts);
  });

  it('max/min split the gradient evenly among ties', async () => {
    const x = vq.tensor([1, 3, 3, 0, 2, 2, 2, -1], [2, 4]);
    x.requiresGrad = true;
    vq.backward(vq.sum(vq.max(x, 1)));
    expect(Array.from(await x.grad!.toArray())).toEqual([0, 0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3, 0].map(Math.fround));
    x.grad!.dispose();
    x.grad = null;
    vq.backward(vq.min(x));
    expect(Array.from(await x.grad!.toArray())).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('argmax has no gradient: backward through it names the op', () => {
    const x = vq.tensor([1, 5, 2], [3]);
    x.requiresGrad = true;
    expect(() => vq.backward(vq.sum(vq.cast(vq.argmax(x, 0, true), 'f32')))).toThrow(/op 'cast\(argmax\)' has no gradient/);
  });
});
