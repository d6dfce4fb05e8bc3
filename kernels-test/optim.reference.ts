// Plain TypeScript (float64) references for the optimizer kernels (optim_adam.wgsl,
// optim_sgd.wgsl, optim_grad_norm.wgsl): the textbook PyTorch update rules, one step, in place.

export interface AdamRefOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  decoupled: boolean;
  /** 1-based step number */
  t: number;
  /** gradient multiplier (the clip factor) */
  scale?: number;
}

export function adamStep(w: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, o: AdamRefOptions): void {
  const [b1, b2] = o.betas;
  const bc1 = 1 - b1 ** o.t, bc2 = 1 - b2 ** o.t;
  for (let i = 0; i < w.length; i++) {
    let gi = g[i] * (o.scale ?? 1);
    if (o.decoupled) w[i] *= 1 - o.lr * o.weightDecay;
    else gi += o.weightDecay * w[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    const mhat = m[i] / bc1, vhat = v[i] / bc2;
    w[i] -= (o.lr * mhat) / (Math.sqrt(vhat) + o.eps);
  }
}

export interface SgdRefOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  /** first step: the momentum buffer starts as the gradient */
  first: boolean;
  scale?: number;
}

export function sgdStep(w: Float64Array, g: ArrayLike<number>, buf: Float64Array, o: SgdRefOptions): void {
  for (let i = 0; i < w.length; i++) {
    let d = g[i] * (o.scale ?? 1) + o.weightDecay * w[i];
    if (o.momentum > 0) {
      buf[i] = o.first ? d : o.momentum * buf[i] + (1 - o.dampening) * d;
      d = o.nesterov ? d + o.momentum * buf[i] : buf[i];
    }
    w[i] -= o.lr * d;
  }
}

/** Global L2 norm of several gradients and the clip factor min(1, maxNorm / (norm + 1e-6)). */
export function gradNorm(grads: ArrayLike<number>[], maxNorm: number): { norm: number; scale: number } {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  const norm = Math.sqrt(s);
  return { norm, scale: Math.min(1, maxNorm / (norm + 1e-6)) };
}
