// Reference of sample_filter.wgsl (src/sample/filter.ts) by sorting, in float64 after the f32
// temperature scaling: y = x / T; keep the values ≥ the k-th largest (ties at the threshold all
// kept), then, of those, the values ≥ the smallest top set whose softmax mass is ≥ top_p (ties kept);
// everything else becomes CUT.

export const CUT = -3e38;

export interface FilterRef {
  temperature?: number;
  topK?: number;
  topP?: number;
}

export interface FilteredRow {
  y: Float32Array;
  /**
   * True when the top-p boundary is within `eps` of a cumulative mass (float32 summation order
   * may then legitimately pick the neighbouring set).
   */
  ambiguous: boolean;
}

export function sampleFilterRow(x: ArrayLike<number>, o: FilterRef, eps = 1e-5): FilteredRow {
  const V = x.length;
  const inv = Math.fround(1 / (o.temperature ?? 1));
  const v = Float32Array.from(x, (a) => Math.fround(a * inv));
  const desc = Array.from(v).sort((a, b) => b - a);
  let thresh = -Infinity;
  const k = o.topK ?? 0;
  if (k > 0 && k < V) thresh = desc[k - 1];
  let ambiguous = false;
  const p = o.topP ?? 1;
  if (p < 1) {
    const kept = desc.filter((a) => a >= thresh);
    const w = kept.map((a) => Math.exp(a - kept[0]));
    const total = w.reduce((s, a) => s + a, 0);
    let cum = 0;
    for (let i = 0; i < kept.length; i++) {
      cum += w[i];
      if (Math.abs(cum / total - p) < eps) ambiguous = true;
      if (cum >= p * total) {
        thresh = kept[i];
        break;
      }
    }
  }
  return { y: v.map((a) => (a >= thresh ? a : CUT)), ambiguous };
}

/** Rows [N, V] → filtered rows, plus the indices of ambiguous rows. */
export function sampleFilter(x: Float32Array, N: number, V: number, o: FilterRef): { y: Float32Array; ambiguous: Set<number> } {
  const y = new Float32Array(N * V), ambiguous = new Set<number>();
  for (let r = 0; r < N; r++) {
    const row = sampleFilterRow(x.subarray(r * V, (r + 1) * V), o);
    y.set(row.y, r * V);
    if (row.ambiguous) ambiguous.add(r);
  }
  return { y, ambiguous };
}
