// Plain TypeScript references (float64) for the elementwise ops of ops/elementwise.ts: unary ops
// with their scalar parameters, broadcasting binary ops and where.

import { broadcastShape, broadcastTo, type Host } from './reference-layout.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Each unary op of the engine as a scalar function of (x, its scalar parameters). */
export const unaryRef = {
  neg: (v: number) => -v,
  exp: (v: number) => Math.exp(v),
  log: (v: number) => Math.log(v),
  sqrt: (v: number) => Math.sqrt(v),
  rsqrt: (v: number) => 1 / Math.sqrt(v),
  reciprocal: (v: number) => 1 / v,
  abs: (v: number) => Math.abs(v),
  relu: (v: number) => Math.max(v, 0),
  leakyRelu: (v: number, slope = 0.2) => (v > 0 ? v : slope * v),
  gelu: (v: number) => 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v ** 3))),
  silu: (v: number) => v * sigmoid(v),
  tanh: (v: number) => Math.tanh(v),
  sigmoid,
  square: (v: number) => v * v,
  clamp: (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi),
  powScalar: (v: number, e: number) => Math.pow(v, e),
  mulScalar: (v: number, s: number) => v * s,
  addScalar: (v: number, s: number) => v + s,
  affine: (v: number, scale: number, shift: number) => v * scale + shift,
  step: (v: number, threshold = 0) => (v > threshold ? 1 : 0),
} satisfies Record<string, (v: number, ...params: number[]) => number>;

export type UnaryRefName = keyof typeof unaryRef;

export function unary(x: Host, f: (v: number) => number): Host {
  return { data: x.data.map(f), shape: [...x.shape] };
}

export const binaryRef = {
  add: (a: number, b: number) => a + b,
  sub: (a: number, b: number) => a - b,
  mul: (a: number, b: number) => a * b,
  div: (a: number, b: number) => a / b,
  pow: (a: number, b: number) => Math.pow(a, b),
  maximum: (a: number, b: number) => Math.max(a, b),
  minimum: (a: number, b: number) => Math.min(a, b),
  greater: (a: number, b: number) => (a > b ? 1 : 0),
  greaterEqual: (a: number, b: number) => (a >= b ? 1 : 0),
  equal: (a: number, b: number) => (a === b ? 1 : 0),
} satisfies Record<string, (a: number, b: number) => number>;

export type BinaryRefName = keyof typeof binaryRef;

/** a ∘ b under NumPy broadcasting; null when the shapes do not broadcast. */
export function binary(a: Host, b: Host, f: (a: number, b: number) => number): Host | null {
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) return null;
  const ab = broadcastTo(a, shape), bb = broadcastTo(b, shape);
  return { data: ab.data.map((v, i) => f(v, bb.data[i])), shape };
}

/** cond ≠ 0 ? a : b, all three broadcast. */
export function where(cond: Host, a: Host, b: Host): Host | null {
  const s1 = broadcastShape(cond.shape, a.shape);
  const shape = s1 && broadcastShape(s1, b.shape);
  if (!shape) return null;
  const c = broadcastTo(cond, shape), x = broadcastTo(a, shape), y = broadcastTo(b, shape);
  return { data: c.data.map((v, i) => (v !== 0 ? x.data[i] : y.data[i])), shape };
}
