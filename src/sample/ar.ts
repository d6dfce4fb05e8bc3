// Autoregressive sampling with a key/value cache. A sampler is a function of a logits function, a
// shape and options; it never imports a model. The logits function is the model's cached forward:
//   logits(inputs i32 [B, n], pos) → f32 [B, n, V]   for input positions pos..pos+n−1,
// where input position 0 holds a conditioning token (start or class) and position j ≥ 1 holds
// content token j−1, so the output at position j predicts content token j.
// Tokens stay on the GPU between steps (filtering and sampling are kernels); one readback at the end.

import { noGrad } from '../autograd/tape.js';
import { runtime } from '../device/runtime.js';
import { Generator, sampleCategorical } from '../ops/random.js';
import { concat, copyInto, reshape, slice } from '../ops/layout.js';
import { zeros } from '../ops/creation.js';
import { keep, tidy } from '../tensor/scope.js';
import { tensor, type Tensor } from '../tensor/tensor.js';
import { checkFilterOptions, filterLogits, type FilterOptions } from './filter.js';

export type CachedLogits = (inputs: Tensor, pos: number) => Tensor;

export interface ARSampleOptions extends FilterOptions {
  seed?: number;
  /** conditioning token per sequence, [B] (start token, or a class token) */
  start: Int32Array;
  /** given first tokens, [B, prefixLength] row-major; they are kept as they are */
  prefix?: Int32Array;
  prefixLength?: number;
  /** called after each position with the number of positions done (progress, row-by-row drawing) */
  onStep?: (done: number) => void | Promise<void>;
}

export interface SampleShape {
  batch: number;
  length: number;
}

/** Samples [B, length] tokens; returns them row-major. */
export async function sampleAR(logits: CachedLogits, shape: SampleShape, opts: ARSampleOptions): Promise<Int32Array> {
  const { batch: B, length: L } = shape;
  checkFilterOptions(opts);
  const P = opts.prefixLength ?? 0;
  if (opts.start.length !== B) throw new Error(`sampleAR: ${opts.start.length} start tokens for a batch of ${B}.`);
  if (!Number.isInteger(P) || P < 0 || P >= L) throw new Error(`sampleAR: prefix length ${P} must be in 0..${L - 1}.`);
  if (P > 0 && opts.prefix?.length !== B * P) throw new Error(`sampleAR: the prefix holds ${opts.prefix?.length ?? 0} tokens, expected ${B}×${P}.`);
  const gen = new Generator(opts.seed ?? 0);
  const out = keep(zeros([B, L], 'i32'));
  let tok: Tensor | null = null;
  try {
    for (let i = P; i < L; i++) {
      const next: Tensor = noGrad(() =>
        tidy(() => {
          // The first call feeds the conditioning token and the whole prefix; later calls one token.
          const inputs = i === P
            ? P > 0
              ? concat([tensor(opts.start, [B, 1]), tensor(opts.prefix!, [B, P])], 1)
              : tensor(opts.start, [B, 1])
            : reshape(tok!, [B, 1]);
          const pos = i === P ? 0 : i;
          const lg = logits(inputs, pos); // [B, n, V]
          const n = lg.shape[1];
          const last = reshape(slice(lg, 1, n - 1, n), [B, -1]);
          const s = sampleCategorical(filterLogits(last, opts), gen, 1);
          const col = out.view([B, 1], out.strides, i);
          copyInto(reshape(s, [B, 1]), col);
          col.dispose();
          return s.keepAlive();
        }),
      );
      tok?.dispose();
      tok = next;
      await runtime().throttle();
      await opts.onStep?.(i + 1);
    }
    if (P > 0) {
      const pre = tensor(opts.prefix!, [B, P]);
      const win = out.view([B, P], out.strides, 0);
      copyInto(pre, win);
      win.dispose();
      pre.dispose();
    }
    return (await out.toArray()) as Int32Array;
  } finally {
    tok?.dispose();
    out.dispose();
  }
}
