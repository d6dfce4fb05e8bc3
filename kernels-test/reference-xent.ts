// Plain TypeScript reference (float64) for the fused softmax cross-entropy (xent*.wgsl, src/ops/xent.ts)
// on dense logits [N, V] and integer targets [N], with PyTorch's semantics:
//   loss_r = (1−ε)·(lse_r − x[r, t_r]) + ε·mean_j (lse_r − x[r, j])       lse_r = log Σ_j exp x[r, j]
// Rows whose target is `ignoreIndex` are skipped (loss 0, gradient 0, not counted); a target outside
// [0, V) that is not ignored gives a NaN loss and a zero gradient row (the op's documented behaviour).
// 'mean' divides by the number of non-ignored rows, and is 0 when every row is ignored.

export type XentReduction = 'mean' | 'sum' | 'none';

export interface XentRefOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: XentReduction;
}

export interface XentRef {
  /** per-row losses [N] */
  rows: Float64Array;
  /** the reduced loss ('none': the rows again) */
  loss: Float64Array;
  /** ∂(Σ upstream · loss)/∂logits [N·V], for the given upstream gradient */
  grad: Float64Array;
}

/**
 * Forward and backward of cross-entropy. `upstream` is the gradient of the output: one value for
 * 'mean'/'sum' (default 1), or one per row for 'none' (default all ones).
 */
export function crossEntropyRef(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  N: number,
  V: number,
  opts: XentRefOptions = {},
  upstream?: ArrayLike<number>,
): XentRef {
  const { ignoreIndex = -100, labelSmoothing: eps = 0, reduction = 'mean' } = opts;
  const rows = new Float64Array(N);
  const unit = new Float64Array(N * V); // gradient of each row's loss, before the upstream factor
  let count = 0;
  for (let r = 0; r < N; r++) {
    const t = targets[r];
    if (t === ignoreIndex) continue;
    count++;
    if (!(t >= 0 && t < V)) {
      rows[r] = NaN;
      continue;
    }
    const b = r * V;
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, logits[b + j]);
    let s = 0;
    let meanX = 0;
    for (let j = 0; j < V; j++) {
      s += Math.exp(logits[b + j] - m);
      meanX += logits[b + j] / V;
    }
    const lse = m + Math.log(s);
    rows[r] = (1 - eps) * (lse - logits[b + t]) + eps * (lse - meanX);
    for (let j = 0; j < V; j++) unit[b + j] = Math.exp(logits[b + j] - lse) - eps / V - (j === t ? 1 - eps : 0);
  }

  let loss: Float64Array;
  const factor = new Float64Array(N);
  if (reduction === 'none') {
    loss = rows;
    for (let r = 0; r < N; r++) factor[r] = upstream ? upstream[r] : 1;
  } else {
    let total = 0;
    for (let r = 0; r < N; r++) total += rows[r];
    const norm = reduction === 'sum' ? 1 : count > 0 ? 1 / count : 0;
    loss = Float64Array.of(total * norm);
    factor.fill((upstream ? upstream[0] : 1) * norm);
  }
  const grad = unit.map((v, i) => v * factor[Math.floor(i / V)]);
  return { rows, loss, grad };
}
