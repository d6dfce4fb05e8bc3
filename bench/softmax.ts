// softmax bench: softmax over the last axis of a dense f32 [rows, len] matrix, cases 'ROWSxLEN'
// (forward) and 'ROWSxLEN+bwd' (forward and input gradient). Peers: `naive` (the same op composed
// from max, sub, exp, sum and div kernels) and TF.js `tf.softmax` on its WebGPU backend.
// Metric: GB/s of essential traffic (forward: read x, write y; backward adds read y, g, write dx).

import { backward } from '../src/autograd/tape.js';
import { div, exp, sub } from '../src/ops/elementwise.js';
import { max, sum } from '../src/ops/reduce.js';
import { softmax } from '../src/ops/softmax.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../kernels-test/reference.js';
import { timeGpu, timePeer, type Bench, type BenchResult } from './harness.js';
import { loadTf } from './tfjs.js';

function naiveSoftmax(x: Tensor): Tensor {
  const e = exp(sub(x, max(x, -1, true)));
  return div(e, sum(e, -1, true));
}

/** One forward (and backward) pass of `f` inside a scope that frees everything. */
function step(f: (x: Tensor) => Tensor, x: Tensor, g: Tensor | null): void {
  tidy(() => {
    const y = f(x);
    if (g) backward(y, g);
  });
  x.grad?.dispose();
  x.grad = null;
}

export const bench: Bench = {
  name: 'softmax',
  cases: ['8192x256', '64x4096', '16x1024', '8192x256+bwd'],
  async run(caseName, opts): Promise<BenchResult> {
    const m = /^(\d+)x(\d+)(\+bwd)?$/.exec(caseName);
    if (!m) throw new Error(`softmax bench: bad case '${caseName}' (want ROWSxLEN or ROWSxLEN+bwd).`);
    const [rows, len, bwd] = [Number(m[1]), Number(m[2]), !!m[3]];
    const rng = new Rng(1);
    const hx = rng.array(rows * len, 3), hg = rng.array(rows * len);
    const x = tensor(hx, [rows, len]).keepAlive();
    x.requiresGrad = bwd;
    const g = bwd ? tensor(hg, [rows, len]).keepAlive() : null;
    const bytes = (bwd ? 20 : 8) * rows * len;
    const sOurs = await timeGpu(() => step(softmax, x, g), opts.minSeconds);
    const sNaive = await timeGpu(() => step(naiveSoftmax, x, g), opts.minSeconds);
    x.dispose();
    g?.dispose();

    let sTf: number | null = null;
    const tf = opts.peers ? await loadTf() : null;
    if (tf) {
      const tx = tf.tensor2d(hx, [rows, len]), tg = tf.tensor2d(hg, [rows, len]);
      const grad = tf.grad((a) => tf.softmax(a));
      sTf = await timePeer(async () => {
        const corner = tf.tidy(() => tf.slice(bwd ? grad(tx, tg) : tf.softmax(tx), [0, 0], [1, 1]));
        await corner.data();
        corner.dispose();
      }, opts.minSeconds);
      tx.dispose();
      tg.dispose();
    }
    return {
      bench: 'softmax',
      case: caseName,
      metric: 'GB/s',
      ours: bytes / sOurs / 1e9,
      vs: { naive: bytes / sNaive / 1e9, 'tfjs-webgpu': sTf === null ? null : bytes / sTf / 1e9 },
      notes: { 'ms/call': sOurs * 1e3 },
    };
  },
};
