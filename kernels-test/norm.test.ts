import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { gradcheck } from './gradcheck.js';
import { normRef } from './norm.reference.js';
import { firstMismatch, Rng } from './reference.js';

beforeAll(async () => {
  await vq.init();
});

function close(got: Float32Array, want: Float32Array, what: string, atol = 1e-4, rtol = 1e-3): void {
  const at = firstMismatch(got, want, atol, rtol);
  expect(at, `${what}[${at}] = ${got[at]}, want ${want[at]}`).toBe(-1);
}

describe('layerNorm / groupNorm', () => {
  /** Runs the op forward and backward with weight/bias (or without) and compares every output. */
  async function run(shape: number[], groups: number | null, affine: boolean, seed = 1, act: vq.NormAct = 'none'): Promise<void> {
    const rng = new Rng(seed);
    const size = shape.reduce((a, b) => a * b, 1);
    const c = groups === null ? shape[shape.length - 1] : shape[1];
    const n = groups === null ? size / c : shape[0];
    const s = groups === null ? 1 : size / (n * c);
    const xs = Float32Array.from(rng.array(size, 2), (v) => v + 3);
    const gs = rng.array(size);
    const ws = affine ? rng.array(c) : null, bs = affine ? rng.array(c) : null;
    const want = normRef(xs, n, c, s, groups ?? 1, ws, bs, gs, 1e-5, act === 'silu');
    const x = vq.tensor(xs, shape);
    x.requiresGrad = true;
    const w = ws ? vq.tensor(ws) : undefined, b = bs ? vq.tensor(bs) : undefined;
    if (w && b) w.requiresGrad = b.requiresGrad = true;
    const y = groups === null ? vq.layerNorm(x, w, b, 1e-5, act) : vq.groupNorm(x, groups, w, b, 1e-5, act);
    vq.backward(y, vq.tensor(gs, shape));
    close((await y.toArray()) as Float32Array, want.y, 'y');
    close((await x.grad!.toArray()) as Float32Array, want.dx, 'dx');
    if (w && b) {
      close((await w.grad!.toArray()) as Float32Array, want.dw, 'dw', 1e-3, 1e-3);
      close((await b.grad!.toArray()) as Float32Array, want.db, 'db', 1e-3, 1e-3);
    }
  }

  // [rows, D]: thread-per-row for many rows, workgroup-per-row for few long ones; on CPU adapters
  // a thread per row of a multiple of 4 columns takes the per_thread_cols_vec4 entries of norm.wgsl
  // and norm_grad.wgsl ([700, 64], [130, 12], [2, 35, 128]).
  const lnShapes: number[][] = [[1, 1], [3, 5], [1, 300], [5, 1000], [2, 3, 77], [700, 64], [4100, 3], [130, 12], [2, 35, 128]];
  for (const shape of lnShapes) {
    it(`layerNorm matches the reference on [${shape}]`, async () => {
      await run(shape, null, true, shape.length);
      await run(shape, null, false, 3);
    });
  }

  // Many short rows whose positions per channel are a multiple of 4 take the thread-per-row vec4
  // entries (norm.wgsl, norm_grad.wgsl per_thread_vec4) on CPU adapters: [8, 32, 4, 4], [5, 12, 2, 6], [16, 8, 8].
  const gnCases: [number[], number][] = [[[2, 6, 5, 3], 3], [[1, 4, 7], 1], [[3, 8, 1, 1], 8], [[2, 32, 16, 16], 8], [[1, 3, 40, 40], 3],
    [[8, 32, 4, 4], 16], [[5, 12, 2, 6], 4], [[16, 8, 8], 4]];
  for (const [shape, groups] of gnCases) {
    it(`groupNorm matches the reference on [${shape}], ${groups} groups`, async () => {
      await run(shape, groups, true, 5);
      await run(shape, groups, false, 6);
    });
    it(`groupNorm with the fused SiLU matches the reference on [${shape}], ${groups} groups`, async () => {
      await run(shape, groups, true, 7, 'silu');
      await run(shape, groups, false, 8, 'silu');
    });
  }
  it('layerNorm with the fused SiLU matches the reference (a thread and a workgroup per row)', async () => {
    await run([5, 1000], null, true, 9, 'silu');
    await run([700, 64], null, true, 10, 'silu');
    await run([130, 12], null, false, 11, 'silu');
  });

  it('normalises a non-contiguous view (transposed input)', async () => {
    const rng = new Rng(12);
    const xs = rng.array(6 * 9); // stored [9, 6], normalised as its transpose [6, 9]
    const xt = new Float32Array(xs.length);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 9; j++) xt[i * 9 + j] = xs[j * 6 + i];
    const want = normRef(xt, 6, 9, 1, 1, null, null, new Float32Array(xs.length)).y;
    const y = vq.layerNorm(vq.transpose(vq.tensor(xs, [9, 6])));
    close((await y.toArray()) as Float32Array, want, 'y');
  });

  it('weight and bias gradients are bit-reproducible', async () => {
    const rng = new Rng(11);
    const xs = rng.array(3000 * 40), gs = rng.array(3000 * 40);
    const grads: Float32Array[] = [];
    for (let k = 0; k < 2; k++) {
      const x = vq.tensor(xs, [3000, 40]);
      const w = vq.tensor(rng.array(40).fill(1.5));
      w.requiresGrad = true;
      vq.backward(vq.layerNorm(x, w), vq.tensor(gs, [3000, 40]));
      grads.push((await w.grad!.toArray()) as Float32Array);
    }
    expect(Array.from(grads[1])).toEqual(Array.from(grads[0]));
  });

  it('gradients match finite differences', async () => {
    const rng = new Rng(3);
    const x = { data: rng.array(4 * 6, 2), shape: [4, 6] };
    await gradcheck((x, w, b) => vq.layerNorm(x, w, b), [x, { data: rng.array(6), shape: [6] }, { data: rng.array(6), shape: [6] }], { eps: 1e-3 });
    await gradcheck((x) => vq.layerNorm(x), [x], { eps: 1e-3 });
    const gx = { data: rng.array(2 * 4 * 3, 2), shape: [2, 4, 3] };
    await gradcheck((x, w, b) => vq.groupNorm(x, 2, w, b), [gx, { data: rng.array(4), shape: [4] }, { data: rng.array(4), shape: [4] }], { eps: 1e-3 });
    await gradcheck((x, w, b) => vq.groupNorm(x, 2, w, b, 1e-5, 'silu'), [gx, { data: rng.array(4), shape: [4] }, { data: rng.array(4), shape: [4] }], { eps: 1e-3 });
    await gradcheck((x) => vq.groupNorm(x, 2, undefined, undefined, 1e-5, 'silu'), [gx], { eps: 1e-3 });
  });

  it('rejects bad shapes', () => {
    const x = vq.tensor(new Float32Array(12), [2, 6]);
    expect(() => vq.layerNorm(x, vq.tensor(new Float32Array(5)))).toThrow(/weight must be f32 \[6\]/);
    expect(() => vq.groupNorm(x, 4)).toThrow(/do not split into 4 groups/);
    expect(() => vq.groupNorm(vq.tensor([1, 2]), 1)).toThrow(/expects \[N, C/);
  });
});
