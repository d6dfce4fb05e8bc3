// Random numbers on the GPU (random.wgsl): Philox-4x32-10, counter-based. A Generator is just
// {seed, counter}; every call takes fresh counters (one per block of four 32-bit words it draws)
// and advances the counter past them, so results depend only on the seed and the order of calls,
// never on the device or the schedule. The state is two plain numbers (checkpoints: getState/setState).

import randomSrc from '../../shaders/random.wgsl';
import { recordNonDifferentiable } from '../autograd/tape.js';
import { checkShape, empty, sizeOf, type DType, type Shape, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, kernel, launch, Params } from './launch.js';
import { contiguous } from './layout.js';
import { argmax } from './reduce.js';
import { launchRows } from './row-schedule.js';
import { forRowChunks } from './binding-window.js';

const FILL = kernel('random', randomSrc, 'fill');
const CATEGORICAL = {
  thread: kernel('random', randomSrc, 'categorical_thread'),
  group: kernel('random', randomSrc, 'categorical_group'),
};
const FILL_OPS = { bits: 0, uniform: 1, normal: 2, int: 3, bernoulli: 4 } as const;
const WG = 64;
const TWO_32 = 2 ** 32;

export interface GeneratorState {
  seed: number;
  /** Philox blocks (of four 32-bit words) consumed so far */
  counter: number;
}

function checkState(seed: number, counter: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`Generator: the seed must be an integer in [0, 2^53), got ${seed}.`);
  if (!Number.isSafeInteger(counter) || counter < 0) throw new Error(`Generator: the counter must be an integer in [0, 2^53), got ${counter}.`);
}

/** A reproducible stream of random numbers: the seed is Philox's key, the counter its position. */
export class Generator {
  private seed = 0;
  private counter = 0;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Restarts the stream at `seed` (an integer in [0, 2^53)). */
  manualSeed(seed: number): this {
    checkState(seed, 0);
    this.seed = seed;
    this.counter = 0;
    return this;
  }

  getState(): GeneratorState {
    return { seed: this.seed, counter: this.counter };
  }

  setState(s: GeneratorState): this {
    checkState(s.seed, s.counter);
    this.seed = s.seed;
    this.counter = s.counter;
    return this;
  }

  /** Reserves `blocks` consecutive counters; returns the uniform fields (ctr_lo, ctr_hi, key_lo, key_hi). */
  take(blocks: number): [number, number, number, number] {
    const c = this.counter;
    if (!Number.isSafeInteger(c + blocks)) throw new Error('Generator: the counter ran past 2^53 blocks; reseed.');
    this.counter += blocks;
    return [c % TWO_32, Math.floor(c / TWO_32), this.seed % TWO_32, Math.floor(this.seed / TWO_32)];
  }
}

const globalGenerator = new Generator(0);

/** The generator that random functions use when none is given. */
export function defaultGenerator(): Generator {
  return globalGenerator;
}

/** Reseeds the default generator. */
export function manualSeed(seed: number): void {
  globalGenerator.manualSeed(seed);
}

function fill(op: keyof typeof FILL_OPS, shape: Shape, gen: Generator, dtype: DType, a = 0, b = 0, range = 0): Tensor {
  checkShape(shape);
  const out = empty(shape, dtype);
  const n = sizeOf(shape);
  if (n === 0) return out;
  const [lo, hi, keyLo, keyHi] = gen.take(Math.ceil(n / 4));
  // In chunks of elements where the tensor exceeds a storage binding (binding-window.ts): a chunk
  // starts on a multiple of 4 elements, so its counters continue the whole tensor's (same values).
  const flat = out.view([n], [1], 0);
  forRowChunks('random', n, [{ t: flat, axis: 0 }], ([o], r0, r1) => {
    const c = hi * 2 ** 32 + lo + r0 / 4, blocks = Math.ceil((r1 - r0) / 4);
    const p = new Params().u32(r1 - r0, c % 2 ** 32, Math.floor(c / 2 ** 32), keyLo, keyHi).f32(a, b).u32(range).u32(0, 0).f32(0).u32(0);
    launch(FILL, p, [o], grid1d(blocks, WG), { OP: FILL_OPS[op], WG });
  });
  flat.dispose();
  return out;
}

/** Raw Philox output: uniformly random u32 words. */
export function randBits(shape: Shape, gen: Generator = globalGenerator): Tensor {
  return fill('bits', shape, gen, 'u32');
}

/** Uniform f32 in [lo, hi) (24 random bits per value). */
export function randUniform(shape: Shape, gen: Generator = globalGenerator, lo = 0, hi = 1): Tensor {
  if (!(lo <= hi)) throw new Error(`randUniform: lo ${lo} exceeds hi ${hi}.`);
  return fill('uniform', shape, gen, 'f32', lo, hi);
}

/** Normal f32 with the given mean and standard deviation (Box–Muller). */
export function randNormal(shape: Shape, gen: Generator = globalGenerator, mean = 0, std = 1): Tensor {
  if (!(std >= 0)) throw new Error(`randNormal: std must be non-negative, got ${std}.`);
  return fill('normal', shape, gen, 'f32', mean, std);
}

/** Integers (i32) uniform in [0, n), 1 ≤ n < 2^31 (bias below n / 2^32 per value). */
export function randInt(shape: Shape, gen: Generator = globalGenerator, n: number): Tensor {
  if (!Number.isInteger(n) || n < 1 || n >= 2 ** 31) throw new Error(`randInt: n must be an integer in [1, 2^31), got ${n}.`);
  return fill('int', shape, gen, 'i32', 0, 0, n);
}

/** f32 `value` (default 1) with probability p, else 0. */
export function bernoulli(shape: Shape, gen: Generator = globalGenerator, p: number, value = 1): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`bernoulli: p must be in [0, 1], got ${p}.`);
  return fill('bernoulli', shape, gen, 'f32', p, value);
}

/**
 * One sample per row of softmax(logits / temperature): logits f32 [N, V] → i32 [N], by Gumbel-max.
 * Temperature 0 is the argmax (ties to the lowest index) and draws no random numbers.
 */
export function sampleCategorical(logits: Tensor, gen: Generator = globalGenerator, temperature = 1): Tensor {
  logits.assertAlive();
  if (logits.dtype !== 'f32' || logits.rank !== 2 || logits.shape[1] === 0) {
    throw new Error(`sampleCategorical: logits must be f32 [N, V] with V ≥ 1, got ${logits.dtype} ${fmt(logits.shape)}.`);
  }
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`sampleCategorical: temperature must be finite and ≥ 0, got ${temperature}.`);
  if (temperature === 0) return argmax(logits, -1);
  const [rows, len] = logits.shape;
  const out = empty([rows], 'i32');
  if (rows === 0) return out;
  const lc = contiguous(logits);
  const p = new Params().u32(0, ...gen.take(rows * Math.ceil(len / 4))).f32(0, 0).u32(0).u32(rows, len).f32(1 / temperature).u32(0);
  launchRows(CATEGORICAL, rows, len, p, [lc, out]);
  lc.dispose();
  return recordNonDifferentiable(out, 'sampleCategorical', [logits]);
}
