import { describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';

describe('smoke', () => {
  it('adds, reduces, matmuls, backprops', async () => {
    await vq.init();
    const a = vq.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = vq.tensor([10, 20, 30], [3]);
    expect(Array.from(await vq.add(a, b).toArray())).toEqual([11, 22, 33, 14, 25, 36]);
    expect(Array.from(await vq.sum(a, 1).toArray())).toEqual([6, 15]);
    expect(Array.from(await vq.argmax(a, 0).toArray())).toEqual([1, 1, 1]);
    const m = vq.matmul(a, vq.transpose(a));
    expect(Array.from(await m.toArray())).toEqual([14, 32, 32, 77]);
    a.requiresGrad = true;
    const loss = vq.sum(vq.mul(vq.matmul(a, vq.transpose(a)), vq.tensor([1, 2, 3, 4], [2, 2])));
    vq.backward(loss);
    console.log(await loss.item(), Array.from(await a.grad!.toArray()));
  });
});
