// xent bench: softmax cross-entropy (mean over rows) forward + gradient of the logits, on dense
// f32 logits [N, V] and random i32 targets; cases 'N<rows>_V<classes>_fwdbwd'.
// Metric: rows/s (rows of logits through forward and backward per second; higher is better).
// Peers: `unfused` (our logSoftmax + gatherLast + mean + neg, backward by autograd) and TF.js
// `tf.losses.softmaxCrossEntropy` (one-hot labels) with `tf.valueAndGrad` on its WebGPU backend.
// Notes: ms per call, and rows/s of each kernel schedule (an invocation per row, a workgroup per
// row of the adapter's default size, and of 64 lanes): the measurement behind crossEntropy's 'auto'.

import { backward } from '../src/autograd/tape.js';
import { neg } from '../src/ops/elementwise.js';
import { gatherLast } from '../src/ops/gather.js';
import { mean } from '../src/ops/reduce.js';
import { logSoftmax } from '../src/ops/softmax.js';
import { crossEntropyWith, type XentSchedule } from '../src/ops/xent.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../kernels-test/reference.js';
import { timeGpu, timePeer, type Bench, type BenchResult } from './harness.js';
import { loadTf } from './tfjs.js';

const unfused = (x: Tensor, t: Tensor) => neg(mean(gatherLast(logSoftmax(x), t)));

/** One forward + backward of `loss` inside a scope that frees everything but x's gradient (dropped too). */
function step(loss: (x: Tensor, t: Tensor) => Tensor, x: Tensor, t: Tensor): void {
  tidy(() => backward(loss(x, t)));
  x.grad?.dispose();
  x.grad = null;
}

const VARIANTS: XentSchedule[] = [{ rows: 'per_thread' }, { rows: 'per_group' }, { rows: 'per_group', groupSize: 64 }];

export const bench: Bench = {
  name: 'xent',
  cases: ['N4096_V1024_fwdbwd', 'N1024_V16384_fwdbwd'],
  async run(caseName, opts): Promise<BenchResult> {
    const m = /^N(\d+)_V(\d+)_fwdbwd$/.exec(caseName);
    if (!m) throw new Error(`xent bench: bad case '${caseName}' (want N<rows>_V<classes>_fwdbwd).`);
    const [N, V] = [Number(m[1]), Number(m[2])];
    const rng = new Rng(1);
    const hx = rng.array(N * V, 3);
    const ht = Int32Array.from({ length: N }, () => rng.int(V));
    const x = tensor(hx, [N, V]).keepAlive();
    x.requiresGrad = true;
    const t = tensor(ht, [N]).keepAlive();

    const rowsPerSec = (s: number) => N / s;
    const notes: Record<string, number | string> = {};
    const sOurs = await timeGpu(() => step((a, b) => crossEntropyWith(a, b, {}, {}), x, t), opts.minSeconds);
    notes['ms/call'] = sOurs * 1e3;
    for (const v of VARIANTS) {
      const s = await timeGpu(() => step((a, b) => crossEntropyWith(a, b, {}, v), x, t), opts.minSeconds);
      notes[`${v.rows}${v.groupSize ? `×${v.groupSize}` : ''}`] = rowsPerSec(s);
    }
    const sUnfused = await timeGpu(() => step(unfused, x, t), opts.minSeconds);
    x.dispose();
    t.dispose();

    let sTf: number | null = null;
    const tf = opts.peers ? await loadTf() : null;
    if (tf) {
      const tx = tf.tensor2d(hx, [N, V]);
      const oneHot = tf.oneHot(tf.tensor1d(ht, 'int32'), V).toFloat();
      const lossAndGrad = tf.valueAndGrad((lg: import('@tensorflow/tfjs').Tensor) => tf.losses.softmaxCrossEntropy(oneHot, lg));
      sTf = await timePeer(async () => {
        const corner = tf.tidy(() => {
          const { value, grad } = lossAndGrad(tx);
          return tf.add(value, tf.slice(grad, [0, 0], [1, 1]));
        });
        await corner.data();
        corner.dispose();
      }, opts.minSeconds);
      tx.dispose();
      oneHot.dispose();
    }
    return {
      bench: 'xent',
      case: caseName,
      metric: 'rows/s',
      ours: rowsPerSec(sOurs),
      vs: { unfused: rowsPerSec(sUnfused), 'tfjs-webgpu': sTf === null ? null : rowsPerSec(sTf) },
      notes,
    };
  },
};
