// Plain TypeScript references for embedding.wgsl: lookup and table gradient (float64 sums).
// Out-of-range indices read zeros and receive no gradient.

export function embeddingRef(idx: Int32Array, table: Float32Array, vocab: number, dim: number): Float32Array {
  const out = new Float32Array(idx.length * dim);
  idx.forEach((v, i) => {
    if (v >= 0 && v < vocab) for (let d = 0; d < dim; d++) out[i * dim + d] = table[v * dim + d];
  });
  return out;
}

export function embeddingGradRef(idx: Int32Array, g: Float32Array, vocab: number, dim: number): Float32Array {
  const acc = new Float64Array(vocab * dim);
  idx.forEach((v, i) => {
    if (v >= 0 && v < vocab) for (let d = 0; d < dim; d++) acc[v * dim + d] += g[i * dim + d];
  });
  return Float32Array.from(acc);
}
