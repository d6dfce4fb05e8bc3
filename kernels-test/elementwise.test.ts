// Elementwise ops (unary.wgsl, unary_grad.wgsl, binary.wgsl, where.wgsl) against the float64
// references of reference-elementwise.ts: awkward shapes, scalars, broadcasting corners, strided
// inputs (transposed, sliced with an offset, expanded), > 4M elements (2-D grid), clear errors
// and finite-difference gradients.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { disposeAll, expectAll, layouts, randomHost, upload, type Check, type Tol } from './expect-tensor.js';
import { gradcheck } from './gradcheck.js';
import { Rng } from './reference.js';
import { binary, binaryRef, unary, unaryRef, where, type BinaryRefName } from './reference-elementwise.js';
import { host, type Host } from './reference-layout.js';

beforeAll(async () => {
  await vq.init();
});

const rng = new Rng(11);
const normal = (s = 1) => () => rng.normal() * s;
const positive = () => 0.1 + 3 * rng.uniform();
/** |x| ≥ 0.2: keeps 1/x finite and kinks (relu, abs at 0) beyond finite-difference reach. */
const awayFromZero = () => (rng.uniform() < 0.5 ? -1 : 1) * (0.2 + Math.abs(rng.normal()));

interface UnaryCase {
  name: string;
  op: (x: vq.Tensor) => vq.Tensor;
  ref: (v: number) => number;
  gen: () => number;
  tol?: Tol;
  /** no gradient (step) */
  noGrad?: boolean;
}

const { neg, exp, log, sqrt, rsqrt, reciprocal, abs, relu, leakyRelu, gelu, silu, tanh, sigmoid, square, clamp, powScalar, mulScalar, addScalar, affine, step } = unaryRef;
const loose: Tol = { atol: 1e-5, rtol: 3e-4 };

const UNARY: UnaryCase[] = [
  { name: 'neg', op: vq.neg, ref: neg, gen: normal() },
  { name: 'exp', op: vq.exp, ref: exp, gen: normal(2), tol: loose },
  { name: 'log', op: vq.log, ref: log, gen: positive, tol: loose },
  { name: 'sqrt', op: vq.sqrt, ref: sqrt, gen: positive },
  { name: 'rsqrt', op: vq.rsqrt, ref: rsqrt, gen: positive },
  { name: 'reciprocal', op: vq.reciprocal, ref: reciprocal, gen: awayFromZero },
  { name: 'abs', op: vq.abs, ref: abs, gen: awayFromZero },
  { name: 'relu', op: vq.relu, ref: relu, gen: awayFromZero },
  { name: 'leakyRelu', op: (x) => vq.leakyRelu(x), ref: (v) => leakyRelu(v), gen: awayFromZero },
  { name: 'leakyRelu(0.01)', op: (x) => vq.leakyRelu(x, 0.01), ref: (v) => leakyRelu(v, 0.01), gen: awayFromZero },
  // The kernels clamp tanh's argument to ±15 (where it is ±1 in f32): ±40 checks saturation, no NaN.
  { name: 'gelu', op: vq.gelu, ref: gelu, gen: () => (rng.uniform() < 0.1 ? 40 * Math.sign(rng.normal()) : 3 * rng.normal()), tol: loose },
  { name: 'silu', op: vq.silu, ref: silu, gen: normal(3), tol: loose },
  { name: 'tanh', op: vq.tanh, ref: tanh, gen: () => (rng.uniform() < 0.1 ? 40 * Math.sign(rng.normal()) : 2 * rng.normal()), tol: loose },
  { name: 'sigmoid', op: vq.sigmoid, ref: sigmoid, gen: normal(4), tol: loose },
  { name: 'square', op: vq.square, ref: square, gen: normal() },
  { name: 'clamp(-0.5, 0.7)', op: (x) => vq.clamp(x, -0.5, 0.7), ref: (v) => clamp(v, -0.5, 0.7), gen: () => { const v = rng.normal(); return Math.abs(v + 0.5) < 0.05 || Math.abs(v - 0.7) < 0.05 ? 0.1 : v; } },
  { name: 'powScalar(2)', op: (x) => vq.powScalar(x, 2), ref: (v) => powScalar(v, 2), gen: awayFromZero, tol: loose },
  { name: 'powScalar(3)', op: (x) => vq.powScalar(x, 3), ref: (v) => powScalar(v, 3), gen: awayFromZero, tol: loose },
  { name: 'powScalar(-1)', op: (x) => vq.powScalar(x, -1), ref: (v) => powScalar(v, -1), gen: awayFromZero, tol: loose },
  { name: 'powScalar(0)', op: (x) => vq.powScalar(x, 0), ref: (v) => powScalar(v, 0), gen: awayFromZero, tol: loose },
  { name: 'powScalar(1.7)', op: (x) => vq.powScalar(x, 1.7), ref: (v) => powScalar(v, 1.7), gen: positive, tol: loose },
  { name: 'powScalar(-0.5)', op: (x) => vq.powScalar(x, -0.5), ref: (v) => powScalar(v, -0.5), gen: positive, tol: loose },
  { name: 'mulScalar(-2.5)', op: (x) => vq.mulScalar(x, -2.5), ref: (v) => mulScalar(v, -2.5), gen: normal() },
  { name: 'addScalar(0.75)', op: (x) => vq.addScalar(x, 0.75), ref: (v) => addScalar(v, 0.75), gen: normal() },
  { name: 'affine(3, -1)', op: (x) => vq.affine(x, 3, -1), ref: (v) => affine(v, 3, -1), gen: normal() },
  { name: 'step(0.3)', op: (x) => vq.step(x, 0.3), ref: (v) => step(v, Math.fround(0.3)), gen: () => Math.round(rng.normal() * 4) / 10, noGrad: true },
];

// rank 0, a single element, a size not a multiple of 64, a size-1 dimension in the middle; then
// multiples of 4 (dense ones take the shaders' vec4 entry): one vec4, and 36 of them; and one
// whose strided views coalesce to fewer dimensions.
const SHAPES = [[], [1], [67], [3, 65], [2, 1, 33], [4], [3, 4, 12], [2, 4, 8]];

describe('unary ops', () => {
  it('match the references on awkward shapes and on strided inputs', async () => {
    for (const c of UNARY) {
      const checks: Check[] = [];
      for (const shape of SHAPES) {
        const ls = layouts(randomHost(rng, shape, c.gen));
        for (const l of ls) checks.push({ t: c.op(l.tensor), ref: unary(l.ref, c.ref), label: `${c.name} of ${l.name} [${shape}]`, tol: c.tol });
        disposeAll(ls);
      }
      await expectAll(checks);
    }
  });

  it('gradients match finite differences', async () => {
    for (const c of UNARY) {
      if (c.noGrad) continue;
      // 15 elements: the scalar gradient kernel; 12: its vec4 entry.
      for (const shape of [[3, 5], [2, 6]]) {
        const x = randomHost(rng, shape, c.gen);
        await gradcheck(c.op, [{ data: Float32Array.from(x.data), shape: x.shape }], { maxChecks: 6, seed: 3 });
      }
    }
  });

  it('are not differentiable where documented: step', async () => {
    const x = vq.tensor([0.5, -1, 2]);
    x.requiresGrad = true;
    expect(() => vq.backward(vq.sum(vq.mul(x, vq.step(x))))).toThrow(/'step' has no gradient/);
  });
});

// Small integers / 2: exact in f32, so equal/greater see ties, and sums are exact.
const halves = () => Math.round(rng.normal() * 3) / 2;
const nonZeroHalves = () => (rng.uniform() < 0.5 ? -1 : 1) * (0.5 + Math.floor(rng.uniform() * 4) / 2);

/** Broadcasting corners: equal shapes, [1]↔[n], [n]↔[1], [n,1]↔[1,m], rank mismatch, scalars. */
const PAIRS: [number[], number[]][] = [
  [[3, 65], [3, 65]],
  [[4, 12], [4, 12]], // dense, a multiple of 4: binary.wgsl's vec4 entry
  [[1], [67]],
  [[67], [1]],
  [[5, 1], [1, 7]],
  [[3, 1, 5], [4, 1]],
  [[2, 3, 4], [4]],
  [[], [2, 3]],
  [[4, 3], []],
  [[], []],
  [[2, 0, 3], [3]],
];

const BINARY: { name: BinaryRefName; op: (a: vq.Tensor, b: vq.Tensor) => vq.Tensor }[] = [
  { name: 'add', op: vq.add }, { name: 'sub', op: vq.sub }, { name: 'mul', op: vq.mul }, { name: 'div', op: vq.div },
  { name: 'pow', op: vq.pow }, { name: 'maximum', op: vq.maximum }, { name: 'minimum', op: vq.minimum },
  { name: 'greater', op: vq.greater }, { name: 'greaterEqual', op: vq.greaterEqual }, { name: 'equal', op: vq.equal },
];

function binaryInputs(name: BinaryRefName, sa: number[], sb: number[]): [Host, Host] {
  // pow wants a > 0; div wants b ≠ 0.
  const a = randomHost(rng, sa, name === 'pow' ? () => 0.25 + Math.abs(halves()) : halves);
  const b = randomHost(rng, sb, name === 'div' ? nonZeroHalves : halves);
  return [a, b];
}

describe('binary ops', () => {
  it('broadcast like NumPy and match the references', async () => {
    for (const { name, op } of BINARY) {
      const checks: Check[] = [];
      for (const [sa, sb] of PAIRS) {
        const [a, b] = binaryInputs(name, sa, sb);
        const ta = upload(a), tb = upload(b);
        checks.push({ t: op(ta, tb), ref: binary(a, b, binaryRef[name])!, label: `${name} [${sa}] with [${sb}]`, tol: loose });
        ta.dispose();
        tb.dispose();
      }
      await expectAll(checks);
    }
  });

  it('read strided operands on either side', async () => {
    const checks: Check[] = [];
    for (const { name, op } of BINARY) {
      const [a, b] = binaryInputs(name, [4, 67], [67]);
      const la = layouts(a), tb = upload(b);
      for (const l of la) {
        checks.push({ t: op(l.tensor, tb), ref: binary(l.ref, b, binaryRef[name])!, label: `${name}: ${l.name} [4, 67] with [67]`, tol: loose });
        // pow and div are not symmetric in their domains (a > 0, b ≠ 0)
        if (name !== 'pow' && name !== 'div') {
          checks.push({ t: op(tb, l.tensor), ref: binary(b, l.ref, binaryRef[name])!, label: `${name}: [67] with ${l.name} [4, 67]`, tol: loose });
        }
      }
      disposeAll(la);
      tb.dispose();
    }
    await expectAll(checks);
  });

  it('gradients (broadcast operands sum their gradient back) match finite differences', async () => {
    // Operands [3, 1, 4] and [2, 4]: both are broadcast. Kept apart (|a - b| ≥ 0.5) for max/min.
    const a = Float32Array.from({ length: 12 }, (_, i) => 0.5 + i * 0.25);
    const b = Float32Array.from({ length: 8 }, (_, i) => 0.4 + ((i * 5) % 8) * 0.37 + (i % 2 ? 0.1 : 0));
    for (const { op } of BINARY.slice(0, 7)) {
      await gradcheck(op, [{ data: a, shape: [3, 1, 4] }, { data: b, shape: [2, 4] }], { maxChecks: 6 });
    }
    // d(a^2)/da at a = 0 is 0, not 0/0.
    const base = vq.tensor([0, 1, 3]);
    base.requiresGrad = true;
    vq.backward(vq.sum(vq.pow(base, vq.tensor([2]))));
    const g = await base.grad!.toArray();
    [0, 2, 6].forEach((want, i) => expect(g[i]).toBeCloseTo(want, 4));
  });
});

describe('where', () => {
  it('broadcasts condition and both branches, strided or not', async () => {
    const cases: [number[], number[], number[]][] = [[[5, 1], [7], []], [[3, 4], [3, 4], [3, 4]], [[], [2, 3], [3]], [[4], [2, 1], [1]]];
    const checks: Check[] = [];
    for (const [sc, sa, sb] of cases) {
      const c = randomHost(rng, sc, () => (rng.uniform() < 0.5 ? 0 : 1));
      const a = randomHost(rng, sa), b = randomHost(rng, sb);
      const tc = upload(c), ta = upload(a), tb = upload(b);
      checks.push({ t: vq.where(tc, ta, tb), ref: where(c, a, b)!, label: `where [${sc}] [${sa}] [${sb}]` });
      for (const t of [tc, ta, tb]) t.dispose();
    }
    const a = randomHost(rng, [3, 6]);
    const c = randomHost(rng, [6], () => (rng.uniform() < 0.5 ? 0 : 1));
    const tc = upload(c), tb = vq.tensor([-7]);
    for (const l of layouts(a)) {
      checks.push({ t: vq.where(tc, l.tensor, tb), ref: where(c, l.ref, host([-7], [1]))!, label: `where with ${l.name} a` });
      l.tensor.dispose();
    }
    await expectAll(checks);
  });

  it('gradients flow to both branches, not the condition', async () => {
    const c = vq.tensor([1, 0, 0, 1, 1, 0], [2, 3]);
    await gradcheck((a, b) => vq.where(c, a, b), [
      { data: Float32Array.from([1, 2, 3]), shape: [3] },
      { data: Float32Array.from([4, 5, 6, 7, 8, 9]), shape: [2, 3] },
    ]);
  });
});

describe('elementwise at scale and on bad input', () => {
  it('handles > 4M elements (2-D grid) on strided, broadcast operands', async () => {
    const [R, C] = [2049, 2051]; // 4,202,499 elements: more than 65535 workgroups of 64
    const data = new Float32Array(R * C);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 7919) % 1001) - 500;
    const x = vq.tensor(data, [R, C]);
    const col = vq.tensor(Float32Array.from({ length: R }, (_, j) => j), [R]);
    const xt = vq.transpose(x); // [C, R], strided
    const y = vq.add(xt, col); // y[c, r] = x[r, c] + r
    const ys = await y.toArray();
    let bad = -1;
    for (let i = 0; i < ys.length && bad < 0; i++) {
      const [c, r] = [Math.floor(i / R), i % R];
      if (ys[i] !== data[r * C + c] + r) bad = i;
    }
    expect(bad, `add(transpose(x), col) at ${bad}: ${ys[bad]}`).toBe(-1);
    for (const t of [x, col, xt, y]) t.dispose();
  });

  it('throws clear errors', () => {
    const a = vq.tensor([1, 2, 3]), b = vq.tensor([1, 2]), m = vq.zeros([2, 3]);
    expect(() => vq.add(a, b)).toThrow(/\[3\] and \[2\] cannot be broadcast/);
    expect(() => vq.mul(m, vq.zeros([3, 2]))).toThrow(/\[2, 3\] and \[3, 2\]/);
    expect(() => vq.where(vq.zeros([4]), a, a)).toThrow(/\[4\] and \[3\] and \[3\]/);
    expect(() => vq.clamp(a, 1, 0)).toThrow(/lower bound 1 exceeds upper bound 0/);
    expect(() => vq.exp(vq.zeros([2], 'i32'))).toThrow(/exp: expects an f32 tensor, got i32 \[2\]/);
    expect(() => vq.add(a, vq.zeros([3], 'i32'))).toThrow(/add: expects an f32 tensor/);
    const d = vq.tensor([1, 2]);
    d.name = 'weights';
    d.dispose();
    expect(() => vq.exp(d)).toThrow(/'weights' \[2\] was used after dispose/);
    expect(() => vq.add(a, d)).toThrow(/used after dispose/);
    expect(() => vq.where(d, a, a)).toThrow(/used after dispose/);
  });
});
