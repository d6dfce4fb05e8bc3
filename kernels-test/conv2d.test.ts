// conv2d, conv2dUpsample2x and upsampleNearest2x against the float64 references in
// reference-conv2d.ts: forward and all three gradients on random and awkward shapes, finite-difference
// gradient checks, the k = 1 ↔ matmul identity, the naive bench peer, and the shape errors.

import { describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { naiveConv2d } from '../bench/conv2d.js';
import { lanesFor, windowRows } from '../src/ops/conv2d-subgroup.js';
import { spaceToDepthGeometry, spaceToDepthWindow } from '../src/ops/conv2d-space-to-depth.js';
import { convGeometry, type Conv2dOptions } from '../src/ops/conv2d.js';
import { gradcheck } from './gradcheck.js';
import { firstMismatch, Rng } from './reference.js';
import * as ref from './reference-conv2d.js';
import type { ConvShape } from './reference-conv2d.js';

await vq.init();

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, atol = 1e-3, rtol = 1e-3): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const i = firstMismatch(got, want, atol, rtol);
  if (i >= 0) expect.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
}

const describeShape = (s: ConvShape) =>
  `N${s.N} ${s.Cin}→${s.Cout} ${s.H}×${s.W} k${s.KH}×${s.KW} s${s.stride} p${s.padding}`;

/** Runs forward + backward on the GPU and checks y, dx, dw, dbias against the references. */
async function checkConv(s: ConvShape, withBias: boolean, seed: number, useNaive = false, kernels: vq.ConvKernelChoice = 'auto'): Promise<void> {
  const rng = new Rng(seed);
  const [Ho, Wo] = ref.convOutSize(s);
  const xd = rng.array(s.N * s.Cin * s.H * s.W);
  const wd = rng.array(s.Cout * s.Cin * s.KH * s.KW, 0.5);
  const bd = withBias ? rng.array(s.Cout) : null;
  const gd = rng.array(s.N * s.Cout * Ho * Wo);
  const x = vq.tensor(xd, [s.N, s.Cin, s.H, s.W]);
  const w = vq.tensor(wd, [s.Cout, s.Cin, s.KH, s.KW]);
  const b = bd ? vq.tensor(bd, [s.Cout]) : null;
  // All GPU work is recorded first and read back together (one wait, not one per tensor).
  let outs: vq.Tensor[];
  if (useNaive) {
    const r = naiveConv2d(x, w, b, vq.tensor(gd, [s.N, s.Cout, Ho, Wo]), s.stride, s.padding);
    outs = [r.y, r.dx, r.dw, ...(r.db ? [r.db] : [])];
  } else {
    for (const t of [x, w, b]) if (t) t.requiresGrad = true;
    const out = vq.conv2d(x, w, b, { stride: s.stride, padding: s.padding, kernels });
    expect(out.shape).toEqual([s.N, s.Cout, Ho, Wo]);
    vq.backward(out, vq.tensor(gd, out.shape));
    outs = [out, x.grad!, w.grad!, ...(b ? [b.grad!] : [])];
  }
  const [y, dx, dw, db] = (await Promise.all(outs.map((t) => t.toArray()))) as Float32Array[];
  const what = describeShape(s);
  expectClose(y, ref.conv2d(xd, wd, bd, s), `${what}: y`);
  expectClose(dx, ref.conv2dGradInput(gd, wd, s), `${what}: dx`);
  expectClose(dw, ref.conv2dGradWeight(gd, xd, s), `${what}: dw`);
  if (bd) expectClose(db, ref.conv2dGradBias(gd, s), `${what}: dbias`);
}

const S = (N: number, Cin: number, Cout: number, H: number, W: number, K: number, stride: number, padding: number, KW = K): ConvShape =>
  ({ N, Cin, Cout, H, W, KH: K, KW, stride, padding });

// Awkward: C = 1 and 3, odd sizes, stride 2 with odd sizes, pad 0/1/2, k = 1/3/4 (and a non-square
// kernel), Cout not a multiple of the 4-channel block, rows wider than a workgroup's pixels.
const SHAPES: ConvShape[] = [
  S(2, 3, 5, 7, 5, 3, 1, 1),
  S(1, 1, 1, 7, 5, 3, 1, 0),
  S(2, 1, 3, 9, 11, 3, 2, 1),
  S(1, 3, 6, 8, 8, 4, 2, 1),
  S(2, 5, 7, 7, 9, 4, 2, 2),
  S(1, 4, 9, 6, 7, 1, 1, 0),
  S(2, 6, 2, 5, 5, 1, 2, 0),
  S(1, 2, 3, 5, 6, 3, 1, 2),
  S(1, 3, 4, 6, 7, 2, 1, 1, 3),
  S(1, 2, 5, 4, 4, 4, 1, 0),
  S(3, 7, 5, 13, 70, 3, 1, 1),
  S(1, 32, 33, 6, 5, 3, 1, 1),   // enough weight-gradient blocks that the reduction is not split
  // rows of a multiple of 4 (conv2d_window_vec4.wgsl, conv2d_grad_weight_vec4.wgsl): narrower than a block of 8 pixels, a partial
  // last block, Cout not a multiple of 8, a 1×3 kernel, a wide row
  S(2, 3, 5, 5, 4, 3, 1, 1),
  S(3, 7, 9, 6, 12, 3, 1, 1),
  S(2, 5, 9, 3, 12, 1, 1, 1, 3),
  S(1, 4, 6, 4, 40, 3, 1, 1),
  S(2, 9, 33, 5, 16, 3, 1, 1),   // channels not multiples of the weight gradient's 4-channel blocks
  S(1, 3, 5, 3, 20, 3, 1, 1),
];

describe('conv2d', () => {
  it('matches the reference: forward, dx, dw, dbias on awkward shapes', async () => {
    await Promise.all(SHAPES.map((s, i) => checkConv(s, i % 2 === 0, i + 1)));
  });

  it('matches the reference without padding rows in the batch, bias off', async () => {
    await checkConv(S(4, 8, 8, 8, 8, 3, 1, 1), false, 42);
  });

  it('bias gradient: chunked plane sums (planes of 1, 63, 923 elements; 1 to 40 channels)', async () => {
    // 13×71 = 923 splits into chunks of 66 with a short last one; 1×1 and 7×9 planes are one chunk.
    const cases: [number, number, number, number][] = [[2, 3, 13, 71], [5, 40, 7, 9], [3, 1, 1, 1]];
    await Promise.all(cases.map(async ([N, Cout, Ho, Wo], i) => {
      const gd = new Rng(60 + i).array(N * Cout * Ho * Wo);
      const db = vq.conv2dBiasGrad(vq.tensor(gd, [N, Cout, Ho, Wo]));
      const s = S(N, 1, Cout, Ho, Wo, 1, 1, 0);
      expectClose(await db.toArray(), ref.conv2dGradBias(gd, s), `dbias N${N} C${Cout} ${Ho}×${Wo}`, 1e-4, 1e-4);
    }));
  });

  it('k = 1, stride 1 is a matmul over channels', async () => {
    const rng = new Rng(5);
    const [N, Cin, Cout, H, W] = [2, 6, 5, 3, 7];
    const x = vq.tensor(rng.array(N * Cin * H * W), [N, Cin, H, W]);
    const w = vq.tensor(rng.array(Cout * Cin), [Cout, Cin, 1, 1]);
    const y = vq.conv2d(x, w);
    const m = vq.matmul(vq.reshape(w, [Cout, Cin]), vq.reshape(x, [N, Cin, H * W]));
    expectClose(await y.toArray(), await m.toArray(), 'conv2d k=1 vs matmul', 1e-5, 1e-5);
  });

  it('passes finite-difference gradient checks (x, w, bias)', async () => {
    const rng = new Rng(9);
    const x = { data: rng.array(2 * 2 * 5 * 4), shape: [2, 2, 5, 4] };
    const w = { data: rng.array(3 * 2 * 3 * 3, 0.5), shape: [3, 2, 3, 3] };
    const b = { data: rng.array(3), shape: [3] };
    await gradcheck((xt, wt, bt) => vq.conv2d(xt, wt, bt, { stride: 2, padding: 1 }), [x, w, b]);
    await gradcheck((xt, wt, bt) => vq.conv2dUpsample2x(xt, wt, bt, { padding: 1 }), [x, w, b]);
  });

  it('rejects invalid shapes and options with one clear error', async () => {
    const x = vq.zeros([1, 3, 5, 5]);
    expect(() => vq.conv2d(x, vq.zeros([4, 2, 3, 3]))).toThrow(/conv2d: w has 2 input channels, x has 3/);
    expect(() => vq.conv2d(vq.zeros([3, 5, 5]), vq.zeros([4, 3, 3, 3]))).toThrow(/expects x \[N, Cin, H, W\]/);
    expect(() => vq.conv2d(x, vq.zeros([4, 3, 3, 3]), vq.zeros([3]))).toThrow(/bias must be \[4\]/);
    expect(() => vq.conv2d(x, vq.zeros([4, 3, 7, 7]))).toThrow(/does not fit the padded 5×5 input/);
    expect(() => vq.conv2d(x, vq.zeros([4, 3, 3, 3]), null, { stride: 0 })).toThrow(/stride must be an integer/);
    expect(() => vq.conv2d(x, vq.zeros([4, 3, 3, 3]), null, { padding: 0.5 })).toThrow(/padding an integer/);
  });

  // The 3×3 "same" convolutions on rows of a multiple of 4 pixels: the portable kernels
  // (conv2d_window_vec4.wgsl, conv2d_grad_weight_vec4.wgsl from 16 pixels a row) and the subgroup
  // ones (conv2d_window_subgroup.wgsl, conv2d_grad_weight_subgroup.wgsl) where the device has
  // subgroups (not Chromium's compat adapter).
  // Rows of 4..32 pixels (blocks of 4·8 pixels start rows: no neighbour loads) and of 12, 20, 40, 64
  // (blocks start and end inside rows), a partial last block, channels 1 to 33 in and out (blocks of
  // 8 output channels under 16, of 16 from there: partial and whole); the input gradient runs the
  // same kernel with the channels swapped.
  const windowKernels: vq.ConvKernelChoice[] = ['portable', ...(vq.runtime().report.subgroups ? (['subgroup'] as const) : [])];
  const WINDOW_SHAPES = [
    S(2, 3, 5, 4, 4, 3, 1, 1), S(1, 7, 9, 3, 8, 3, 1, 1), S(2, 5, 17, 4, 16, 3, 1, 1), S(1, 1, 1, 5, 32, 3, 1, 1),
    S(1, 4, 6, 3, 12, 3, 1, 1), S(2, 9, 33, 5, 20, 3, 1, 1), S(1, 3, 8, 2, 40, 3, 1, 1), S(1, 2, 3, 3, 64, 3, 1, 1),
    S(3, 33, 3, 7, 8, 3, 1, 1), S(2, 16, 32, 3, 16, 3, 1, 1),
  ];
  for (const k of windowKernels) {
    it(`the ${k} kernels of 3×3 "same" convolutions match the reference (y, dx, dw, dbias; rows of 4 to 64 pixels)`, async () => {
      await Promise.all(WINDOW_SHAPES.map((s, i) => checkConv(s, i % 2 === 1, 70 + i, false, k)));
    });
  }

  // 4×4 stride-2 convolutions with padding 1 on even sides: where the subgroup window kernel runs
  // (CPU adapters with subgroups), the forward pass and the input gradient as those of a 3×3 "same"
  // convolution over x's 2×2 space-to-depth (conv2d-space-to-depth.ts); the portable kernels and
  // other devices take the direct kernels. Half-size rows of 4, 8 and 12 pixels, 3 to 9 input channels (12 to 36 in the
  // 3×3 layer), output channels not a multiple of 4, batches of 1 to 3.
  const S2D_SHAPES = [S(1, 3, 5, 8, 8, 4, 2, 1), S(2, 5, 7, 12, 16, 4, 2, 1), S(3, 8, 9, 6, 24, 4, 2, 1), S(1, 4, 3, 10, 8, 4, 2, 1), S(2, 9, 16, 4, 8, 4, 2, 1)];
  for (const k of ['auto', 'portable'] as const) {
    it(`4×4 stride-2 convolutions (${k === 'auto' ? 'through the space-to-depth where it runs' : 'the direct kernels'}) match the reference`, async () => {
      await Promise.all(S2D_SHAPES.map((s, i) => checkConv(s, i % 2 === 0, 90 + i, false, k)));
    });
  }

  it('the space-to-depth route is taken where the subgroup kernels run, and only for 4×4 stride-2 padding-1 layers', () => {
    const x = vq.zeros([2, 5, 12, 16]);
    const geo = (w: vq.Tensor, opts: Conv2dOptions) => convGeometry('conv2d', x, w, null, opts, 1);
    const s3 = spaceToDepthGeometry(geo(vq.zeros([7, 5, 4, 4]), { stride: 2, padding: 1 }));
    expect(s3).toMatchObject({ Cin: 20, H: 6, W: 8, KH: 3, KW: 3, stride: 1, padding: 1, Ho: 6, Wo: 8 });
    const sub = vq.runtime().isCpu && !!vq.runtime().report.subgroups;
    expect(spaceToDepthWindow(s3)).toBe(sub);
    expect(spaceToDepthGeometry(geo(vq.zeros([7, 5, 4, 4]), { stride: 2, padding: 1, kernels: 'portable' }))).toBeNull();
    expect(spaceToDepthGeometry(geo(vq.zeros([7, 5, 4, 4]), { stride: 2, padding: 2 }))).toBeNull();
    expect(spaceToDepthGeometry(geo(vq.zeros([7, 5, 3, 3]), { stride: 2, padding: 1 }))).toBeNull();
    expect(spaceToDepthGeometry(geo(vq.zeros([7, 5, 4, 4]), { stride: 1, padding: 1 }))).toBeNull();
  });

  it('the subgroup kernels\' lanes and channel blocks, from fake adapter descriptions', () => {
    const dev = (n: number) => ({ isCpu: true, subgroups: { minSize: n, maxSize: n } });
    expect(lanesFor(dev(8))).toBe(8);
    expect(lanesFor(dev(16))).toBe(16); // llvmpipe at 512 bits: 48 weights a slab, 3 a lane
    expect(lanesFor(dev(32))).toBe(null); // 48 weights do not split over 32 lanes
    expect(windowRows(3, 8)).toBe(8); // thin outputs: 8-channel blocks
    expect(windowRows(32, 8)).toBe(16);
    expect(windowRows(3, 16)).toBe(16); // 24 weights do not split over 16 lanes
  });

  it('subgroup kernels forced where they cannot run are one clear error', () => {
    expect(() => vq.conv2d(vq.zeros([1, 2, 5, 6]), vq.zeros([3, 2, 3, 3]), null, { padding: 1, kernels: 'subgroup' })).toThrow(/subgroup kernels were forced/);
    expect(() => vq.conv2d(vq.zeros([1, 2, 5, 8]), vq.zeros([3, 2, 3, 3]), null, { padding: 1, kernels: 'fast' as 'auto' })).toThrow(/kernels must be 'auto', 'subgroup' or 'portable'/);
  });

  it('the naive bench peer matches the reference', async () => {
    await Promise.all([checkConv(S(2, 3, 5, 7, 6, 3, 2, 1), true, 3, true), checkConv(S(1, 2, 3, 5, 5, 4, 1, 2), false, 4, true)]);
  });
});

describe('upsampleNearest2x and conv2dUpsample2x', () => {
  it('upsampleNearest2x forward and backward match the reference', async () => {
    const rng = new Rng(11);
    const [N, C, H, W] = [2, 3, 5, 7];
    const xd = rng.array(N * C * H * W), gd = rng.array(N * C * 4 * H * W);
    const x = vq.tensor(xd, [N, C, H, W]);
    x.requiresGrad = true;
    const y = vq.upsampleNearest2x(x);
    expect(y.shape).toEqual([N, C, 2 * H, 2 * W]);
    expectClose(await y.toArray(), ref.upsampleNearest2x(xd, N, C, H, W), 'upsample y', 0, 0);
    vq.backward(y, vq.tensor(gd, y.shape));
    expectClose(await x.grad!.toArray(), ref.upsampleNearest2xGrad(gd, N, C, H, W), 'upsample dx', 1e-6, 1e-6);
  });

  // fuse: true forces the fused kernels, false the unfused pair, undefined lets the adapter choose.
  it.each([true, false, undefined])('conv2dUpsample2x (fuse %s) equals upsample then conv (y, dx, dw, dbias)', async (fuse) => {
    const cases: [number, number, number, number, number, number, number][] = [
      // N, Cin, Cout, H, W, K, padding
      [2, 3, 5, 4, 3, 3, 1],
      [1, 6, 3, 3, 5, 4, 1],
      [1, 2, 7, 5, 4, 1, 0],
      [2, 4, 4, 3, 3, 3, 2],
      // stored rows of a multiple of 4 (conv2d_window_vec4.wgsl with UP = 2): one, two, three blocks of 8
      [2, 3, 5, 3, 4, 3, 1],
      [1, 5, 9, 2, 8, 3, 1],
      [1, 4, 3, 2, 12, 3, 1],
      // the decoder's last level (upsampled rows of 16: the unfused pair's vec4 weight gradient)
      [2, 8, 4, 2, 8, 3, 1],
    ];
    await Promise.all(cases.map(async ([N, Cin, Cout, H, W, K, padding], i) => {
      const rng = new Rng(20 + i);
      const s = S(N, Cin, Cout, 2 * H, 2 * W, K, 1, padding);
      const [Ho, Wo] = ref.convOutSize(s);
      const xd = rng.array(N * Cin * H * W), wd = rng.array(Cout * Cin * K * K, 0.5), bd = rng.array(Cout);
      const gd = rng.array(N * Cout * Ho * Wo);
      const x = vq.tensor(xd, [N, Cin, H, W]), w = vq.tensor(wd, [Cout, Cin, K, K]), b = vq.tensor(bd, [Cout]);
      for (const t of [x, w, b]) t.requiresGrad = true;
      const y = vq.conv2dUpsample2x(x, w, b, { padding, fuse });
      expect(y.shape).toEqual([N, Cout, Ho, Wo]);
      vq.backward(y, vq.tensor(gd, y.shape));
      const [yd, dx, dw, db] = await Promise.all([y, x.grad!, w.grad!, b.grad!].map((t) => t.toArray()));
      const xu = ref.upsampleNearest2x(xd, N, Cin, H, W);
      const what = `up2 fuse ${fuse} ${describeShape(s)}`;
      expectClose(yd, ref.conv2d(xu, wd, bd, s), `${what}: y`);
      const dxu = ref.conv2dGradInput(gd, wd, s);
      expectClose(dx, ref.upsampleNearest2xGrad(dxu, N, Cin, H, W), `${what}: dx`);
      expectClose(dw, ref.conv2dGradWeight(gd, xu, s), `${what}: dw`);
      expectClose(db, ref.conv2dGradBias(gd, s), `${what}: dbias`);
    }));
  });

  it('conv2dUpsample2x and nn.Conv2d with upsample reject a stride', () => {
    const x = vq.zeros([1, 2, 3, 3]);
    expect(() => vq.conv2dUpsample2x(x, vq.zeros([2, 2, 3, 3]), null, { stride: 2 })).toThrow(/fused upsample convolution has stride 1/);
    // nn.Conv2d passes its stride on, rather than ignoring it with `upsample`
    const layer = new vq.Conv2d(2, 2, { kernel: 3, padding: 1, stride: 2, upsample: true });
    expect(() => layer.forward(x)).toThrow(/fused upsample convolution has stride 1/);
    layer.dispose();
  });
});
