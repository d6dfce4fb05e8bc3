// Plain TypeScript reference for attention (float64): materialises the full score matrix per head,
// the straightforward way the fused kernels avoid. Layout as the op: [B·H heads, T, d] dense.

export interface AttentionShape {
  heads: number; // B·H
  tq: number;
  tk: number;
  d: number;
  causal: boolean;
  scale: number;
}

/** P[h] = softmax(scale · Q[h]·K[h]ᵀ, masked) as float64 [tq, tk] per head; masked entries are 0. */
function probabilities(q: ArrayLike<number>, k: ArrayLike<number>, s: AttentionShape, h: number): { p: Float64Array; lse: Float64Array } {
  const { tq, tk, d, causal, scale } = s;
  const off = tk - tq;
  const p = new Float64Array(tq * tk);
  const lse = new Float64Array(tq);
  for (let i = 0; i < tq; i++) {
    const last = causal ? Math.min(i + off, tk - 1) : tk - 1;
    let mx = -Infinity;
    for (let j = 0; j <= last; j++) {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q[(h * tq + i) * d + c] * k[(h * tk + j) * d + c];
      p[i * tk + j] = scale * dot;
      mx = Math.max(mx, scale * dot);
    }
    let sum = 0;
    for (let j = 0; j <= last; j++) sum += Math.exp(p[i * tk + j] - mx);
    for (let j = 0; j <= last; j++) p[i * tk + j] = Math.exp(p[i * tk + j] - mx) / sum;
    lse[i] = mx + Math.log(sum);
  }
  return { p, lse };
}

/** O = P·V [heads, tq, d] and the row log-sum-exp L [heads, tq]. */
export function attentionForward(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, s: AttentionShape): { o: Float64Array; lse: Float64Array } {
  const { heads, tq, tk, d } = s;
  const o = new Float64Array(heads * tq * d);
  const lse = new Float64Array(heads * tq);
  for (let h = 0; h < heads; h++) {
    const { p, lse: l } = probabilities(q, k, s, h);
    lse.set(l, h * tq);
    for (let i = 0; i < tq; i++)
      for (let j = 0; j < tk; j++) {
        const pij = p[i * tk + j];
        if (pij === 0) continue;
        for (let c = 0; c < d; c++) o[(h * tq + i) * d + c] += pij * v[(h * tk + j) * d + c];
      }
  }
  return { o, lse };
}

/** Gradients of Σ O ⊙ dO with respect to q, k and v (the standard softmax-attention backward). */
export function attentionBackward(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dO: ArrayLike<number>, s: AttentionShape,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { heads, tq, tk, d, scale } = s;
  const dq = new Float64Array(heads * tq * d);
  const dk = new Float64Array(heads * tk * d);
  const dv = new Float64Array(heads * tk * d);
  for (let h = 0; h < heads; h++) {
    const { p } = probabilities(q, k, s, h);
    for (let i = 0; i < tq; i++) {
      const gi = (h * tq + i) * d;
      // dP_ij = dO_i·v_j ; dS_ij = P_ij (dP_ij − Σ_j' P_ij' dP_ij')
      const dp = new Float64Array(tk);
      let rowDot = 0;
      for (let j = 0; j < tk; j++) {
        let x = 0;
        for (let c = 0; c < d; c++) x += dO[gi + c] * v[(h * tk + j) * d + c];
        dp[j] = x;
        rowDot += p[i * tk + j] * x;
      }
      for (let j = 0; j < tk; j++) {
        const pij = p[i * tk + j];
        if (pij === 0) continue;
        const ds = pij * (dp[j] - rowDot) * scale;
        const kj = (h * tk + j) * d;
        for (let c = 0; c < d; c++) {
          dq[gi + c] += ds * k[kj + c];
          dk[kj + c] += ds * q[gi + c];
          dv[kj + c] += pij * dO[gi + c];
        }
      }
    }
  }
  return { dq, dk, dv };
}
