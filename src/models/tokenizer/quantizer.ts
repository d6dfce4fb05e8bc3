// Vector quantizer on the nearest-codebook kernel: z_e [N, D, G, G] → z_q (same shape) and token
// indices [N, G, G]. The decoder's gradient reaches the encoder by one of two estimators:
//   - 'ste', straight-through: z_st = z_e + detach(z_q − z_e), the gradient passes unchanged;
//   - 'rotation', the rotation trick (Fifty et al., 2024, "Restructuring Vector Quantization with
//     the Rotation Trick"): z_st = λ·R·z_e with R the rotation that takes ẑ_e onto ẑ_q and
//     λ = ‖z_q‖/‖z_e‖, both held constant. The value is z_q; the gradient is λ·Rᵀ·g, so it keeps
//     its angle to the code: it tells the encoder about z_e's position relative to z_q.
//   - learned codebook (ema false): loss = ‖sg(z_e) − z_q‖² + β·‖z_e − sg(z_q)‖²
//   - EMA codebook (ema true): loss = β·‖z_e − sg(z_q)‖²; the codebook follows the running means of
//     the vectors assigned to each code (vq_ema_*.wgsl), with dead-code restarts.
// Usage statistics (counts per code) accumulate on the GPU and are read only at log time.

import emaAccSrc from '../../../shaders/vq_ema_accumulate.wgsl';
import emaNormSrc from '../../../shaders/vq_ema_normalize.wgsl';
import { noGrad } from '../../autograd/tape.js';
import { Module } from '../../nn/module.js';
import { uniform } from '../../nn/init.js';
import { nearestCode, gatherRows } from '../../ops/codebook.js';
import { full, zeros } from '../../ops/creation.js';
import { add, addScalar, mul, mulScalar, reciprocal, rsqrt, square, sub } from '../../ops/elementwise.js';
import { grid1d, kernel, launch, Params } from '../../ops/launch.js';
import { clone, contiguous, permute, reshape } from '../../ops/layout.js';
import { mean, sum } from '../../ops/reduce.js';
import { detach, straightThrough } from '../../ops/detach.js';
import { keep, tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { QuantizerConfig } from './config.js';

const EMA_ACC = kernel('vq_ema_accumulate', emaAccSrc);
const EMA_NORM = kernel('vq_ema_normalize', emaNormSrc);

export interface QuantizerOutput {
  /** [N, D, G, G] straight-through quantized codes (gradient flows to z_e) */
  zq: Tensor;
  /** [N, G, G] i32 token indices */
  indices: Tensor;
  /** scalar: commitment (+ codebook) loss */
  loss: Tensor;
  /** flattened encoder outputs [M, D] (after l2 normalisation if on): the EMA update's input */
  flat: Tensor;
  /** [K] assignments of this batch (EMA mode or when stats are asked) */
  counts?: Tensor;
  sums?: Tensor;
}

/**
 * λ·R·z with R, λ held constant (rotation trick): z, q [M, D] → [M, D], equal to q in value.
 * R = I − 2·r·rᵀ + 2·q̂·ẑᵀ with r = (ẑ + q̂)/‖ẑ + q̂‖ (a reflection through r, then one through q̂),
 * applied as z − 2·r·(r·z) + 2·q̂·(ẑ·z): no D×D matrix.
 */
export function rotateOnto(z: Tensor, q: Tensor): Tensor {
  const eps = 1e-12;
  const zs = detach(z), qs = detach(q);
  const zinv = rsqrt(addScalar(sum(square(zs), -1, true), eps)); // [M, 1]
  const qinv = rsqrt(addScalar(sum(square(qs), -1, true), eps));
  const zh = mul(zs, zinv), qh = mul(qs, qinv);
  const w = add(zh, qh);
  const r = mul(w, rsqrt(addScalar(sum(square(w), -1, true), eps)));
  const lambda = mul(zinv, reciprocal(qinv)); // ‖q‖/‖z‖
  const rz = sum(mul(r, z), -1, true), ez = sum(mul(zh, z), -1, true);
  const rotated = add(sub(z, mulScalar(mul(r, rz), 2)), mulScalar(mul(qh, ez), 2));
  return mul(rotated, lambda);
}

function l2normalize(x: Tensor): Tensor {
  // x [..., D] / ‖x‖
  return mul(x, rsqrt(addScalar(sum(square(x), -1, true), 1e-12)));
}

export class VectorQuantizer extends Module {
  /** [K, D] */
  readonly codebook: Tensor;
  private emaN: Tensor | null = null;
  private emaM: Tensor | null = null;
  /** [K] assignments since the last `takeUsage()` */
  private usage: Tensor;
  private updates = 0;

  constructor(readonly K: number, readonly D: number, readonly cfg: QuantizerConfig) {
    super();
    const init = uniform([K, D], -1 / K, 1 / K);
    if (cfg.ema) {
      // The EMA codebook is state, not a trained parameter.
      this.codebook = this.buffer('codebook', init);
      // Counts start at 0: every code unused in the first batch is dead and restarts from the
      // encoder's outputs at the first restart step (a data-dependent initialisation).
      this.emaN = this.buffer('ema_count', full([K], 0));
      this.emaM = this.buffer('ema_sum', clone(init));
    } else {
      this.codebook = this.param('codebook', init);
    }
    this.usage = keep(zeros([K]));
  }

  /** Codes of z (no gradient): [N, D, G, G] → [N, G, G] i32. */
  encodeIndices(ze: Tensor): Tensor {
    const [N, , G1, G2] = ze.shape;
    return noGrad(() => tidy(() => reshape(nearestCode(this.flatten(ze), this.searchBook()).index, [N, G1, G2])));
  }

  /** The code vectors of tokens [...] i32 → [..., D], as the decoder sees them in `forward` (l2-normalised when on). */
  lookup(tokens: Tensor): Tensor {
    return gatherRows(this.searchBook(), tokens);
  }

  private flatten(ze: Tensor): Tensor {
    const [N, D, G1, G2] = ze.shape;
    if (D !== this.D) throw new Error(`VectorQuantizer: input has ${D} channels, the codebook ${this.D}.`);
    const flat = reshape(permute(ze, [0, 2, 3, 1]), [N * G1 * G2, D]);
    return this.cfg.l2norm ? l2normalize(flat) : flat;
  }

  private searchBook(): Tensor {
    return this.cfg.l2norm ? l2normalize(this.codebook) : this.codebook;
  }

  forward(ze: Tensor, stats = false): QuantizerOutput {
    const [N, D, G1, G2] = ze.shape;
    const flat = this.flatten(ze);
    const book = this.searchBook();
    const wantStats = stats || (this.cfg.ema && this.training);
    const found = nearestCode(detach(flat), detach(book), { stats: wantStats });
    found.dist.dispose();
    const q = gatherRows(book, found.index); // [M, D], gradient to the codebook when learned
    const commit = mulScalar(mean(square(sub(flat, detach(q)))), this.cfg.beta);
    const loss = this.cfg.ema ? commit : add(commit, mean(square(sub(detach(flat), q))));
    // The rotation trick only shapes the gradient: in evaluation z_q itself goes on.
    const st = this.cfg.estimator === 'rotation' && this.training ? rotateOnto(flat, q) : straightThrough(q, flat);
    const zq = permute(reshape(st, [N, G1, G2, D]), [0, 3, 1, 2]);
    if (found.counts) {
      const u = add(this.usage, found.counts);
      this.usage.dispose();
      this.usage = keep(u);
    }
    return { zq, indices: reshape(found.index, [N, G1, G2]), loss, flat, counts: found.counts, sums: found.sums };
  }

  /**
   * The EMA codebook step (after the optimizer step, outside autograd). `restart` moves dead codes
   * to encoder outputs of this batch; `seed` varies which.
   */
  emaUpdate(out: QuantizerOutput, restart: boolean, seed: number, gate: Tensor | null = null): void {
    if (!this.cfg.ema || !out.counts || !out.sums) return;
    const K = this.K, D = this.D, M = out.flat.shape[0];
    noGrad(() => {
      const flat = contiguous(out.flat);
      // gate: the generator's step factor (0 = skipped step, the codebook must not move either)
      const g = gate ?? full([1], 1);
      launch(EMA_ACC, new Params().u32(K, D).f32(this.cfg.decay).u32(0), [out.counts!, out.sums!, this.emaN!, this.emaM!, g], grid1d(K, 64), { WG: 64 });
      const n = sum(this.emaN!);
      launch(
        EMA_NORM,
        new Params().u32(K, D, M, restart ? 1 : 0).f32(this.cfg.eps, this.cfg.restartBelow).u32(seed >>> 0, 0),
        [flat, n, this.emaN!, this.emaM!, this.codebook, g],
        grid1d(K, 64),
        { WG: 64 },
      );
      n.dispose();
      flat.dispose();
      if (g !== gate) g.dispose();
    });
    this.updates++;
  }

  /** Frees the codebook state and the usage counts (which are not a registered buffer). */
  override dispose(): void {
    super.dispose();
    this.usage.dispose();
  }

  /** Per-code assignment counts since the last call (read back: call at log time only). */
  async takeUsage(): Promise<Float32Array> {
    const u = (await this.usage.toArray()) as Float32Array;
    const z = keep(zeros([this.K]));
    this.usage.dispose();
    this.usage = z;
    return u;
  }
}

/** Fraction of codes used and the perplexity exp(H) of the code distribution. */
export function usageStats(counts: Float32Array): { usage: number; perplexity: number } {
  const total = counts.reduce((a, b) => a + b, 0);
  let used = 0, h = 0;
  for (const c of counts) {
    if (c > 0) {
      used++;
      const p = c / total;
      h -= p * Math.log(p);
    }
  }
  return { usage: used / counts.length, perplexity: Math.exp(h) };
}

