// The tape (autograd/tape.ts): accumulation across backward calls, noGrad, detach and the
// straight-through estimator, fan-out, non-differentiable ops, and its errors; leaves made with
// the creation functions' `requiresGrad` option.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';

beforeAll(async () => {
  await vq.init();
});

function leaf(data: number[], shape?: number[]): vq.Tensor {
  return vq.tensor(data, shape, { requiresGrad: true });
}

const arr = async (t: vq.Tensor) => Array.from(await t.toArray());

describe('autograd', () => {
  it('accumulates leaf gradients across backward calls', async () => {
    const x = leaf([1, -2, 3]);
    vq.backward(vq.sum(vq.mul(x, x))); // 2x
    expect(await arr(x.grad!)).toEqual([2, -4, 6]);
    vq.backward(vq.sum(vq.mulScalar(x, 3))); // + 3
    expect(await arr(x.grad!)).toEqual([5, -1, 9]);
    expect(x.grad!.isContiguous).toBe(true);
  });

  it('sums the gradients of a tensor used more than once', async () => {
    const x = leaf([0.5, 2]);
    const y = vq.add(vq.mul(x, x), x); // x² + x → 2x + 1
    const z = vq.mul(y, y); // used twice again: 2y · (2x + 1)
    vq.backward(vq.sum(vq.add(z, y)));
    const want = [0.5, 2].map((v) => (2 * (v * v + v) + 1) * (2 * v + 1));
    expect(await arr(x.grad!)).toEqual(want);
  });

  it('takes an explicit gradient for a non-scalar output, and leaves it alive', async () => {
    const x = leaf([1, 2, 3, 4, 5, 6], [2, 3]);
    const g = vq.tensor([1, 0, -1, 2, 0.5, 0], [3, 2]);
    vq.backward(vq.transpose(vq.mulScalar(x, 2)), g);
    expect(await arr(x.grad!)).toEqual([2, -2, 1, 0, 4, 0]); // 2·gᵀ
    expect(x.grad!.isContiguous).toBe(true);
    expect(g.isDisposed).toBe(false);
    expect(await arr(g)).toEqual([1, 0, -1, 2, 0.5, 0]);
  });

  it('noGrad records nothing', async () => {
    const x = leaf([1, 2]);
    const y = vq.noGrad(() => vq.exp(vq.mul(x, x)));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    expect(vq.isGradEnabled()).toBe(true);
    expect(vq.noGrad(() => vq.isGradEnabled())).toBe(false);
    expect(() => vq.backward(vq.sum(y))).toThrow(/does not require a gradient/);
    // noGrad restores recording even when its function throws
    expect(() => vq.noGrad(() => vq.add(x, vq.zeros([3])))).toThrow(/cannot be broadcast/);
    expect(vq.isGradEnabled()).toBe(true);
    expect(vq.add(x, x).requiresGrad).toBe(true);
  });

  it('detach stops gradients: the straight-through estimator x + detach(q - x) passes 1 to x', async () => {
    const x = leaf([-1.5, 0.2, 0.7, 3]);
    const d = vq.detach(x);
    expect(d.requiresGrad).toBe(false);
    expect(d.node).toBeNull();
    const q = vq.step(x, 0.5); // the "quantizer": no gradient of its own
    const y = vq.add(x, vq.detach(vq.sub(q, x)));
    expect(await arr(y)).toEqual([0, 0, 1, 1]); // forward: q
    const r = vq.tensor([1, 2, 3, 4]);
    vq.backward(vq.sum(vq.mul(y, r)));
    expect(await arr(x.grad!)).toEqual([1, 2, 3, 4]); // backward: identity
    // detach(x) alone: no path to x
    const w = leaf([1, 2]);
    expect(() => vq.backward(vq.sum(vq.detach(vq.mul(w, w))))).toThrow(/does not require a gradient/);
  });

  it("straightThrough(value, path): value's numbers, path's gradient (a clamp passing gradients everywhere)", async () => {
    const x = leaf([-1.5, 0.25, 0.75, 3]);
    const y = vq.straightThrough(vq.clamp(x, -1, 1), x);
    expect(await arr(y)).toEqual([-1, 0.25, 0.75, 1]);
    vq.backward(vq.sum(vq.mul(y, vq.tensor([1, 2, 3, 4]))));
    expect(await arr(x.grad!)).toEqual([1, 2, 3, 4]); // clamp's own gradient would be [0, 2, 3, 0]
  });

  it('throws naming the op when backward reaches a non-differentiable op', () => {
    const x = leaf([1, 5, 2]);
    expect(() => vq.backward(vq.sum(vq.mul(x, vq.greater(x, vq.tensor([2])))))).toThrow(/backward\(\): op 'greater' has no gradient/);
    expect(() => vq.backward(vq.sum(vq.equal(x, x)))).toThrow(/op 'equal' has no gradient/);
    expect(() => vq.backward(vq.sum(vq.cast(vq.argmin(x), 'f32')))).toThrow(/op 'cast\(argmin\)' has no gradient/);
    // the same mask detached is fine
    vq.backward(vq.sum(vq.mul(x, vq.detach(vq.greater(x, vq.tensor([2]))))));
    expect(x.grad).not.toBeNull();
  });

  it('rejects a non-scalar loss without a gradient, and a wrong-shaped gradient', () => {
    const x = leaf([1, 2, 3]);
    expect(() => vq.backward(vq.mul(x, x))).toThrow(/loss must be a scalar, got \[3\]; pass a gradient/);
    expect(() => vq.backward(vq.tensor([1]))).toThrow(/does not require a gradient/);
    expect(() => vq.backward(vq.mul(x, x), vq.ones([1, 3]))).toThrow(/gradient \[1, 3\] does not match the output \[3\]/);
  });

  it('creation functions make leaves with { requiresGrad: true } (f32 only); a dtype string still works', async () => {
    const made = [
      vq.tensor([1, 2], [2], { requiresGrad: true }),
      vq.zeros([2], { requiresGrad: true }),
      vq.ones([2], { requiresGrad: true }),
      vq.full([2], 3, { requiresGrad: true }),
      vq.zerosLike(vq.ones([2]), { requiresGrad: true }),
      vq.empty([2], { requiresGrad: true }),
    ];
    for (const t of made) {
      expect(t.requiresGrad).toBe(true);
      expect(t.dtype).toBe('f32');
    }
    const [x, z] = made;
    vq.backward(vq.sum(vq.mul(vq.mul(x, x), vq.add(z, vq.onesLike(z))))); // x² · (z + 1) at z = 0
    expect(await arr(x.grad!)).toEqual([2, 4]);
    expect(await arr(z.grad!)).toEqual([1, 4]);
    expect(vq.tensor([1, 2]).requiresGrad).toBe(false);
    expect(vq.tensor([1, 2], [2], 'i32').dtype).toBe('i32');
    expect(vq.tensor([1, 2], [2], { dtype: 'u32' }).dtype).toBe('u32');
    expect(vq.zeros([1], 'i32').dtype).toBe('i32');
    expect(() => vq.tensor([1, 2], [2], { dtype: 'i32', requiresGrad: true })).toThrow(/tensor: only f32 tensors can require gradients, got dtype 'i32'/);
    expect(() => vq.zeros([2], { dtype: 'u32', requiresGrad: true })).toThrow(/full: only f32 tensors can require gradients/);
  });
});
