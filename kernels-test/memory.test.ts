// Deterministic memory: tidy scopes, the buffer pool's counters over a training loop, and
// use-after-dispose errors.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { Rng } from './reference.js';

let rt: vq.Runtime;
beforeAll(async () => {
  rt = await vq.init();
});

const live = () => {
  const s = rt.pool.getStats();
  return { buffers: s.liveBuffers, bytes: s.liveBytes };
};

describe('tidy', () => {
  it('disposes intermediates and keeps what the function returns (nested scopes, keepAlive)', async () => {
    const before = live();
    let inner: vq.Tensor | undefined;
    let kept: vq.Tensor | undefined;
    const { y, z } = vq.tidy(() => {
      const a = vq.tensor([1, 2, 3]);
      const b = vq.exp(a);
      kept = vq.neg(a).keepAlive();
      const w = vq.tidy(() => {
        inner = vq.mul(b, b); // disposed by the inner scope
        return vq.add(inner, a); // returned: moves to the outer scope
      });
      expect(inner!.isDisposed).toBe(true);
      expect(w.isDisposed).toBe(false);
      return { y: vq.sum(w), z: [vq.sqrt(a)] };
    });
    expect(y.isDisposed).toBe(false);
    expect(z[0].isDisposed).toBe(false);
    expect(kept!.isDisposed).toBe(false);
    expect(await y.item()).toBeCloseTo([1, 2, 3].reduce((s, v) => s + Math.exp(2 * v) + v, 0), 2);
    expect(live().buffers).toBe(before.buffers + 3);
    for (const t of [y, z[0], kept!]) t.dispose();
    expect(live()).toEqual(before);
  });

  it('disposes everything when the function throws, and views keep their storage alive', () => {
    const before = live();
    expect(() =>
      vq.tidy(() => {
        vq.exp(vq.tensor([1, 2]));
        vq.add(vq.zeros([2]), vq.zeros([3]));
      }),
    ).toThrow(/cannot be broadcast/);
    expect(live()).toEqual(before);
    const x = vq.tensor([1, 2, 3, 4], [2, 2]);
    const t = vq.transpose(x);
    x.dispose();
    expect(live().buffers).toBe(before.buffers + 1); // the view holds the storage
    t.dispose();
    expect(live()).toEqual(before);
  });

  it('frees pending gradients when backward throws', () => {
    const x = vq.tensor([1, 5, 2]);
    x.requiresGrad = true;
    const before = live();
    const e = vq.exp(x), s = vq.step(x, 1), m = vq.mul(e, s), l = vq.sum(m);
    expect(() => vq.backward(l)).toThrow(/'step' has no gradient/);
    expect(x.grad).toBeNull();
    expect(live().buffers).toBe(before.buffers + 4); // the forward's 4 results, no stray gradients
    for (const t of [e, s, m, l, x]) t.dispose();
  });
});

describe('training loop', () => {
  it('keeps the pool flat: no live-buffer growth, no new GPUBuffers after warm-up', async () => {
    // y = x·W + b fitted by gradient descent on [16, 8] → [16, 4], using only elementwise/reduce/layout ops.
    const rng = new Rng(3);
    const X = vq.tensor(rng.array(16 * 8), [16, 8]);
    const trueW = rng.array(8 * 4);
    const Y = vq.tidy(() => vq.sum(vq.mul(vq.unsqueeze(X, 2), vq.tensor(trueW, [8, 4])), 1));
    let W = vq.zeros([8, 4]);
    let b = vq.zeros([4]);
    W.requiresGrad = b.requiresGrad = true;
    const lr = 0.1;
    const step = (): vq.Tensor =>
      vq.tidy(() => {
        const pred = vq.add(vq.sum(vq.mul(vq.unsqueeze(X, 2), W), 1), b); // [16, 8, 1]·[8, 4] → [16, 4]
        const loss = vq.mean(vq.square(vq.sub(pred, Y)));
        vq.backward(loss);
        const [W2, b2] = vq.noGrad(() => [vq.sub(W, vq.mulScalar(W.grad!, lr)), vq.sub(b, vq.mulScalar(b.grad!, lr))]);
        for (const t of [W, b, W.grad!, b.grad!]) t.dispose();
        W = W2.keepAlive();
        b = b2.keepAlive();
        W.requiresGrad = b.requiresGrad = true;
        return loss.keepAlive();
      });
    const first = step();
    const l0 = await first.item();
    first.dispose();
    for (let i = 0; i < 10; i++) step().dispose();
    await rt.sync();
    const warm = rt.pool.getStats();
    for (let i = 0; i < 300; i++) step().dispose();
    const last = step();
    const l1 = await last.item();
    last.dispose();
    const end = rt.pool.getStats();
    expect(end.liveBuffers).toBe(warm.liveBuffers);
    expect(end.liveBytes).toBe(warm.liveBytes);
    expect(end.created).toBe(warm.created);
    expect(l1).toBeLessThan(l0 * 0.05); // and it learns
    for (const t of [X, Y, W, b]) t.dispose();
  });
});

describe('use after dispose', () => {
  it('throws a clear error naming the tensor', async () => {
    const x = vq.tensor([1, 2, 3], [3]);
    x.name = 'codebook';
    const v = vq.reshape(x, [1, 3]);
    x.dispose();
    x.dispose(); // idempotent
    expect(x.isDisposed).toBe(true);
    await expect(x.toArray()).rejects.toThrow(/Tensor 'codebook' \[3\] was used after dispose\(\)/);
    expect(() => vq.exp(x)).toThrow(/'codebook' \[3\] was used after dispose/);
    expect(() => vq.sum(x)).toThrow(/was used after dispose/);
    expect(() => vq.cast(x, 'i32')).toThrow(/was used after dispose/);
    expect(Array.from(await v.toArray())).toEqual([1, 2, 3]); // a view made before stays valid
    v.dispose();
  });
});
