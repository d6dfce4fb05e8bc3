// grad() in src/autograd/tape.ts: partial, graph-retaining gradients (VQGAN's adaptive weight uses
// it). Compared with a full backward() over an identical graph, for leaves and intermediate tensors;
// the graph must survive for a later backward(), unreached tensors get null, `.grad` is untouched.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { grad } from '../src/autograd/tape.js';
import { firstMismatch, Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

function leaf(data: Float32Array, shape: number[]): vq.Tensor {
  const t = vq.tensor(data, shape);
  t.requiresGrad = true;
  return t;
}

async function expectClose(t: vq.Tensor, want: ArrayLike<number>, label: string): Promise<void> {
  const got = await t.toArray();
  const i = firstMismatch(got, want, 1e-6, 1e-5);
  if (i >= 0) expect.fail(`${label}: element ${i} is ${got[i]}, expected ${want[i]}`);
}

/**
 * A small graph with fan-out: h = tanh(x·W) [3, 4], y = h ⊙ h + h [3, 4] (h used twice),
 * loss = sum(y · c) + 0.5·sum(x²) (x reaches the loss along two paths).
 */
function graph(x: vq.Tensor, W: vq.Tensor, c: vq.Tensor): { h: vq.Tensor; y: vq.Tensor; loss: vq.Tensor } {
  const h = vq.tanh(vq.matmul(x, W));
  const y = vq.add(vq.mul(h, h), h);
  const loss = vq.add(vq.sum(vq.mul(y, c)), vq.mulScalar(vq.sum(vq.square(x)), 0.5));
  return { h, y, loss };
}

describe('grad()', () => {
  const rng = new Rng(5);
  const xs = rng.array(3 * 5), Ws = rng.array(5 * 4), cs = rng.array(3 * 4);

  it('equals the full backward for leaves, leaves .grad alone, and keeps the graph for a later backward', async () => {
    // Reference: full backward on its own copy of the graph.
    const x0 = leaf(xs, [3, 5]), W0 = leaf(Ws, [5, 4]), c = vq.tensor(cs, [3, 4]);
    vq.tidy(() => vq.backward(graph(x0, W0, c).loss));
    const [gx0, gW0] = await Promise.all([x0.grad!.toArray(), W0.grad!.toArray()]);

    const x = leaf(xs, [3, 5]), W = leaf(Ws, [5, 4]);
    const unrelated = leaf(Float32Array.from([1, 2]), [2]);
    const noGradInput = vq.tensor(Float32Array.from([3]), [1]);
    const kept = vq.tidy(() => {
      const { loss } = graph(x, W, c);
      const [gx, gW, gu, gn] = grad(loss, [x, W, unrelated, noGradInput]);
      expect(gu).toBeNull();
      expect(gn).toBeNull();
      expect(gx!.shape).toEqual([3, 5]);
      expect(gW!.shape).toEqual([5, 4]);
      // grad() does not accumulate into .grad
      expect(x.grad).toBeNull();
      expect(W.grad).toBeNull();
      // A second grad() over the same retained graph gives the same answer (W only this time).
      const [gW2] = grad(loss, [W]);
      // The graph is still there: backward() now gives the usual leaf gradients.
      expect(loss.node).not.toBeNull();
      vq.backward(loss);
      return [gx!, gW!, gW2!].map((t) => t.keepAlive());
    });
    await expectClose(kept[0], gx0, 'grad wrt x');
    await expectClose(kept[1], gW0, 'grad wrt W');
    await expectClose(kept[2], gW0, 'second grad wrt W');
    for (const t of kept) t.dispose();
    await expectClose(x.grad!, gx0, 'backward after grad: x.grad');
    await expectClose(W.grad!, gW0, 'backward after grad: W.grad');
    expect(unrelated.grad).toBeNull();
    for (const t of [x0, W0, x, W]) t.grad!.dispose();
    for (const t of [x0, W0, x, W, c, unrelated, noGradInput]) t.dispose();
  });

  it('equals the analytic gradient for intermediate tensors, and stops there', async () => {
    const x = leaf(xs, [3, 5]), W = leaf(Ws, [5, 4]), c = vq.tensor(cs, [3, 4]);
    const r = vq.tidy(() => {
      const { h, y, loss } = graph(x, W, c);
      const [gy, gh] = [grad(loss, [y])[0]!, grad(loss, [h])[0]!];
      return [h, gy, gh].map((t) => t.keepAlive());
    });
    const [h, gy, gh] = await Promise.all(r.map((t) => t.toArray()));
    // d loss/dy = c; d loss/dh = c ⊙ (2h + 1) (both uses of h)
    await expectClose(r[1], cs, 'grad wrt y');
    const want = Float32Array.from(cs, (cv, i) => cv * (2 * h[i] + 1));
    const i = firstMismatch(gh, want, 1e-6, 1e-5);
    if (i >= 0) expect.fail(`grad wrt h: element ${i} is ${gh[i]}, expected ${want[i]}`);
    expect(gy.length).toBe(12);
    // Gradients stop at the requested tensors: the leaves below were not written.
    expect(x.grad).toBeNull();
    expect(W.grad).toBeNull();
    for (const t of [...r, x, W, c]) t.dispose();
  });

  it('the adaptive-weight pattern: two partial gradients at one layer, then one backward of the total', async () => {
    // rec and adv share the graph below W; grad() of each at W, then backward(rec + λ·adv).
    const x = leaf(xs, [3, 5]), W = leaf(Ws, [5, 4]), c = vq.tensor(cs, [3, 4]);
    const out = vq.tidy(() => {
      const z = vq.matmul(vq.tanh(x), W);
      const rec = vq.mean(vq.abs(vq.sub(z, c)));
      const adv = vq.neg(vq.mean(z));
      const [gr] = grad(rec, [W]);
      const [ga] = grad(adv, [W]);
      vq.backward(vq.add(rec, adv));
      return [gr!, ga!].map((t) => t.keepAlive());
    });
    const [gr, ga, gW] = await Promise.all([out[0].toArray(), out[1].toArray(), W.grad!.toArray()]);
    // backward(rec + adv) at W is the sum of the two partial gradients
    const sum = Float32Array.from(gr, (v, i) => v + ga[i]);
    const i = firstMismatch(gW, sum, 1e-6, 1e-5);
    if (i >= 0) expect.fail(`W.grad element ${i} is ${gW[i]}, expected ${sum[i]}`);
    // d(−mean z)/dW = −(1/12)·tanh(x)ᵀ·1 : every column equal
    const th = Float32Array.from(xs, Math.tanh);
    for (let k = 0; k < 5; k++) {
      let s = 0;
      for (let r = 0; r < 3; r++) s += th[r * 5 + k];
      for (let j = 0; j < 4; j++) expect(ga[k * 4 + j]).toBeCloseTo(-s / 12, 6);
    }
    expect(x.grad).not.toBeNull();
    for (const t of [...out, x.grad!, W.grad!, x, W, c]) t.dispose();
  });

  it('errors: a non-scalar output or one without a gradient', () => {
    const x = leaf(Float32Array.from([1, 2]), [2]);
    vq.tidy(() => {
      expect(() => grad(vq.mul(x, x), [x])).toThrow(/scalar/);
      expect(() => grad(vq.sum(vq.tensor([1, 2])), [x])).toThrow(/does not require a gradient/);
    });
    x.dispose();
  });
});

describe('grad() through a target to another target', () => {
  it('keeps propagating past an intermediate target: loss = sum((3x)²) gives d/dh = 2h and d/dx = 18x', async () => {
    const xs = Float32Array.from([1, -2, 0.5]);
    const x = leaf(xs, [3]);
    const { h, g } = vq.tidy(() => {
      const h = vq.mulScalar(x, 3);
      return { h, g: grad(vq.sum(vq.square(h)), [h, x]) };
    }) as unknown as { h: vq.Tensor; g: (vq.Tensor | null)[] };
    expect(g[0]).not.toBeNull();
    expect(g[1]).not.toBeNull();
    await expectClose(g[0]!, Array.from(xs, (v) => 6 * v), 'd/dh');
    await expectClose(g[1]!, Array.from(xs, (v) => 18 * v), 'd/dx');
    expect(x.grad).toBeNull();
    h.dispose();
    for (const t of g) t?.dispose();
    x.dispose();
  });
});
