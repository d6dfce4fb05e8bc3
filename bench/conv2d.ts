// conv2d bench: forward + input gradient + weight gradient (+ bias) per iteration, GFLOP/s counted
// as 3× the forward's 2·N·Cout·Ho·Wo·Cin·KH·KW.
//   B8_C64_H32_W32_K3       batch 8, 64→64 channels, 32×32, 3×3, stride 1, padding 1
//   B8_C128_H16_W16_K3_up2  a decoder step: nearest 2× upsample of 16×16, then 3×3 conv 128→64
//   tokenizer_passes        every conv layer of a tokenizer step, each pass timed alone, against the
//                           matmul at 512³ in the same process (bench/conv2d-passes.ts)
// ours: conv2d / conv2dUpsample2x (the adapter picks fused or unfused) with autograd; peers: `naive`
// (one invocation per output element, shaders/conv2d_naive.wgsl), in the up2 case `fused` (fuse:
// true) and `unfused` (upsampleNearest2x then conv2d, ours), and `tfjs-webgpu` (tf.conv2d + tf.grads
// on NHWC tensors, same adapter).

import naiveSrc from '../shaders/conv2d_naive.wgsl';
import * as vq from '../src/index.js';
import { grid1d, kernel, launch, Params } from '../src/ops/launch.js';
import { upsampleNearest2xGrad } from '../src/ops/upsample.js';
import { round3, timeGpu, timePeer, type Bench, type BenchResult } from './harness.js';
import { loadTf } from './tfjs.js';
import { runPasses } from './conv2d-passes.js';
import { Rng } from '../kernels-test/reference.js';

const NAIVE_FWD = kernel('conv2d_naive', naiveSrc, 'forward');
const NAIVE_DX = kernel('conv2d_naive', naiveSrc, 'grad_input');
const NAIVE_DW = kernel('conv2d_naive', naiveSrc, 'grad_weight');
const WG = 64;

/** The naive peer: forward and all gradients for output gradient g, one invocation per element. Dense NCHW inputs. */
export function naiveConv2d(x: vq.Tensor, w: vq.Tensor, b: vq.Tensor | null, g: vq.Tensor, stride: number, padding: number) {
  const [N, Cin, H, W] = x.shape;
  const [Cout, , KH, KW] = w.shape;
  const [, , Ho, Wo] = g.shape;
  const params = (total: number) =>
    new Params().u32(N, Cin, H, W, Cout, Ho, Wo, KH, KW, stride, padding, total, b ? 1 : 0, 0, 0, 0);
  const y = vq.empty([N, Cout, Ho, Wo]);
  launch(NAIVE_FWD, params(y.size), [x, w, y, b ?? w], grid1d(y.size, WG), { WG });
  const dx = vq.empty(x.shape);
  launch(NAIVE_DX, params(dx.size), [g, w, dx], grid1d(dx.size, WG), { WG });
  const dw = vq.empty(w.shape);
  launch(NAIVE_DW, params(dw.size), [g, x, dw], grid1d(dw.size, WG), { WG });
  const db = b ? vq.sumAxes(g, [0, 2, 3], false) : null;
  return { y, dx, dw, db };
}

interface Case {
  N: number; Cin: number; Cout: number; H: number; W: number; K: number; pad: number; up: boolean;
}
const CASES: Record<string, Case> = {
  B8_C64_H32_W32_K3: { N: 8, Cin: 64, Cout: 64, H: 32, W: 32, K: 3, pad: 1, up: false },
  B8_C128_H16_W16_K3_up2: { N: 8, Cin: 128, Cout: 64, H: 16, W: 16, K: 3, pad: 1, up: true },
};

/** NCHW → NHWC (or [Cout, Cin, KH, KW] → [KH, KW, Cin, Cout] with the permutation given) on the host. */
function permuteHost(src: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(src.length);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const outShape = perm.map((p) => shape[p]);
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let rem = o, s = 0;
    for (let d = outShape.length - 1; d >= 0; d--) {
      idx[d] = rem % outShape[d];
      rem = Math.floor(rem / outShape[d]);
    }
    for (let d = 0; d < perm.length; d++) s += idx[d] * strides[perm[d]];
    out[o] = src[s];
  }
  return out;
}

async function run(caseName: string, opts: { minSeconds: number; peers: boolean }): Promise<BenchResult> {
  if (caseName === PASSES) return runPasses(caseName, opts.minSeconds);
  const c = CASES[caseName];
  const Hv = c.up ? 2 * c.H : c.H, Wv = c.up ? 2 * c.W : c.W;
  const Ho = Hv + 2 * c.pad - c.K + 1, Wo = Wv + 2 * c.pad - c.K + 1;
  const flop = 3 * 2 * c.N * c.Cout * Ho * Wo * c.Cin * c.K * c.K;
  const rng = new Rng(1);
  const xd = rng.array(c.N * c.Cin * c.H * c.W), wd = rng.array(c.Cout * c.Cin * c.K * c.K, 0.05);
  const bd = rng.array(c.Cout), gd = rng.array(c.N * c.Cout * Ho * Wo);
  const x = vq.tensor(xd, [c.N, c.Cin, c.H, c.W]), w = vq.tensor(wd, [c.Cout, c.Cin, c.K, c.K]);
  const b = vq.tensor(bd, [c.Cout]), g = vq.tensor(gd, [c.N, c.Cout, Ho, Wo]);
  for (const t of [x, w, b]) t.requiresGrad = true;
  const clearGrads = () => {
    for (const t of [x, w, b]) {
      t.grad?.dispose();
      t.grad = null;
    }
  };
  const train = (forward: () => vq.Tensor) => () => {
    vq.tidy(() => vq.backward(forward(), g));
    clearGrads();
  };

  const conv = c.up
    ? () => vq.conv2dUpsample2x(x, w, b, { padding: c.pad })
    : () => vq.conv2d(x, w, b, { padding: c.pad });
  const ours = await timeGpu(train(conv), opts.minSeconds);
  const vs: Record<string, number | null> = {};
  const notes: Record<string, number | string> = { 'ours ms/iter': round3(ours * 1000) };

  if (c.up) {
    const fused = await timeGpu(train(() => vq.conv2dUpsample2x(x, w, b, { padding: c.pad, fuse: true })), opts.minSeconds);
    vs.fused = flop / fused / 1e9;
    const unfused = await timeGpu(train(() => vq.conv2d(vq.upsampleNearest2x(x), w, b, { padding: c.pad })), opts.minSeconds);
    vs.unfused = flop / unfused / 1e9;
  }
  const naive = await timeGpu(() => {
    vq.tidy(() => {
      const xin = c.up ? vq.noGrad(() => vq.upsampleNearest2x(x)) : x;
      const r = naiveConv2d(xin, w, b, g, 1, c.pad);
      if (c.up) upsampleNearest2xGrad(r.dx);
    });
  }, opts.minSeconds);
  vs.naive = flop / naive / 1e9;

  vs['tfjs-webgpu'] = null;
  const tf = opts.peers ? await loadTf() : null;
  if (tf) {
    const xT = tf.tensor4d(permuteHost(xd, [c.N, c.Cin, c.H, c.W], [0, 2, 3, 1]), [c.N, c.H, c.W, c.Cin]);
    const wT = tf.tensor4d(permuteHost(wd, [c.Cout, c.Cin, c.K, c.K], [2, 3, 1, 0]), [c.K, c.K, c.Cin, c.Cout]);
    const bT = tf.tensor1d(bd);
    const dyT = tf.tensor4d(permuteHost(gd, [c.N, c.Cout, Ho, Wo], [0, 2, 3, 1]), [c.N, Ho, Wo, c.Cout]);
    const grads = tf.grads((xi, wi, bi) => {
      const xin = c.up ? tf.image.resizeNearestNeighbor(xi as import('@tensorflow/tfjs').Tensor4D, [Hv, Wv]) : xi;
      return tf.add(tf.conv2d(xin as import('@tensorflow/tfjs').Tensor4D, wi as import('@tensorflow/tfjs').Tensor4D, 1, c.pad), bi);
    });
    const t = await timePeer(async () => {
      const gs = grads([xT, wT, bT], dyT);
      await Promise.all(gs.map((t) => t.data()));
      tf.dispose(gs);
    }, opts.minSeconds);
    vs['tfjs-webgpu'] = flop / t / 1e9;
    notes['tfjs ms/iter'] = round3(t * 1000);
    tf.dispose([xT, wT, bT, dyT]);
  }
  for (const t of [x, w, b, g]) t.dispose();
  return { bench: 'conv2d', case: caseName, metric: 'GFLOP/s', ours: flop / ours / 1e9, vs, notes };
}

/** Per-pass GFLOP/s over a tokenizer step's convolutions vs the matmul in the same process (conv2d-passes.ts). */
const PASSES = 'tokenizer_passes';

export const bench: Bench = { name: 'conv2d', cases: [...Object.keys(CASES), PASSES], run };
