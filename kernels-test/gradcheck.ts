// Finite-difference gradient check. `f` maps input tensors to an output tensor; the check contracts
// the output with a fixed random tensor R (loss = Σ f(x)·R) so every output element matters, then
// compares backward()'s gradients with central differences computed in float64 on the host side
// from f32 GPU evaluations (hence eps ~1e-2 and a tolerance suited to f32).

import { expect } from 'vitest';
import * as vq from '../src/index.js';
import { Rng } from './reference.js';

export interface GradcheckOptions {
  eps?: number;
  /** allowed |analytic - numeric| / max(1, |numeric|) */
  tol?: number;
  /** check at most this many coordinates per input (chosen at random) */
  maxChecks?: number;
  seed?: number;
}

export async function gradcheck(
  f: (...xs: vq.Tensor[]) => vq.Tensor,
  inputs: { data: Float32Array; shape: number[] }[],
  opts: GradcheckOptions = {},
): Promise<void> {
  const { eps = 1e-2, tol = 2e-2, maxChecks = 12, seed = 7 } = opts;
  const rng = new Rng(seed);
  // Output shape, and the random contraction tensor.
  const outShape = vq.tidy(() => f(...inputs.map((x) => vq.tensor(x.data, x.shape))).shape);
  const size = outShape.reduce((a, b) => a * b, 1);
  const R = Float32Array.from({ length: size }, () => rng.normal());

  const lossAt = async (datas: Float32Array[]): Promise<number> => {
    const l = vq.tidy(() => {
      const xs = datas.map((d, i) => vq.tensor(d, inputs[i].shape));
      return vq.sum(vq.mul(f(...xs), vq.tensor(R, outShape))).keepAlive();
    });
    const v = await l.item();
    l.dispose();
    return v;
  };

  // Analytic gradients.
  const xs = inputs.map((x) => {
    const t = vq.tensor(x.data, x.shape).keepAlive();
    t.requiresGrad = true;
    return t;
  });
  vq.tidy(() => {
    const loss = vq.sum(vq.mul(f(...xs), vq.tensor(R, outShape)));
    vq.backward(loss);
  });
  const analytic: Float32Array[] = [];
  for (const x of xs) {
    analytic.push(x.grad ? ((await x.grad.toArray()) as Float32Array) : new Float32Array(x.size));
    x.grad?.dispose();
    x.dispose();
  }

  for (let i = 0; i < inputs.length; i++) {
    const n = inputs[i].data.length;
    const coords = n <= maxChecks ? [...Array(n).keys()] : Array.from({ length: maxChecks }, () => Math.floor(rng.uniform() * n));
    for (const c of coords) {
      const datas = inputs.map((x) => Float32Array.from(x.data));
      const orig = datas[i][c];
      datas[i][c] = orig + eps;
      const up = await lossAt(datas);
      datas[i][c] = orig - eps;
      const down = await lossAt(datas);
      const numeric = (up - down) / (2 * eps);
      const err = Math.abs(analytic[i][c] - numeric) / Math.max(1, Math.abs(numeric));
      if (!(err <= tol)) { // (a NaN gradient fails too)
        expect.fail(`gradient of input ${i} at ${c}: analytic ${analytic[i][c]}, numeric ${numeric} (rel. error ${err.toExponential(2)})`);
      }
    }
  }
}
