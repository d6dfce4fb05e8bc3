// The arrow token grids → images (browser-safe): the tokenizer's decoder run on host token grids,
// in batches whose activations fit one storage binding each (large images: a few at a time), the
// pixels read back to the host. Shared by the CLI (`sample`, `eval-samples`, `compare`), the web
// page and the library's Generator.

import { runtime } from '../../device/runtime.js';
import { noGrad } from '../../autograd/tape.js';
import { tidy } from '../../tensor/scope.js';
import { tensor } from '../../tensor/tensor.js';
import { inferenceBatch } from './config.js';
import type { VQVAE } from './vqvae.js';

/**
 * tokens [n, G, G] (row-major) → images [n, 3, S, S] in [-1, 1] (host floats). Codes outside the
 * codebook (a mask prior's mask token, mid-process) draw as code 0.
 */
export async function decodeTokens(vqvae: VQVAE, tokens: Int32Array, n: number): Promise<Float32Array> {
  const { grid: G, size: S, codebook: K } = vqvae.config;
  if (tokens.length !== n * G * G) throw new Error(`decodeTokens: ${tokens.length} tokens are not ${n} grids of ${G}×${G}.`);
  const safe = tokens.some((t) => t < 0 || t >= K) ? tokens.map((t) => (t < 0 || t >= K ? 0 : t)) : tokens;
  const B = inferenceBatch(vqvae.config, n, runtime().maxBindingBytes);
  const data = new Float32Array(n * 3 * S * S);
  for (let b0 = 0; b0 < n; b0 += B) {
    const k = Math.min(B, n - b0);
    const img = noGrad(() => tidy(() => vqvae.decode(tensor(safe.subarray(b0 * G * G, (b0 + k) * G * G), [k, G, G])).keepAlive()));
    try {
      data.set((await img.toArray()) as Float32Array, b0 * 3 * S * S);
    } finally {
      img.dispose();
    }
  }
  return data;
}
