// Improved precision and recall (Kynkäänniemi et al. 2019) over feature vectors. FD and KID mix
// two failures into one number; these two separate them:
//   precision: the share of generated samples that look real (fidelity),
//   recall:    the share of real samples the generator can produce (coverage of the data).
// Each set's manifold is estimated as the union of balls around its points, the radius of each
// ball being the distance to that point's k-th nearest neighbour in the same set (itself
// excluded). A point is inside a manifold when it lies in at least one ball, boundary included (the
// paper's ≤).
// Distances are Euclidean, computed directly in float64 (O(n·m·d) per pair of sets).

type Rows = Float32Array | Float64Array;

/** Squared distance between row i of a and row j of b (both [·, d]). */
function dist2(a: Rows, i: number, b: Rows, j: number, d: number): number {
  let s = 0;
  const oa = i * d, ob = j * d;
  for (let c = 0; c < d; c++) {
    const t = a[oa + c] - b[ob + c];
    s += t * t;
  }
  return s;
}

/**
 * Squared k-NN radius [n] of each row of x [n, d]: the squared distance to its k-th nearest other
 * row (another row at distance 0, a duplicate, counts as a neighbour).
 */
export function knnRadii2(x: Rows, n: number, d: number, k = 3): Float64Array {
  if (n <= k) throw new Error(`k-NN radii need more than k = ${k} rows (got ${n})`);
  const radii = new Float64Array(n);
  const best = new Float64Array(k); // the k smallest distances so far, ascending
  for (let i = 0; i < n; i++) {
    best.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const v = dist2(x, i, x, j, d);
      if (v >= best[k - 1]) continue;
      let p = k - 1;
      while (p > 0 && best[p - 1] > v) {
        best[p] = best[p - 1];
        p--;
      }
      best[p] = v;
    }
    radii[i] = best[k - 1];
  }
  return radii;
}

/** Share of rows of q [nq, d] inside the union of balls around rows of ref [nr, d] (squared radii r2 [nr]). */
export function manifoldShare(q: Rows, nq: number, ref: Rows, nr: number, r2: Float64Array, d: number): number {
  let inside = 0;
  for (let i = 0; i < nq; i++) {
    for (let j = 0; j < nr; j++) {
      if (dist2(q, i, ref, j, d) <= r2[j]) {
        inside++;
        break;
      }
    }
  }
  return inside / nq;
}

/** Improved precision and recall of generated features `fake` [m, d] against `real` [n, d]. */
export function precisionRecall(real: Rows, n: number, fake: Rows, m: number, d: number, k = 3): { precision: number; recall: number } {
  const realR2 = knnRadii2(real, n, d, k), fakeR2 = knnRadii2(fake, m, d, k);
  return { precision: manifoldShare(fake, m, real, n, realR2, d), recall: manifoldShare(real, n, fake, m, fakeR2, d) };
}
