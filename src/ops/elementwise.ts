// Elementwise ops with broadcasting and their gradients (unary.wgsl, unary_grad.wgsl, binary.wgsl,
// where.wgsl). Inputs may be any strided view; outputs are dense.

import binarySrc from '../../shaders/binary.wgsl';
import unaryGradSrc from '../../shaders/unary_grad.wgsl';
import whereSrc from '../../shaders/where.wgsl';
import { record, recordNonDifferentiable, setTapeKernels } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastStrides, checkRank, coalesceDims } from './broadcast.js';
import { full, onesLike } from './creation.js';
import { fmt, grid1d, kernel, launch, Params, sameShape, vec4Fits, walkByRows, withStridedWalk } from './launch.js';
import { clone, contiguous, launchUnary, sumTo } from './layout.js';
import { allFit, expandView, forElementChunks, intoDense } from './binding-window.js';

const BINARY = kernel('binary', withStridedWalk(binarySrc));
const BINARY_VEC4 = kernel('binary', withStridedWalk(binarySrc), 'main_vec4');
const BINARY_ROWS = kernel('binary', withStridedWalk(binarySrc), 'main_rows');
const UNARY_GRAD = kernel('unary_grad', unaryGradSrc);
const UNARY_GRAD_VEC4 = kernel('unary_grad', unaryGradSrc, 'main_vec4');
const WHERE = kernel('where', whereSrc);
const WG = 64;

function checkFloat(t: Tensor, op: string): void {
  t.assertAlive();
  if (t.dtype !== 'f32') throw new Error(`${op}: expects an f32 tensor, got ${t.dtype} ${fmt(t.shape)}.`);
}

// ---------------------------------------------------------------- unary

export const UNARY_OPS = {
  neg: 1, exp: 2, log: 3, sqrt: 4, abs: 5, relu: 6, leakyRelu: 7, gelu: 8, silu: 9, tanh: 10,
  sigmoid: 11, clamp: 12, powScalar: 13, affine: 14, square: 15, powInt: 16, rsqrt: 17, reciprocal: 18, step: 19,
} as const;
type UnaryName = keyof typeof UNARY_OPS;

function unaryRaw(op: UnaryName, x: Tensor, alpha = 0, beta = 0): Tensor {
  checkFloat(x, op);
  checkRank(x.shape, op);
  const out = empty(x.shape);
  if (x.size > 0) launchUnary(UNARY_OPS[op], x, out, alpha, beta);
  return out;
}

/** dx = g · f'(x) */
function unaryGrad(op: UnaryName, x: Tensor, g: Tensor, alpha = 0, beta = 0): Tensor {
  const xc = contiguous(x), gc = contiguous(g);
  const dx = empty(x.shape);
  forElementChunks(op, [xc, gc, dx], ([xv, gv, dv]) => {
    // (chunks of dense operands start at offset 0 where their length allows: see forRowChunks)
    const dense = xv.isContiguous && gv.isContiguous && dv.isContiguous;
    if (!dense) throw new Error(`${op} gradient: a chunk of ${xv.size} elements did not start on a binding boundary.`);
    const vec4 = vec4Fits(xv.size);
    const n = vec4 ? xv.size / 4 : xv.size;
    launch(vec4 ? UNARY_GRAD_VEC4 : UNARY_GRAD, new Params().u32(n, 0).f32(alpha, beta), [xv, gv, dv], grid1d(n, WG), { OP: UNARY_OPS[op], WG });
  });
  xc.dispose();
  gc.dispose();
  return dx;
}

function unary(op: UnaryName, x: Tensor, alpha = 0, beta = 0): Tensor {
  const out = unaryRaw(op, x, alpha, beta);
  return record(out, op, [x], (g) => [unaryGrad(op, x, g, alpha, beta)]);
}

export const neg = (x: Tensor) => unary('neg', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const rsqrt = (x: Tensor) => unary('rsqrt', x);
export const reciprocal = (x: Tensor) => unary('reciprocal', x);
export const abs = (x: Tensor) => unary('abs', x);
export const relu = (x: Tensor) => unary('relu', x);
export const leakyRelu = (x: Tensor, slope = 0.2) => unary('leakyRelu', x, slope);
/** GELU, tanh approximation (as in GPT-2). */
export const gelu = (x: Tensor) => unary('gelu', x);
export const silu = (x: Tensor) => unary('silu', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const square = (x: Tensor) => unary('square', x);
export function clamp(x: Tensor, lo: number, hi: number): Tensor {
  if (!(lo <= hi)) throw new Error(`clamp: lower bound ${lo} exceeds upper bound ${hi}.`);
  return unary('clamp', x, lo, hi);
}
/** x^e for a scalar exponent: integer exponents accept negative x. */
export function powScalar(x: Tensor, e: number): Tensor {
  return unary(Number.isInteger(e) ? 'powInt' : 'powScalar', x, e);
}
export const mulScalar = (x: Tensor, s: number) => unary('affine', x, s, 0);
export const addScalar = (x: Tensor, s: number) => unary('affine', x, 1, s);
/** x·scale + shift */
export const affine = (x: Tensor, scale: number, shift: number) => unary('affine', x, scale, shift);
/** 1 where x > threshold, else 0 (no gradient). */
export function step(x: Tensor, threshold = 0): Tensor {
  return recordNonDifferentiable(unaryRaw('step', x, threshold), 'step', [x]);
}

// ---------------------------------------------------------------- binary

const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6, greater: 7, greaterEqual: 8, equal: 9 } as const;
type BinaryName = keyof typeof BINARY_OPS;

function binaryRaw(op: BinaryName, a: Tensor, b: Tensor): Tensor {
  checkFloat(a, op);
  checkFloat(b, op);
  const shape = broadcastShapes(a.shape, b.shape);
  checkRank(shape, op);
  const out = empty(shape);
  if (out.size === 0) return out;
  if (allFit([a, b, out])) binaryPart(op, a, b, out);
  else {
    const [ae, be] = [a, b].map((t) => expandView(t, shape, broadcastStrides(t, shape)));
    try {
      forElementChunks(op, [ae, be, out], ([av, bv, ov]) => intoDense(ov, (o) => binaryPart(op, av, bv, o)));
    } finally {
      ae.dispose();
      be.dispose();
    }
  }
  return out;
}

/** out = a op b over out's shape (a and b broadcast to it). */
function binaryPart(op: BinaryName, a: Tensor, b: Tensor, out: Tensor): void {
  const shape = out.shape;
  const contig = a.isContiguous && b.isContiguous && sameShape(a.shape, shape) && sameShape(b.shape, shape);
  const vec4 = contig && vec4Fits(out.size);
  const c = coalesceDims(shape, broadcastStrides(a, shape), broadcastStrides(b, shape), out.strides);
  const rows = !contig && walkByRows(c.shape);
  const n = vec4 ? out.size / 4 : rows ? out.size / c.shape[c.shape.length - 1] : out.size;
  const p = new Params()
    .u32(n, c.shape.length, a.offset, b.offset)
    .u32x4(2, c.shape, 1)
    .u32x4(2, c.strides[0])
    .u32x4(2, c.strides[1]);
  if (vec4) launch(BINARY_VEC4, p, [a, b, out], grid1d(n, WG), { OP: BINARY_OPS[op], WG });
  else if (rows) launch(BINARY_ROWS, p, [a, b, out], grid1d(n, WG), { OP: BINARY_OPS[op], WG });
  else launch(BINARY, p, [a, b, out], grid1d(n, WG), { OP: BINARY_OPS[op], CONTIG: contig ? 1 : 0, WG });
}

/** Sums `g` back to `t`'s shape, disposing the intermediate. */
function reduceTo(g: Tensor, t: Tensor): Tensor {
  const r = sumTo(g, t.shape);
  if (r !== g) g.dispose();
  return r;
}

// Backward functions may return the incoming gradient itself (the tape aliases it), never dispose it.
export function add(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw('add', a, b), 'add', [a, b], (g) => [
    a.requiresGrad ? sumTo(g, a.shape) : null,
    b.requiresGrad ? sumTo(g, b.shape) : null,
  ]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw('sub', a, b), 'sub', [a, b], (g) => [
    a.requiresGrad ? sumTo(g, a.shape) : null,
    b.requiresGrad ? reduceTo(unaryRaw('neg', g), b) : null,
  ]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record(binaryRaw('mul', a, b), 'mul', [a, b], (g) => [
    a.requiresGrad ? reduceTo(binaryRaw('mul', g, b), a) : null,
    b.requiresGrad ? reduceTo(binaryRaw('mul', g, a), b) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('div', a, b);
  return record(out, 'div', [a, b], (g) => {
    const ga = a.requiresGrad ? reduceTo(binaryRaw('div', g, b), a) : null;
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = -(a/b)/b
      const q = binaryRaw('div', out, b);
      const gq = binaryRaw('mul', g, q);
      q.dispose();
      gb = reduceTo(unaryRaw('neg', gq), b);
      gq.dispose();
    }
    return [ga, gb];
  });
}

export function pow(a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw('pow', a, b);
  return record(out, 'pow', [a, b], (g) => {
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (a.requiresGrad) {
      // b · a^(b-1), computed directly: b · out / a would give NaN at a = 0.
      const bm1 = unaryRaw('affine', b, 1, -1), t1 = binaryRaw('pow', a, bm1), t2 = binaryRaw('mul', t1, b);
      ga = reduceTo(binaryRaw('mul', g, t2), a);
      bm1.dispose(); t1.dispose(); t2.dispose();
    }
    if (b.requiresGrad) {
      const la = unaryRaw('log', a), t1 = binaryRaw('mul', out, la);
      gb = reduceTo(binaryRaw('mul', g, t1), b);
      la.dispose(); t1.dispose();
    }
    return [ga, gb];
  });
}

function extreme(op: 'maximum' | 'minimum', a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw(op, a, b);
  return record(out, op, [a, b], (g) => {
    // Ties send the gradient to a.
    const m = op === 'maximum' ? binaryRaw('greaterEqual', a, b) : binaryRaw('greaterEqual', b, a);
    const ga = a.requiresGrad ? reduceTo(binaryRaw('mul', g, m), a) : null;
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      const inv = unaryRaw('affine', m, -1, 1);
      gb = reduceTo(binaryRaw('mul', g, inv), b);
      inv.dispose();
    }
    m.dispose();
    return [ga, gb];
  });
}
export const maximum = (a: Tensor, b: Tensor) => extreme('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor) => extreme('minimum', a, b);

/** 1.0 where a > b else 0.0 (no gradient). */
export const greater = (a: Tensor, b: Tensor) => recordNonDifferentiable(binaryRaw('greater', a, b), 'greater', [a, b]);
export const greaterEqual = (a: Tensor, b: Tensor) => recordNonDifferentiable(binaryRaw('greaterEqual', a, b), 'greaterEqual', [a, b]);
export const equal = (a: Tensor, b: Tensor) => recordNonDifferentiable(binaryRaw('equal', a, b), 'equal', [a, b]);

// ---------------------------------------------------------------- where

/** cond ≠ 0 ? a : b, broadcasting all three. Gradients flow to a and b (not cond). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  checkFloat(cond, 'where');
  checkFloat(a, 'where');
  checkFloat(b, 'where');
  const shape = broadcastShapes(cond.shape, a.shape, b.shape);
  checkRank(shape, 'where');
  const out = whereRaw(cond, a, b, shape);
  return record(out, 'where', [a, b], (g) => {
    let ga: Tensor | null = null, gb: Tensor | null = null;
    if (a.requiresGrad || b.requiresGrad) {
      const z = full([1], 0);
      if (a.requiresGrad) ga = reduceTo(whereRaw(cond, g, z, shape), a);
      if (b.requiresGrad) gb = reduceTo(whereRaw(cond, z, g, shape), b);
      z.dispose();
    }
    return [ga, gb];
  });
}

function whereRaw(cond: Tensor, a: Tensor, b: Tensor, shape: number[]): Tensor {
  const out = empty(shape);
  if (out.size === 0) return out;
  const ex = [cond, a, b].map((t) => expandView(t, shape, broadcastStrides(t, shape)));
  try {
    forElementChunks('where', [...ex, out], ([c, av, bv, ov]) => intoDense(ov, (o) => wherePart(c, av, bv, o)));
  } finally {
    ex.forEach((t) => t.dispose());
  }
  return out;
}

function wherePart(cond: Tensor, a: Tensor, b: Tensor, out: Tensor): void {
  const shape = out.shape;
  const p = new Params()
    .u32(out.size, shape.length, cond.offset, a.offset)
    .u32(b.offset, 0, 0, 0)
    .u32x4(2, shape, 1)
    .u32x4(2, broadcastStrides(cond, shape))
    .u32x4(2, broadcastStrides(a, shape))
    .u32x4(2, broadcastStrides(b, shape));
  launch(WHERE, p, [cond, a, b, out], grid1d(out.size, WG), { WG });
}

// The tape needs add/ones/clone to seed and accumulate gradients.
setTapeKernels({ add: (a, b) => binaryRaw('add', a, b), ones: (t) => onesLike(t), clone: (t) => clone(t) });
