// sample-ar bench: autoregressive sampling speed of a prior (3 layers × 128, 4 heads, codebook 256,
// random weights: speed does not depend on training), tokens/s for a batch of B sequences of L
// tokens. Ours: the key/value cache and the single-query attention path (one position per step).
// Peer `recompute`: the same sampler with a logits function that reruns the full forward over the
// whole prefix at every step (what sampling costs without a cache). Cases 'B<batch>_L<tokens>'.

import { noGrad } from '../src/autograd/tape.js';
import { makePriorConfig } from '../src/models/prior/config.js';
import { Prior } from '../src/models/prior/prior.js';
import { manualSeed } from '../src/nn/init.js';
import { concat } from '../src/ops/layout.js';
import { sampleAR } from '../src/sample/ar.js';
import { keep } from '../src/tensor/scope.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { timePeer, type Bench, type BenchResult } from './harness.js';

function model(L: number): Prior {
  manualSeed(1);
  const grid = Math.round(Math.sqrt(L));
  return new Prior(makePriorConfig({ prior: 'ar', codebook: 256, grid, classes: 0, tokenizerChecksum: 'bench', dim: 128, layers: 3, heads: 4 }));
}

export const bench: Bench = {
  name: 'sample-ar',
  cases: ['B9_L64', 'B64_L64', 'B9_L256'],
  async run(caseName, opts): Promise<BenchResult> {
    const m = /^B(\d+)_L(\d+)$/.exec(caseName);
    if (!m) throw new Error(`sample-ar bench: bad case '${caseName}' (want B<batch>_L<tokens>).`);
    const [B, L] = [Number(m[1]), Number(m[2])];
    const prior = model(L);
    prior.eval();
    const start = new Int32Array(B).fill(256);
    const cached = async () => {
      const kv = prior.net.newCache(B);
      try {
        await sampleAR((x, pos) => prior.net.forwardCached(x, kv, pos), { batch: B, length: L }, { start, seed: 1 });
      } finally {
        for (const c of kv) { c.k.dispose(); c.v.dispose(); }
      }
    };
    const recompute = async () => {
      let history: Tensor | null = null;
      try {
        await sampleAR((x) => {
          const next: Tensor = history ? concat([history, x], 1) : x.view(x.shape, x.strides, x.offset);
          if (history) history.dispose();
          history = keep(next);
          return noGrad(() => prior.net.forward(next));
        }, { batch: B, length: L }, { start, seed: 1 });
      } finally {
        (history as Tensor | null)?.dispose();
      }
    };
    const tOurs = await timePeer(cached, opts.minSeconds);
    const tFull = await timePeer(recompute, opts.minSeconds);
    prior.dispose();
    return {
      bench: 'sample-ar', case: caseName, metric: 'tokens/s',
      ours: (B * L) / tOurs, vs: { recompute: (B * L) / tFull },
      notes: { 'ms per batch (cache)': tOurs * 1000, 'ms per batch (recompute)': tFull * 1000 },
    };
  },
};
