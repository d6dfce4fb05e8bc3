// Parameter initialisers. Values are drawn on the host from a seeded generator and uploaded once:
// initialisation is not in the step loop, and a host generator gives the same weights on every
// adapter (a model built after `manualSeed(s)` is bit-identical everywhere).
//
// Fans are explicit arguments because layouts differ: our Linear weight is [in, out]
// (fanIn = shape[0]); a PyTorch-layout conv weight [out, in, kh, kw] has fanIn = in·kh·kw.

import { tensor, type Shape, type Tensor } from '../tensor/tensor.js';

/** Mulberry32 with Box–Muller normals: small, fast, deterministic. */
export class InitRng {
  private s: number;
  constructor(seed = 0) {
    this.s = seed >>> 0;
  }
  /** uniform in [0, 1) */
  uniform(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    const u = 1 - this.uniform(), v = this.uniform(); // u in (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** the generator's position (for checkpoints) */
  get state(): number {
    return this.s;
  }
  set state(s: number) {
    this.s = s >>> 0;
  }
}

let defaultRng = new InitRng(0);

/** Reseeds the host generator that initialisers use when none is passed (GPU random ops have
 * their own generator: ops `manualSeed`). */
export function manualSeed(seed: number): void {
  defaultRng = new InitRng(seed);
}

export function initRng(): InitRng {
  return defaultRng;
}

function count(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** U(lo, hi) */
export function uniform(shape: Shape, lo: number, hi: number, rng = defaultRng): Tensor {
  const data = new Float32Array(count(shape));
  for (let i = 0; i < data.length; i++) data[i] = lo + (hi - lo) * rng.uniform();
  return tensor(data, shape);
}

/** N(mean, std²) */
export function normal(shape: Shape, mean = 0, std = 1, rng = defaultRng): Tensor {
  const data = new Float32Array(count(shape));
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return tensor(data, shape);
}

/** Glorot: U(±gain·√(6 / (fanIn + fanOut))) */
export function xavierUniform(shape: Shape, fanIn: number, fanOut: number, gain = 1, rng = defaultRng): Tensor {
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -a, a, rng);
}

/** Glorot: N(0, gain²·2 / (fanIn + fanOut)) */
export function xavierNormal(shape: Shape, fanIn: number, fanOut: number, gain = 1, rng = defaultRng): Tensor {
  return normal(shape, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), rng);
}

/** The gain PyTorch's calculate_gain gives: relu √2, leaky_relu √(2/(1+a²)), linear/sigmoid 1, tanh 5/3. */
export function gain(nonlinearity: 'linear' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid', slope = 0.01): number {
  switch (nonlinearity) {
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': return Math.sqrt(2 / (1 + slope * slope));
    case 'tanh': return 5 / 3;
    default: return 1;
  }
}

/** He: U(±gain·√(3 / fan)) with fan = fanIn (preserves forward variance). */
export function kaimingUniform(shape: Shape, fan: number, g = Math.SQRT2, rng = defaultRng): Tensor {
  const a = g * Math.sqrt(3 / fan);
  return uniform(shape, -a, a, rng);
}

/** He: N(0, gain² / fan) */
export function kaimingNormal(shape: Shape, fan: number, g = Math.SQRT2, rng = defaultRng): Tensor {
  return normal(shape, 0, g / Math.sqrt(fan), rng);
}
