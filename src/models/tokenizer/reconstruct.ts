// Reconstructions through the tokenizer in eval mode (browser-safe): what the figures show and
// what the page's test compares with Node. Eval mode and no tape: nothing here changes the
// training state (no EMA update, no usage counts), so figures never perturb a run.

import { noGrad } from '../../autograd/tape.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../tensor/tensor.js';
import type { VQVAE } from './vqvae.js';

/** images [≥ n, 3, S, S] in [-1, 1] → the first n images' reconstructions [n, 3, S, S] (unclamped). */
export async function reconstruct(vqvae: VQVAE, images: Float32Array, n: number): Promise<Float32Array> {
  const size = vqvae.config.size;
  const wasTraining = vqvae.training;
  vqvae.eval();
  const out = noGrad(() => tidy(() => {
    const x = tensor(images.subarray(0, n * 3 * size * size), [n, 3, size, size]);
    return vqvae.forward(x).recon.keepAlive();
  }));
  try {
    return (await out.toArray()) as Float32Array;
  } finally {
    out.dispose();
    if (wasTraining) vqvae.train();
  }
}
