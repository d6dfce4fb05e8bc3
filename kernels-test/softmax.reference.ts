// Plain TypeScript references for softmax.wgsl / softmax_grad.wgsl (float64 accumulation), on
// dense [rows, len] matrices.

export function softmaxRows(x: Float32Array, rows: number, len: number, log = false): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    const b = r * len;
    let m = -Infinity;
    for (let j = 0; j < len; j++) m = Math.max(m, x[b + j]);
    let s = 0;
    for (let j = 0; j < len; j++) s += Math.exp(x[b + j] - m);
    for (let j = 0; j < len; j++) y[b + j] = log ? x[b + j] - m - Math.log(s) : Math.exp(x[b + j] - m) / s;
  }
  return y;
}

/** dx from the forward output y and the output gradient g. */
export function softmaxRowsGrad(y: Float32Array, g: Float32Array, rows: number, len: number, log = false): Float32Array {
  const dx = new Float32Array(y.length);
  for (let r = 0; r < rows; r++) {
    const b = r * len;
    let dot = 0;
    for (let j = 0; j < len; j++) dot += log ? g[b + j] : g[b + j] * y[b + j];
    for (let j = 0; j < len; j++) dx[b + j] = log ? g[b + j] - Math.exp(y[b + j]) * dot : y[b + j] * (g[b + j] - dot);
  }
  return dx;
}
