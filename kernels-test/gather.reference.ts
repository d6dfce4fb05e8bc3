// Plain TypeScript references for gather.wgsl (gatherLast and its gradient) on [rows, len].

export function gatherLastRef(x: Float32Array, idx: Int32Array, len: number): Float32Array {
  return Float32Array.from(idx, (j, r) => (j >= 0 && j < len ? x[r * len + j] : 0));
}

export function gatherLastGradRef(g: Float32Array, idx: Int32Array, len: number): Float32Array {
  const dx = new Float32Array(idx.length * len);
  idx.forEach((j, r) => {
    if (j >= 0 && j < len) dx[r * len + j] = g[r];
  });
  return dx;
}
