import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import type { CrossEntropyOptions, XentSchedule } from '../src/ops/xent.js';
import { gradcheck } from './gradcheck.js';
import { firstMismatch, Rng } from './reference.js';
import { crossEntropyRef } from './reference-xent.js';

beforeAll(async () => {
  await vq.init();
});

// Every kernel variant: an invocation per row, a workgroup per row of the adapter's default size
// (8 lanes on CPU rasterisers, up to 256 on GPUs), and of 64 lanes (a deeper tree on CPUs).
const SCHEDULES: XentSchedule[] = [{ rows: 'per_thread' }, { rows: 'per_group' }, { rows: 'per_group', groupSize: 64 }];
const label = (s: XentSchedule) => `${s.rows}${s.groupSize ? `×${s.groupSize}` : ''}`;

/** Random targets in [0, V), every `ignoreEvery`-th row set to `ignoreIndex` (0: none). */
function randomTargets(rng: Rng, N: number, V: number, ignoreEvery = 0, ignoreIndex = -100): Int32Array {
  return Int32Array.from({ length: N }, (_, r) => (ignoreEvery && r % ignoreEvery === 1 ? ignoreIndex : rng.int(V)));
}

/** Forward and backward on the GPU (upstream gradient `up`, default ones), compared with the reference. */
async function check(
  logits: Float32Array,
  targets: Int32Array,
  N: number,
  V: number,
  opts: CrossEntropyOptions,
  schedule: XentSchedule,
  up?: Float32Array,
): Promise<void> {
  const what = `[${N}, ${V}] ${JSON.stringify(opts)} ${label(schedule)}`;
  if (opts.reduction === 'none') up ??= new Float32Array(N).fill(1);
  const x = vq.tensor(logits, [N, V]).keepAlive();
  x.requiresGrad = true;
  const loss = vq.tidy(() => {
    const l = vq.crossEntropyWith(x, vq.tensor(targets, [N]), opts, schedule);
    vq.backward(l, up ? vq.tensor(up, l.shape) : undefined);
    return l;
  });
  const want = crossEntropyRef(logits, targets, N, V, opts, up);
  const got = (await loss.toArray()) as Float32Array;
  expect(loss.shape).toEqual(opts.reduction === 'none' ? [N] : []);
  const at = firstMismatch(got, want.loss, 1e-5, 1e-4);
  expect(at, `loss[${at}] = ${got[at]}, want ${want.loss[at]} ${what}`).toBe(-1);
  const dx = (await x.grad!.toArray()) as Float32Array;
  const at2 = firstMismatch(dx, want.grad, 1e-6, 1e-3);
  expect(at2, `dx[${at2}] = ${dx[at2]}, want ${want.grad[at2]} ${what}`).toBe(-1);
  for (const t of [loss, x.grad!, x]) t.dispose();
}

describe('crossEntropy', () => {
  // Short rows, one class, two classes, rows longer than a workgroup, many rows, odd sizes.
  const shapes: [number, number][] = [[1, 1], [3, 1], [1, 2], [5, 2], [7, 1000], [2, 5000], [1000, 10], [33, 257]];
  for (const s of SCHEDULES) {
    it(`matches the reference on random and awkward shapes (${label(s)})`, async () => {
      for (const [N, V] of shapes) {
        const rng = new Rng(N * 31 + V);
        const logits = rng.array(N * V, 3);
        await check(logits, randomTargets(rng, N, V, N > 2 ? 5 : 0), N, V, {}, s);
      }
    });
  }

  it('supports sum and none reductions with any upstream gradient', async () => {
    const [N, V] = [9, 13];
    const rng = new Rng(3);
    const logits = rng.array(N * V, 2);
    const targets = randomTargets(rng, N, V, 4);
    for (const s of SCHEDULES) {
      await check(logits, targets, N, V, { reduction: 'sum' }, s, Float32Array.of(-1.5));
      await check(logits, targets, N, V, { reduction: 'mean' }, s, Float32Array.of(2.5));
      await check(logits, targets, N, V, { reduction: 'none' }, s, rng.array(N));
    }
  });

  it('applies label smoothing with PyTorch semantics', async () => {
    const [N, V] = [6, 300];
    const rng = new Rng(4);
    const logits = rng.array(N * V, 2);
    const targets = randomTargets(rng, N, V, 3);
    for (const s of SCHEDULES) {
      for (const eps of [0.1, 1]) {
        await check(logits, targets, N, V, { labelSmoothing: eps }, s);
        await check(logits, targets, N, V, { labelSmoothing: eps, reduction: 'none' }, s, rng.array(N));
      }
    }
    // A worked value: uniform logits give −log p = log V for every class, whatever ε.
    const l = vq.crossEntropy(vq.tensor(new Float32Array(8), [2, 4]), vq.tensor(Int32Array.of(1, 3)), { labelSmoothing: 0.3 });
    expect(await l.item()).toBeCloseTo(Math.log(4), 6);
  });

  it('is stable for logits of ±1e4 (no NaN or Inf)', async () => {
    const [N, V] = [4, 6];
    const logits = Float32Array.from({ length: N * V }, (_, i) => [1e4, -1e4, 0, 1e4 - 1, -1e4 + 3, 5][i % 6] * (i % 4 === 0 ? -1 : 1));
    const targets = Int32Array.of(0, 1, 3, 5);
    for (const s of SCHEDULES) {
      await check(logits, targets, N, V, { labelSmoothing: 0.2 }, s);
      await check(logits, targets, N, V, { reduction: 'none' }, s);
    }
    const big = vq.tensor(Float32Array.of(1e4, -1e4, -1e4, 1e4), [2, 2]);
    const rows = (await vq.crossEntropy(big, vq.tensor(Int32Array.of(1, 1)), { reduction: 'none' }).toArray()) as Float32Array;
    expect(Array.from(rows)).toEqual([2e4, 0]);
  });

  it('skips ignored rows, with any ignoreIndex, and defines all-ignored as 0 loss and 0 gradient', async () => {
    const [N, V] = [8, 5];
    const rng = new Rng(6);
    const logits = rng.array(N * V);
    for (const s of SCHEDULES) {
      // An ignoreIndex inside [0, V): rows with target 0 are padding.
      await check(logits, Int32Array.from({ length: N }, (_, r) => r % 3 === 0 ? 0 : 1 + (r % 4)), N, V, { ignoreIndex: 0 }, s);
      await check(logits, randomTargets(rng, N, V, 2, -1), N, V, { ignoreIndex: -1, reduction: 'sum' }, s);
      for (const reduction of ['mean', 'sum'] as const) {
        await check(logits, new Int32Array(N).fill(-100), N, V, { reduction }, s);
        const x = vq.tensor(logits, [N, V]);
        x.requiresGrad = true;
        const l = vq.crossEntropyWith(x, vq.tensor(new Int32Array(N).fill(-100)), { reduction }, s);
        vq.backward(l);
        expect(await l.item()).toBe(0);
        expect(((await x.grad!.toArray()) as Float32Array).every((v) => v === 0)).toBe(true);
      }
    }
  });

  it('gives a NaN loss and a zero gradient row for targets outside [0, V), reading nothing outside the row', async () => {
    const [N, V] = [4, 3];
    const logits = new Rng(8).array(N * V);
    const targets = Int32Array.of(1, 3, -7, 2); // rows 1 and 2 are out of range
    for (const s of SCHEDULES) {
      await check(logits, targets, N, V, { reduction: 'none' }, s);
      const x = vq.tensor(logits, [N, V]);
      x.requiresGrad = true;
      const l = vq.crossEntropyWith(x, vq.tensor(targets), {}, s);
      vq.backward(l);
      expect(await l.item()).toBeNaN();
      const dx = (await x.grad!.toArray()) as Float32Array;
      expect(Array.from(dx.subarray(V, 3 * V))).toEqual(new Array(2 * V).fill(0));
      expect(dx.subarray(0, V).some((v) => v !== 0)).toBe(true);
    }
  });

  it('takes a workgroup per row past one grid dimension (2-D grid)', async () => {
    const [N, V] = [70000, 3];
    const rng = new Rng(10);
    await check(rng.array(N * V), randomTargets(rng, N, V, 7), N, V, {}, { rows: 'per_group' });
  });

  it('is deterministic and needs no gradient when the logits do not require one', async () => {
    const [N, V] = [777, 40];
    const rng = new Rng(11);
    const x = vq.tensor(rng.array(N * V, 4), [N, V]);
    const t = vq.tensor(randomTargets(rng, N, V, 9));
    const a = await vq.crossEntropy(x, t).item();
    const b = await vq.crossEntropy(x, t).item();
    expect(Object.is(a, b)).toBe(true);
    expect(vq.crossEntropy(x, t).requiresGrad).toBe(false);
  });

  it('gradients match finite differences', async () => {
    const rng = new Rng(12);
    const targets = Int32Array.of(2, -100, 0, 4);
    const f = (opts: CrossEntropyOptions, s: XentSchedule) => (x: vq.Tensor) => vq.crossEntropyWith(x, vq.tensor(targets), opts, s);
    for (const s of [SCHEDULES[0], SCHEDULES[2]]) {
      await gradcheck(f({}, s), [{ data: rng.array(20), shape: [4, 5] }]);
      await gradcheck(f({ labelSmoothing: 0.25, reduction: 'sum' }, s), [{ data: rng.array(20), shape: [4, 5] }]);
      await gradcheck(f({ reduction: 'none', labelSmoothing: 0.1 }, s), [{ data: rng.array(20), shape: [4, 5] }]);
    }
  });

  it('rejects bad shapes, dtypes and options with one clear error', () => {
    const x = vq.tensor(new Float32Array(6), [2, 3]);
    const t = vq.tensor(Int32Array.of(0, 1));
    expect(() => vq.crossEntropy(vq.tensor(new Int32Array(6), [2, 3]), t)).toThrow(/crossEntropy: logits must be f32 \[N, V\]/);
    expect(() => vq.crossEntropy(vq.tensor(new Float32Array(6), [1, 2, 3]), t)).toThrow(/crossEntropy: logits must be f32/);
    expect(() => vq.crossEntropy(x, vq.tensor(Float32Array.of(0, 1)))).toThrow(/crossEntropy: targets must be i32 \[2\]/);
    expect(() => vq.crossEntropy(x, vq.tensor(Int32Array.of(0, 1, 2)))).toThrow(/targets must be i32 \[2\].*got i32 \[3\]/);
    expect(() => vq.crossEntropy(vq.tensor(new Float32Array(0), [2, 0]), t)).toThrow(/no classes/);
    expect(() => vq.crossEntropy(x, t, { labelSmoothing: 1.5 })).toThrow(/labelSmoothing must be in \[0, 1\]/);
    expect(() => vq.crossEntropy(x, t, { ignoreIndex: 0.5 })).toThrow(/ignoreIndex must be an i32/);
    expect(() => vq.crossEntropy(x, t, { reduction: 'avg' as 'mean' })).toThrow(/reduction must be/);
  });
});
