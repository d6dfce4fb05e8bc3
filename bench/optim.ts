// optim bench: one AdamW step (with weight decay) over a set of parameters with gradients; cases
// are named 'NxSIZE' (N tensors of SIZE elements each). Ours: the multi-tensor step (src/optim/
// flat.ts: buffer copies in and out, one fused optim_adam.wgsl dispatch over the flat buffers);
// '+clip' adds the global-norm clip (2 more dispatches, no readback). Peers: `per-tensor` (ours
// with `foreach: false`: one fused dispatch per parameter, 1 + N more for the clip), `naive` (the
// same update composed from our elementwise kernels: ~14 dispatches and 8
// temporaries per parameter) and TF.js tf.train.adam (no weight decay: TF.js has no AdamW) on its
// WebGPU backend. Metric: parameters updated per second (millions); notes give the essential
// traffic in GB/s (read w, g, m, v; write w, m, v: 28 bytes per parameter).

import { noGrad } from '../src/autograd/tape.js';
import { add, affine, div, mulScalar, sqrt, square } from '../src/ops/elementwise.js';
import { copyInto } from '../src/ops/layout.js';
import { AdamW } from '../src/optim/adam.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../kernels-test/reference.js';
import { timeGpu, timePeer, type Bench, type BenchResult } from './harness.js';
import { loadTf } from './tfjs.js';

const LR = 1e-3, B1 = 0.9, B2 = 0.999, EPS = 1e-8, WD = 0.01;

function parseCase(c: string): { count: number; size: number; clip: boolean } {
  const m = /^(\d+)x(\d+)(\+clip)?$/.exec(c);
  if (!m) throw new Error(`optim bench: bad case '${c}' (want NxSIZE or NxSIZE+clip).`);
  return { count: Number(m[1]), size: Number(m[2]), clip: !!m[3] };
}

/** The AdamW update of one parameter composed from unfused elementwise ops (t = 1-based step). */
function naiveAdamW(w: Tensor, g: Tensor, m: Tensor, v: Tensor, t: number): void {
  tidy(() =>
    noGrad(() => {
      const bc1 = 1 - B1 ** t, bc2 = 1 - B2 ** t;
      const m2 = add(mulScalar(m, B1), mulScalar(g, 1 - B1));
      const v2 = add(mulScalar(v, B2), mulScalar(square(g), 1 - B2));
      const denom = affine(sqrt(v2), 1 / Math.sqrt(bc2), EPS);
      const upd = mulScalar(div(m2, denom), LR / bc1);
      const w2 = add(mulScalar(w, 1 - LR * WD), mulScalar(upd, -1));
      copyInto(m2, m);
      copyInto(v2, v);
      copyInto(w2, w);
    }),
  );
}

export const bench: Bench = {
  name: 'optim',
  cases: ['64x2048+clip', '64x16384', '16x262144', '16x262144+clip', '4x2097152'],
  async run(caseName, opts): Promise<BenchResult> {
    const { count, size, clip } = parseCase(caseName);
    const total = count * size;
    const rng = new Rng(1);
    const host = Array.from({ length: count }, () => ({ w: rng.array(size), g: rng.array(size, 0.01) }));
    const params = host.map((h) => {
      const p = tensor(h.w);
      p.requiresGrad = true;
      p.grad = tensor(h.g);
      return p;
    });
    const opt = new AdamW(params, { lr: LR, weightDecay: WD, clipNorm: clip ? 1 : undefined });
    const sOurs = await timeGpu(() => opt.step(), opts.minSeconds);
    const perTensor = new AdamW(params, { lr: LR, weightDecay: WD, clipNorm: clip ? 1 : undefined, foreach: false });
    const sPerTensor = await timeGpu(() => perTensor.step(), opts.minSeconds);
    perTensor.dispose();

    const state = params.map(() => ({ m: tensor(new Float32Array(size)), v: tensor(new Float32Array(size)) }));
    let t = 0;
    const sNaive = await timeGpu(() => {
      t++;
      params.forEach((p, i) => naiveAdamW(p, p.grad!, state[i].m, state[i].v, t));
    }, opts.minSeconds);
    opt.dispose();
    for (const s of state) { s.m.dispose(); s.v.dispose(); }
    for (const p of params) { p.grad!.dispose(); p.dispose(); }

    let tfRate: number | null = null;
    const tf = opts.peers && !clip ? await loadTf() : null;
    if (tf) {
      const vars = host.map((h, i) => tf.variable(tf.tensor1d(h.w), true, `w${i}`));
      const grads = host.map((h, i) => ({ name: vars[i].name, tensor: tf.tensor1d(h.g) }));
      const adam = tf.train.adam(LR, B1, B2, EPS);
      const s = await timePeer(async () => {
        adam.applyGradients(grads);
        const corner = tf.tidy(() => tf.slice(vars[count - 1], [0], [1]));
        await corner.data();
        corner.dispose();
      }, opts.minSeconds);
      adam.dispose();
      for (const v of vars) v.dispose();
      for (const g of grads) g.tensor.dispose();
      tfRate = total / s / 1e6;
    }
    return {
      bench: 'optim',
      case: caseName,
      metric: 'Mparam/s',
      ours: total / sOurs / 1e6,
      vs: { 'per-tensor': total / sPerTensor / 1e6, naive: total / sNaive / 1e6, 'tfjs-webgpu': tfRate },
      notes: { 'ms/step': sOurs * 1e3, 'GB/s': (28 * total) / sOurs / 1e9 },
    };
  },
};
