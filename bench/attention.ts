// attention bench: our attention op (src/ops/attention.ts: the fused kernels, or for long
// bidirectional attention on CPU adapters the stored-scores path, `storesScores`, with the fused
// kernels' figure in the notes) against `unfused` (our own matmul + softmax + matmul, which stores
// the T×T scores and probabilities) and TF.js (the same composition with tf.grads), all on the
// same adapter.
//   B1_H4_T1024_d64_{causal,bidir}_fwdbwd: forward + backward of q, k, v. GFLOP/s counts the
//     forward as 4·B·H·T²·d (two T×T×d products; halved for causal) and forward + backward as
//     3.5× that (backward = 5 such products), for every contender alike.
//   B9_H4_T256_d64_decode: one new query per sequence against a 256-row key/value cache
//     (autoregressive sampling); tokens/s = B / seconds per step.
// In the fwd+bwd cases ours and `unfused` are timed in alternating batches (harness.ts
// timeSideBySide), 2 × minSeconds each. Notes report the bytes each contender keeps alive between forward and backward (ours: O and L;
// unfused: also the T×T probabilities), measured from the buffer pool.

import { backward } from '../src/autograd/tape.js';
import { runtime } from '../src/device/runtime.js';
import { attention, storesScores } from '../src/ops/attention.js';
import { attentionDecode } from '../src/ops/attention-decode.js';
import { currentDevice } from '../src/ops/matmul.js';
import { add, mulScalar } from '../src/ops/elementwise.js';
import { transpose } from '../src/ops/layout.js';
import { matmul } from '../src/ops/matmul.js';
import { softmax } from '../src/ops/softmax.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../kernels-test/reference.js';
import { timeGpu, timePeer, timeSideBySide, type Bench, type BenchResult } from './harness.js';
import { loadTf } from './tfjs.js';

interface Case {
  B: number; H: number; T: number; d: number;
  mode: 'causal' | 'bidir' | 'decode';
}

function parseCase(name: string): Case {
  const m = /^B(\d+)_H(\d+)_T(\d+)_d(\d+)_(causal_fwdbwd|bidir_fwdbwd|decode)$/.exec(name);
  if (!m) throw new Error(`attention bench: bad case '${name}' (want B<n>_H<n>_T<n>_d<n>_{causal_fwdbwd,bidir_fwdbwd,decode}).`);
  const mode = m[5] === 'decode' ? 'decode' : m[5] === 'causal_fwdbwd' ? 'causal' : 'bidir';
  return { B: +m[1], H: +m[2], T: +m[3], d: +m[4], mode };
}

/** Additive causal mask [T, T]: 0 on and below the diagonal, −1e9 above. */
function causalMaskData(T: number): Float32Array {
  const m = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
  return m;
}

/** softmax(scale · q·kᵀ + mask) · v from our unfused ops (autograd through each). */
function unfused(q: Tensor, k: Tensor, v: Tensor, scale: number, mask: Tensor | null): Tensor {
  const kt = transpose(k);
  const s = mulScalar(matmul(q, kt), scale);
  const p = softmax(mask ? add(s, mask) : s, -1);
  return matmul(p, v);
}

/** Pool bytes that stay live after `forward` (its graph and output kept, as before a backward). */
function retainedBytes(forward: () => Tensor): number {
  const pool = runtime().pool;
  let delta = 0;
  tidy(() => {
    const before = pool.getStats().liveBytes;
    forward();
    delta = pool.getStats().liveBytes - before;
  });
  return delta;
}

async function fwdbwd(c: Case, minSeconds: number, peers: boolean): Promise<BenchResult> {
  const { B, H, T, d } = c;
  const causal = c.mode === 'causal';
  const scale = 1 / Math.sqrt(d);
  const flopFwd = (4 * B * H * T * T * d) / (causal ? 2 : 1);
  const flop = 3.5 * flopFwd;
  const rng = new Rng(1);
  const n = B * H * T * d;
  const hq = rng.array(n), hk = rng.array(n), hv = rng.array(n), hg = rng.array(n);
  const shape = [B, H, T, d];
  const [q, k, v] = [hq, hk, hv].map((x) => {
    const t = tensor(x, shape);
    t.requiresGrad = true;
    return t;
  });
  const dO = tensor(hg, shape);
  const mask = causal ? tensor(causalMaskData(T), [T, T]) : null;
  const dropGrads = () => {
    for (const t of [q, k, v]) { t.grad?.dispose(); t.grad = null; }
  };
  const step = (f: () => Tensor) => () => {
    tidy(() => backward(f(), dO));
    dropGrads();
  };
  // ours: what attention() does by default (bidirectional at length on a CPU adapter: the stored
  // scores, the same composition as `unfused`); the fused kernels are timed too when not the default.
  const stored = storesScores(currentDevice(), B * H, T, T, causal);
  const ours = () => attention(q, k, v, { causal });
  const naive = () => unfused(q, k, v, scale, mask);
  // Ours and the unfused peer in alternating batches (the ratio is the aim; the machine drifts).
  const sync = () => runtime().sync();
  const side = await timeSideBySide({ ours: { step: step(ours), sync }, unfused: { step: step(naive), sync } }, 2 * minSeconds);
  const sOurs = side.ours, sUnfused = side.unfused;
  const sFused = stored ? await timeGpu(step(() => attention(q, k, v, { causal, scores: 'fused' })), minSeconds) : sOurs;
  const bytesOurs = retainedBytes(ours), bytesUnfused = retainedBytes(naive);

  let tfGflops: number | null = null;
  const tf = peers ? await loadTf() : null;
  if (tf) {
    const [tq, tk, tv, tg] = [hq, hk, hv, hg].map((x) => tf.tensor4d(x, shape as [number, number, number, number]));
    const tmask = causal ? tf.tensor2d(causalMaskData(T), [T, T]) : null;
    const f = (a: import('@tensorflow/tfjs').Tensor, b: import('@tensorflow/tfjs').Tensor, cc: import('@tensorflow/tfjs').Tensor) => {
      const s = tf.mul(tf.matMul(a, b, false, true), scale);
      return tf.matMul(tf.softmax(tmask ? tf.add(s, tmask) : s), cc);
    };
    const grads = tf.grads(f);
    const s = await timePeer(async () => {
      // Sync on one element of each gradient: waits for the work without timing a big readback.
      const corner = tf.tidy(() => tf.stack(grads([tq, tk, tv], tg).map((g) => tf.slice(g, [0, 0, 0, 0], [1, 1, 1, 1]).reshape([1]))));
      await corner.data();
      corner.dispose();
    }, minSeconds);
    for (const t of [tq, tk, tv, tg]) t.dispose();
    tmask?.dispose();
    tfGflops = flop / s / 1e9;
  }
  for (const t of [q, k, v, dO]) t.dispose();
  mask?.dispose();
  return {
    bench: 'attention',
    case: `B${B}_H${H}_T${T}_d${d}_${causal ? 'causal' : 'bidir'}_fwdbwd`,
    metric: 'GFLOP/s',
    ours: flop / sOurs / 1e9,
    vs: { unfused: flop / sUnfused / 1e9, 'tfjs-webgpu': tfGflops },
    notes: {
      'ms/step': sOurs * 1e3,
      'FLOP count': `3.5 × forward (4·B·H·T²·d${causal ? ' / 2' : ''})`,
      'path (attention() default)': stored ? 'stored scores (matmul + softmax + matmul)' : 'fused kernels',
      ...(stored ? { 'fused kernels (forced), GFLOP/s': flop / sFused / 1e9 } : {}),
      [`bytes kept for backward, ours (${stored ? 'incl. T×T probabilities' : 'O + L'})`]: bytesOurs,
      'bytes kept for backward, unfused (incl. T×T scores)': bytesUnfused,
      ...(stored ? {} : { 'backward temporaries, ours (D; dQ/dK/dV are outputs)': B * H * T * 4 }),
    },
  };
}

async function decode(c: Case, minSeconds: number, peers: boolean): Promise<BenchResult> {
  const { B, H, T, d } = c;
  const scale = 1 / Math.sqrt(d);
  const rng = new Rng(2);
  const hq = rng.array(B * H * d), hk = rng.array(B * H * T * d), hv = rng.array(B * H * T * d);
  const q = tensor(hq, [B, H, 1, d]), kc = tensor(hk, [B, H, T, d]), vc = tensor(hv, [B, H, T, d]);
  const sOurs = await timeGpu(() => attentionDecode(q, kc, vc, T).dispose(), minSeconds);
  const sUnfused = await timeGpu(() => tidy(() => unfused(q, kc, vc, scale, null)).dispose(), minSeconds);

  let tfRate: number | null = null;
  const tf = peers ? await loadTf() : null;
  if (tf) {
    const tq = tf.tensor4d(hq, [B, H, 1, d]), tk = tf.tensor4d(hk, [B, H, T, d]), tv = tf.tensor4d(hv, [B, H, T, d]);
    const s = await timePeer(async () => {
      const corner = tf.tidy(() => {
        const o = tf.matMul(tf.softmax(tf.mul(tf.matMul(tq, tk, false, true), scale)), tv);
        return tf.slice(o, [0, 0, 0, 0], [1, 1, 1, 1]);
      });
      await corner.data();
      corner.dispose();
    }, minSeconds);
    for (const t of [tq, tk, tv]) t.dispose();
    tfRate = B / s;
  }
  for (const t of [q, kc, vc]) t.dispose();
  return {
    bench: 'attention',
    case: `B${B}_H${H}_T${T}_d${d}_decode`,
    metric: 'tokens/s',
    ours: B / sOurs,
    vs: { unfused: B / sUnfused, 'tfjs-webgpu': tfRate },
    notes: { 'ms/step': sOurs * 1e3, 'per step': `${B} sequences × ${H} heads, one query each against ${T} cached rows` },
  };
}

export const bench: Bench = {
  name: 'attention',
  // (B32_H4_T64_d32: the priors' own shape, 3 × 128 with 4 heads over an 8×8 grid, batch 32)
  cases: ['B1_H4_T1024_d64_causal_fwdbwd', 'B1_H4_T1024_d64_bidir_fwdbwd', 'B4_H4_T256_d64_bidir_fwdbwd', 'B1_H4_T512_d64_bidir_fwdbwd', 'B32_H4_T64_d32_causal_fwdbwd', 'B32_H4_T64_d32_bidir_fwdbwd', 'B9_H4_T256_d64_decode'],
  async run(caseName, opts) {
    const c = parseCase(caseName);
    return c.mode === 'decode' ? decode(c, opts.minSeconds, opts.peers) : fwdbwd(c, opts.minSeconds, opts.peers);
  },
};
