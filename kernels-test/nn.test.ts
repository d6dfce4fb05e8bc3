import { beforeAll, describe, expect, it } from 'vitest';
import { backward } from '../src/autograd/tape.js';
import { init } from '../src/device/runtime.js';
import { Dropout } from '../src/nn/dropout.js';
import { Embedding } from '../src/nn/embedding.js';
import { InitRng, kaimingNormal, manualSeed, xavierUniform } from '../src/nn/init.js';
import { Linear } from '../src/nn/linear.js';
import { Module } from '../src/nn/module.js';
import { GroupNorm, LayerNorm } from '../src/nn/norm.js';
import { Sequential } from '../src/nn/sequential.js';
import { sum } from '../src/ops/reduce.js';
import { relu } from '../src/ops/elementwise.js';
import { Generator } from '../src/ops/random.js';
import { tidy } from '../src/tensor/scope.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { firstMismatch, matmul as matmulRef, Rng } from './reference.js';

class Block extends Module {
  readonly norm: LayerNorm;
  readonly proj: Linear;
  readonly scale: Tensor;
  constructor(d: number) {
    super();
    this.norm = this.child('norm', new LayerNorm(d));
    this.scale = this.param('scale', tensor([1]));
    this.proj = this.child('proj', new Linear(d, d));
    this.buffer('steps', tensor([0], [1], 'i32'));
  }
}

class Net extends Module {
  readonly embed = this.child('embed', new Embedding(7, 4));
  readonly blocks = [this.child('b0', new Block(4)), this.child('b1', new Block(4))];
  readonly head = this.child('head', new Sequential(new Linear(4, 8), relu, new Linear(8, 3, false)));
}

describe('Module', () => {
  beforeAll(async () => {
    await init();
  });

  it('names parameters by registration order, depth first', () => {
    const net = new Net();
    const block = ['norm.weight', 'norm.bias', 'scale', 'proj.weight', 'proj.bias'];
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'embed.weight',
      ...block.map((n) => `b0.${n}`),
      ...block.map((n) => `b1.${n}`),
      'head.0.weight', 'head.0.bias', 'head.2.weight',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['b0.steps', 'b1.steps']);
    expect(Object.keys(net.stateDict()).slice(-2)).toEqual(['b0.steps', 'b1.steps']);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['embed', 'b0', 'b0.norm', 'b0.proj', 'b1', 'b1.norm', 'b1.proj', 'head', 'head.0', 'head.2']);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.namedBuffers()[0][1].requiresGrad).toBe(false);
    expect(net.numParameters()).toBe(7 * 4 + 2 * (4 + 4 + 1 + 16 + 4) + (32 + 8) + 24);
    net.dispose();
  });

  it('parameters outlive tidy scopes; train()/eval() reach every descendant', async () => {
    const net = tidy(() => new Net());
    expect(net.parameters().some((p) => p.isDisposed)).toBe(false);
    expect(await net.blocks[1].scale.item()).toBe(1);
    net.eval();
    expect(net.namedChildren().every(([, m]) => !m.training) && !net.training).toBe(true);
    net.train();
    expect(net.head.training && net.blocks[0].norm.training).toBe(true);
    net.dispose();
  });

  it('refuses bad and duplicate names', () => {
    class Bad extends Module {
      constructor(name: string, twice = false) {
        super();
        this.param(name, tensor([1]));
        if (twice) this.param(name, tensor([2]));
      }
    }
    expect(() => new Bad('a.b')).toThrow(/name 'a.b' must be letters/);
    expect(() => new Bad('w', true)).toThrow(/'w' is already registered/);
  });

  it('stateDict round-trips through loadStateDict (in place) and reports every problem', async () => {
    manualSeed(10);
    const a = new Net();
    manualSeed(11);
    const b = new Net();
    const bWeight = b.head.stateDict()['0.weight'];
    expect(await bWeight.toArray()).not.toEqual(await a.head.stateDict()['0.weight'].toArray());
    b.loadStateDict(a.stateDict());
    for (const [k, t] of Object.entries(a.stateDict())) expect(await b.stateDict()[k].toArray(), k).toEqual(await t.toArray());
    expect(b.head.stateDict()['0.weight']).toBe(bWeight); // same tensor, new values

    const sd = a.stateDict();
    const { ['b1.scale']: _dropped, ...partial } = sd;
    expect(() => b.loadStateDict({ ...partial, extra: sd['b0.scale'] })).toThrow(/missing keys: 'b1.scale'\. unexpected keys: 'extra'/);
    expect(() => b.loadStateDict({ ...sd, 'b0.proj.bias': sd['b0.scale'] })).toThrow(/'b0.proj.bias' is f32\[1\] in the source, f32\[4\] in the module/);
    expect(() => b.loadStateDict({ ...sd, 'b0.steps': sd['b0.scale'] })).toThrow(/'b0.steps' is f32\[1\] in the source, i32\[1\]/);
    // non-strict: loads what matches, ignores the rest
    b.loadStateDict({ 'b1.scale': sd['b0.scale'], other: sd['b0.scale'] }, { strict: false });
    a.dispose();
    b.dispose();
  });
});

describe('layers', () => {
  beforeAll(async () => {
    await init();
  });

  it('Linear: x·W + b for rank 1, 2 and 3 inputs, with gradients', async () => {
    const rng = new Rng(2);
    const lin = new Linear(5, 3);
    const W = await lin.weight.toArray() as Float32Array, b = await lin.bias!.toArray();
    const xs = rng.array(2 * 4 * 5);
    const want = matmulRef(xs, W, 1, 8, 5, 3).map((v, i) => v + b[i % 3]);
    const y3 = lin.forward(tensor(xs, [2, 4, 5]));
    expect(y3.shape).toEqual([2, 4, 3]);
    expect(firstMismatch(await y3.toArray(), want)).toBe(-1);
    const y1 = lin.forward(tensor(xs.slice(0, 5), [5]));
    expect(y1.shape).toEqual([3]);
    expect(firstMismatch(await y1.toArray(), want.slice(0, 3))).toBe(-1);
    expect(() => lin.forward(tensor(xs.slice(0, 4), [4]))).toThrow(/input \[4\] must end in 5/);

    backward(sum(lin.forward(tensor(xs.slice(0, 10), [2, 5]))));
    // d/dW sum(xW + b) = xᵀ·1, d/db = rows
    const gW = await lin.weight.grad!.toArray();
    for (let i = 0; i < 5; i++) for (let j = 0; j < 3; j++) expect(gW[i * 3 + j]).toBeCloseTo(xs[i] + xs[5 + i], 5);
    expect(Array.from(await lin.bias!.grad!.toArray())).toEqual([2, 2, 2]);
    lin.dispose();
  });

  it('Linear init is U(±1/√in) and deterministic under manualSeed', async () => {
    manualSeed(3);
    const a = await new Linear(64, 32).weight.toArray();
    manualSeed(3);
    const b = await new Linear(64, 32).weight.toArray();
    expect(a).toEqual(b);
    expect(Math.max(...Array.from(a, Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...Array.from(a, Math.abs))).toBeGreaterThan(0.9 / 8);
  });

  it('initialisers have the stated spread', async () => {
    const rng = new InitRng(5);
    const k = Array.from(await kaimingNormal([4000], 50, Math.SQRT2, rng).toArray());
    const std = Math.sqrt(k.reduce((s, v) => s + v * v, 0) / k.length);
    expect(std).toBeCloseTo(0.2, 1); // √2/√50
    const x = await xavierUniform([4000], 10, 20, 1, rng).toArray();
    expect(Math.max(...Array.from(x, Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 30) + 1e-7);
  });

  it('Embedding, LayerNorm and GroupNorm wrap their ops with the right parameters', async () => {
    manualSeed(4);
    const emb = new Embedding(6, 3);
    const rows = await emb.weight.toArray();
    const e = emb.forward(tensor([5, 0, 5], [3], 'i32'));
    expect(Array.from(await e.toArray())).toEqual([...rows.slice(15, 18), ...rows.slice(0, 3), ...rows.slice(15, 18)]);

    const ln = new LayerNorm(4);
    expect(Array.from(await ln.weight!.toArray())).toEqual([1, 1, 1, 1]);
    const y = await ln.forward(tensor([1, 2, 3, 4, 2, 2, 2, 2], [2, 4])).toArray();
    const s = Math.sqrt(1.25 + 1e-5);
    expect(firstMismatch(y, [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0, 0, 0, 0])).toBe(-1);

    const gn = new GroupNorm(2, 4);
    expect(gn.namedParameters().map(([n, t]) => `${n}${JSON.stringify(t.shape)}`)).toEqual(['weight[4]', 'bias[4]']);
    const g = await gn.forward(tensor([1, 3, 5, 5, 0, 0, 2, 4], [1, 4, 2])).toArray();
    // group 0 = [1, 3, 5, 5] (mean 3.5, var 2.75), group 1 = [0, 0, 2, 4] (mean 1.5, var 2.75)
    const r = Math.sqrt(2.75 + 1e-5);
    expect(firstMismatch(g, [-2.5 / r, -0.5 / r, 1.5 / r, 1.5 / r, -1.5 / r, -1.5 / r, 0.5 / r, 2.5 / r])).toBe(-1);
    expect(() => new GroupNorm(3, 4)).toThrow(/4 channels do not split into 3 groups/);
    for (const m of [emb, ln, gn]) m.dispose();
  });

  it('Dropout zeroes about p of the elements in training, scales the rest, and is the identity in eval', async () => {
    const x = tensor(new Float32Array(4000).fill(2), [40, 100]);
    x.requiresGrad = true;
    const drop = new Dropout(0.25, new Generator(9));
    const y = await drop.forward(x).toArray();
    const zeros = y.filter((v) => v === 0).length;
    expect(Math.abs(zeros / 4000 - 0.25)).toBeLessThan(0.03);
    expect(y.every((v) => v === 0 || Math.abs(v - 2 / 0.75) < 1e-6)).toBe(true);
    // Same seed, same mask; the gradient is the mask.
    const again = new Dropout(0.25, new Generator(9));
    const out = again.forward(x);
    expect(await out.toArray()).toEqual(y);
    backward(sum(out));
    const g = await x.grad!.toArray();
    expect(g.every((v, i) => (y[i] === 0 ? v === 0 : Math.abs(v - 1 / 0.75) < 1e-6))).toBe(true);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    expect(Array.from(await new Dropout(1).forward(x).toArray()).every((v) => v === 0)).toBe(true);
    expect(() => new Dropout(1.5)).toThrow(/p must be in \[0, 1\]/);
  });
});
