// Plain TypeScript references for norm.wgsl / norm_grad.wgsl / norm_param_grad.wgsl (float64),
// for x viewed as [n, c, s] normalised per (sample, group of c/groups channels):
// layerNorm x [rows, D] is n = rows, c = D, s = 1, groups = 1.

export interface NormRef {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
  db: Float32Array;
}

/**
 * Forward with weight w and bias b (null: none), then SiLU when `silu`, and the gradients for an
 * output gradient g.
 */
export function normRef(
  x: Float32Array, n: number, c: number, s: number, groups: number,
  w: Float32Array | null, b: Float32Array | null, g: Float32Array, eps = 1e-5, silu = false,
): NormRef {
  const y = new Float32Array(x.length), dx = new Float32Array(x.length);
  const dw = new Float64Array(c), db = new Float64Array(c);
  const cpg = c / groups, len = cpg * s;
  for (let i = 0; i < n; i++) {
    for (let grp = 0; grp < groups; grp++) {
      const base = (i * c + grp * cpg) * s; // the group is a contiguous run of len values
      let mean = 0;
      for (let j = 0; j < len; j++) mean += x[base + j];
      mean /= len;
      let v = 0;
      for (let j = 0; j < len; j++) v += (x[base + j] - mean) ** 2;
      const rstd = 1 / Math.sqrt(v / len + eps);
      // The gradient at a = x̂·w + b: g, or g·silu'(a) through the SiLU.
      const ga = new Float64Array(len);
      let s1 = 0, s2 = 0;
      for (let j = 0; j < len; j++) {
        const ch = grp * cpg + Math.floor(j / s);
        const xh = (x[base + j] - mean) * rstd;
        const a = xh * (w ? w[ch] : 1) + (b ? b[ch] : 0);
        const sig = 1 / (1 + Math.exp(-a));
        y[base + j] = silu ? a * sig : a;
        ga[j] = silu ? g[base + j] * sig * (1 + a * (1 - sig)) : g[base + j];
        const gy = ga[j] * (w ? w[ch] : 1);
        s1 += gy;
        s2 += gy * xh;
        dw[ch] += ga[j] * xh;
        db[ch] += ga[j];
      }
      for (let j = 0; j < len; j++) {
        const ch = grp * cpg + Math.floor(j / s);
        const xh = (x[base + j] - mean) * rstd;
        const gy = ga[j] * (w ? w[ch] : 1);
        dx[base + j] = rstd * (gy - s1 / len - (xh * s2) / len);
      }
    }
  }
  return { y, dx, dw: Float32Array.from(dw), db: Float32Array.from(db) };
}
