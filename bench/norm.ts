// norm bench: layerNorm over the last axis of [rows, D] (cases 'ln:ROWSxD') and groupNorm of
// [N, C, H, W] (cases 'gn:NxCxHxW/G'), each with weight and bias; '+bwd' adds the gradients of
// x, weight and bias. Peers: `naive` (the same op composed from mean, sub, square, rsqrt, mul and
// add kernels) and TF.js (tf.moments + arithmetic) on its WebGPU backend.
// Metric: GB/s of essential traffic (forward: read x, write y; backward adds read x, g, write dx).

import { backward } from '../src/autograd/tape.js';
import { add, addScalar, mul, rsqrt, square, sub } from '../src/ops/elementwise.js';
import { reshape } from '../src/ops/layout.js';
import { groupNorm, layerNorm } from '../src/ops/norm.js';
import { mean } from '../src/ops/reduce.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../kernels-test/reference.js';
import { timeGpu, timePeer, type Bench, type BenchResult } from './harness.js';
import { loadTf } from './tfjs.js';

const EPS = 1e-5;

/** Normalises the rows of x2 [rows, len] by composed ops. */
function naiveRows(x2: Tensor): Tensor {
  const d = sub(x2, mean(x2, -1, true));
  return mul(d, rsqrt(addScalar(mean(square(d), -1, true), EPS)));
}

interface Case {
  shape: number[];
  /** groupNorm groups, or null for layerNorm */
  groups: number | null;
  bwd: boolean;
}

function parse(c: string): Case {
  const m = /^(ln|gn):([\dx]+)(?:\/(\d+))?(\+bwd)?$/.exec(c);
  if (!m || (m[1] === 'gn') !== !!m[3]) throw new Error(`norm bench: bad case '${c}' (want ln:ROWSxD or gn:NxCxHxW/G, optionally +bwd).`);
  return { shape: m[2].split('x').map(Number), groups: m[1] === 'gn' ? Number(m[3]) : null, bwd: !!m[4] };
}

export const bench: Bench = {
  name: 'norm',
  cases: ['ln:8192x512', 'ln:8192x512+bwd', 'gn:8x128x32x32/32', 'gn:8x128x32x32/32+bwd'],
  async run(caseName, opts): Promise<BenchResult> {
    const { shape, groups, bwd } = parse(caseName);
    const size = shape.reduce((a, b) => a * b, 1);
    const c = groups === null ? shape[shape.length - 1] : shape[1];
    const rng = new Rng(1);
    const hx = rng.array(size), hg = rng.array(size), hw = rng.array(c), hb = rng.array(c);
    const x = tensor(hx, shape).keepAlive(), w = tensor(hw, [c]).keepAlive(), b = tensor(hb, [c]).keepAlive();
    const g = tensor(hg, shape).keepAlive();
    for (const t of [x, w, b]) t.requiresGrad = bwd;
    // weight/bias broadcast over the channel axis: [D] for layerNorm, [C, 1, 1] for groupNorm
    const affineShape = groups === null ? [c] : [c, ...shape.slice(2).map(() => 1)];
    const ours = (): Tensor => (groups === null ? layerNorm(x, w, b, EPS) : groupNorm(x, groups, w, b, EPS));
    const naive = (): Tensor => {
      const rows = groups === null ? size / c : shape[0] * groups;
      const y = reshape(naiveRows(reshape(x, [rows, size / rows])), shape);
      return add(mul(y, reshape(w, affineShape)), reshape(b, affineShape));
    };
    const step = (f: () => Tensor) => () => {
      tidy(() => {
        const y = f();
        if (bwd) backward(y, g);
      });
      for (const t of [x, w, b]) {
        t.grad?.dispose();
        t.grad = null;
      }
    };
    const bytes = (bwd ? 20 : 8) * size;
    const sOurs = await timeGpu(step(ours), opts.minSeconds);
    const sNaive = await timeGpu(step(naive), opts.minSeconds);
    for (const t of [x, w, b, g]) t.dispose();

    let sTf: number | null = null;
    const tf = opts.peers ? await loadTf() : null;
    if (tf) {
      const tx = tf.tensor(hx, shape), tw = tf.tensor(hw, affineShape), tb = tf.tensor(hb, affineShape), tg = tf.tensor(hg, shape);
      const f = (a: import('@tensorflow/tfjs').Tensor, wt: import('@tensorflow/tfjs').Tensor, bt: import('@tensorflow/tfjs').Tensor) => {
        const rows = groups === null ? size / c : shape[0] * groups;
        const a2 = a.reshape([rows, size / rows]);
        const { mean: mu, variance } = tf.moments(a2, -1, true);
        const y = a2.sub(mu).mul(tf.rsqrt(variance.add(EPS))).reshape(shape);
        return y.mul(wt).add(bt);
      };
      const grads = tf.grads(f);
      sTf = await timePeer(async () => {
        const outs = tf.tidy(() => (bwd ? grads([tx, tw, tb], tg) : [f(tx, tw, tb)]).map((t) => t.flatten().slice(0, 1)));
        await Promise.all(outs.map((o) => o.data()));
        outs.forEach((o) => o.dispose());
      }, opts.minSeconds);
      for (const t of [tx, tw, tb, tg]) t.dispose();
    }
    return {
      bench: 'norm',
      case: caseName,
      metric: 'GB/s',
      ours: bytes / sOurs / 1e9,
      vs: { naive: bytes / sNaive / 1e9, 'tfjs-webgpu': sTf === null ? null : bytes / sTf / 1e9 },
      notes: { 'ms/call': sOurs * 1e3 },
    };
  },
};
