// Plain TypeScript references (float64 accumulation) for the kernels, and a seeded host RNG.
// Shared by the tests and the benches: a kernel's reference has the kernel's name.

import { InitRng } from '../src/nn/init.js';

/**
 * The engine's seeded host generator (Mulberry32, src/nn/init.ts) with the helpers tests use. Its
 * normal() keeps the tests' own Box–Muller form, so seeded test data stays as it was.
 */
export class Rng extends InitRng {
  constructor(seed = 1) {
    super(seed);
  }
  override normal(): number {
    const u = Math.max(this.uniform(), 1e-12), v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }
  array(n: number, scale = 1): Float32Array {
    return Float32Array.from({ length: n }, () => this.normal() * scale);
  }
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Max |a-b| / (atol + rtol·|b|) ≤ 1 elementwise; returns the first offending index or -1. */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (x === y) continue; // (equal infinities too)
    // a NaN where a number is expected is a mismatch (`|NaN − y| > tol` alone would pass it)
    if (Number.isNaN(y) ? !Number.isNaN(x) : !(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return i;
  }
  return -1;
}

/** matmul: [batch, M, K] · [batch, K, N] dense, float64 accumulation. */
export function matmul(a: Float32Array, b: Float32Array, batch: number, M: number, K: number, N: number): Float32Array {
  const c = new Float32Array(batch * M * N);
  for (let z = 0; z < batch; z++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[z * M * K + i * K + k] * b[z * K * N + k * N + j];
        c[z * M * N + i * N + j] = s;
      }
  return c;
}
