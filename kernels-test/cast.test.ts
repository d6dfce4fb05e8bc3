// cast (cast.wgsl through ops/cast.ts): f32 → i32 rounds toward zero and saturates, i32 → f32
// rounds to nearest; strided inputs, scalars, same-dtype copies keep the gradient.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { gradcheck } from './gradcheck.js';

beforeAll(async () => {
  await vq.init();
});

/**
 * The reference: truncation, saturated as WGSL specifies, in the float domain: to
 * [-2^31, 2^31 - 128], the largest f32 below 2^31 (not 2^31 - 1, which f32 cannot hold).
 */
const toI32 = (v: number) => Math.max(-2147483648, Math.min(2147483520, Math.trunc(v)));

describe('cast', () => {
  it('f32 → i32 rounds toward zero (and saturates out of range)', async () => {
    const vals = [-2.7, -0.5, -0, 0.5, 2.999, 3, -3, 1e9, -1e9, 16777216, 3e9, -3e9, 1e-30, 7.5, -7.5];
    const y = vq.cast(vq.tensor(vals, [3, 5]), 'i32');
    expect(y.dtype).toBe('i32');
    expect(y.shape).toEqual([3, 5]);
    expect(Array.from(await y.toArray())).toEqual(vals.map((v) => toI32(Math.fround(v)) + 0));
  });

  it('i32 → f32 rounds to nearest, exact below 2^24', async () => {
    const vals = [-5, 0, 7, 1, -1, 16777215, 16777217, -2147483648, 2147483647, 123456789];
    const y = vq.cast(vq.tensor(Int32Array.from(vals)), 'f32');
    expect(y.dtype).toBe('f32');
    expect(Array.from(await y.toArray())).toEqual(vals.map(Math.fround));
  });

  it('reads strided inputs, scalars and empty tensors', async () => {
    const x = vq.tensor(Int32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    expect(Array.from(await vq.cast(vq.transpose(x), 'f32').toArray())).toEqual([1, 4, 2, 5, 3, 6]);
    const f = vq.tensor([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], [3, 2]);
    expect(Array.from(await vq.cast(vq.slice(f, 0, 1, 3), 'i32').toArray())).toEqual([2, 3, 4, 5]);
    const s = vq.cast(vq.tensor([-9.9], []), 'i32');
    expect(s.shape).toEqual([]);
    expect(await s.item()).toBe(-9);
    expect(vq.cast(vq.zeros([0, 3]), 'i32').shape).toEqual([0, 3]);
    // round trip of argmax indices
    const idx = vq.argmax(vq.tensor([0, 3, 1, 9, 2, 2], [2, 3]), 1);
    expect(Array.from(await vq.cast(idx, 'f32').toArray())).toEqual([1, 0]);
  });

  it('to the same dtype is a differentiable copy; conversions have no gradient', async () => {
    const x = vq.tensor([1, 2]);
    const c = vq.cast(x, 'f32');
    expect(c.storage).not.toBe(x.storage);
    await gradcheck((t) => vq.square(vq.cast(t, 'f32')), [{ data: Float32Array.from([0.5, -1, 2]), shape: [3] }]);
    const w = vq.tensor([1.5, 2.5]);
    w.requiresGrad = true;
    expect(() => vq.backward(vq.sum(vq.cast(vq.cast(w, 'i32'), 'f32')))).toThrow(/op 'cast\(cast\)' has no gradient/);
  });

  it('rejects unsupported conversions clearly', () => {
    expect(() => vq.cast(vq.zeros([2], 'u32'), 'f32')).toThrow(/cast: u32→f32 is not supported \(only f32 ↔ i32\), for \[2\]/);
  });
});
