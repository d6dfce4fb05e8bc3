// Does a prior copy its training set? Two checks, both cheap enough to run on every evaluation:
//  - copies: the share of sampled token grids that equal some training grid token for token (a
//    prior that memorised its data reproduces whole grids; a fresh sample almost never does);
//  - nnRatio: how close samples come to the training images, relative to how close unseen real
//    images come: median over samples of the distance to the nearest training vector, divided by
//    the same median for held-out images. ≈ 1: samples are as novel as new real data; ≪ 1: the
//    samples sit on top of training images. The vectors are whatever the caller picks (pixels or
//    features); distances are Euclidean, brute force in float64 (O(n·N·d)).

type Rows = Float32Array | Float64Array;

/** Share of grids in samples [n, L] that equal a grid of train [N, L] exactly. */
export function copies(samples: Int32Array, n: number, train: Int32Array, nTrain: number, L: number): number {
  if (n === 0) return 0;
  const seen = new Set<string>();
  for (let i = 0; i < nTrain; i++) seen.add(train.subarray(i * L, (i + 1) * L).join(','));
  let hits = 0;
  for (let i = 0; i < n; i++) if (seen.has(samples.subarray(i * L, (i + 1) * L).join(','))) hits++;
  return hits / n;
}

/** Distance [nq] from each row of q [nq, d] to its nearest row of ref [nr, d]. */
export function nearestDistances(q: Rows, nq: number, ref: Rows, nr: number, d: number): Float64Array {
  if (nr === 0) throw new Error('nearest distances need at least one reference row');
  const out = new Float64Array(nq);
  for (let i = 0; i < nq; i++) {
    let best = Infinity;
    for (let j = 0; j < nr; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = q[i * d + c] - ref[j * d + c];
        s += t * t;
        if (s >= best) break;
      }
      if (s < best) best = s;
    }
    out[i] = Math.sqrt(best);
  }
  return out;
}

/** Median of the values (mean of the two middle ones for an even count). */
export function median(v: ArrayLike<number>): number {
  if (v.length === 0) throw new Error('median of an empty list');
  const s = Float64Array.from(v).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/**
 * median(nearest-train distance of samples [n, d]) / median(nearest-train distance of heldOut [h, d]),
 * train [N, d]. Infinity when only the held-out median is 0 (held-out images duplicated in train),
 * NaN when both are.
 */
export function nnRatio(samples: Rows, n: number, train: Rows, nTrain: number, heldOut: Rows, nHeldOut: number, d: number): number {
  const s = median(nearestDistances(samples, n, train, nTrain, d));
  const h = median(nearestDistances(heldOut, nHeldOut, train, nTrain, d));
  return h === 0 ? (s === 0 ? NaN : Infinity) : s / h;
}
