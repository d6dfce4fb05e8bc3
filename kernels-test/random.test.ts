import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { gradcheck } from './gradcheck.js';
import { Rng } from './reference.js';
import { categoricalRef, philox, philoxStream } from './random.reference.js';
import { softmaxRows } from './softmax.reference.js';

beforeAll(async () => {
  await vq.init();
});

async function read(t: vq.Tensor): Promise<Float32Array | Int32Array | Uint32Array> {
  const a = await t.toArray();
  t.dispose();
  return a;
}

function meanVar(a: ArrayLike<number>): [number, number] {
  let s = 0, q = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const m = s / a.length;
  for (let i = 0; i < a.length; i++) q += (a[i] - m) ** 2;
  return [m, q / a.length];
}

describe('Philox generator', () => {
  it('the reference matches the published Philox-4x32-10 known answers (Random123)', () => {
    const hex = (w: number[]) => w.map((v) => v.toString(16).padStart(8, '0'));
    expect(hex(philox([0, 0, 0, 0], [0, 0]))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(hex(philox([~0, ~0, ~0, ~0], [~0, ~0]))).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    expect(hex(philox([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0])))
      .toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });

  it('randBits equals the reference stream, including a counter carry past 2^32', async () => {
    const seed = 2 ** 40 + 12345;
    const gen = new vq.Generator(seed).setState({ seed, counter: 2 ** 32 - 3 });
    const got = await read(vq.randBits([7, 5], gen)); // 35 words: 9 blocks, crossing the carry
    expect(Array.from(got)).toEqual(Array.from(philoxStream(seed, 2 ** 32 - 3, 35)));
    expect(gen.getState()).toEqual({ seed, counter: 2 ** 32 - 3 + 9 });
  });

  it('repeats bit-exactly for a seed, differs across seeds and calls; state round-trips', async () => {
    const a = new vq.Generator(42), b = new vq.Generator(42), c = new vq.Generator(43);
    const x1 = await read(vq.randNormal([1001], a));
    const state = a.getState();
    const x2 = await read(vq.randNormal([1001], a));
    expect(Array.from(await read(vq.randNormal([1001], b)))).toEqual(Array.from(x1));
    expect(Array.from(x2)).not.toEqual(Array.from(x1));
    expect(Array.from(await read(vq.randNormal([1001], c)))).not.toEqual(Array.from(x1));
    expect(Array.from(await read(vq.randNormal([1001], b.setState(JSON.parse(JSON.stringify(state))))))).toEqual(Array.from(x2));
    expect(state.counter).toBe(Math.ceil(1001 / 4));
    vq.manualSeed(7);
    const d1 = await read(vq.randUniform([10]));
    vq.manualSeed(7);
    expect(Array.from(await read(vq.randUniform([10])))).toEqual(Array.from(d1));
    expect(vq.defaultGenerator().getState()).toEqual({ seed: 7, counter: 3 });
  });

  it('uniform: range, mean and variance', async () => {
    const gen = new vq.Generator(1);
    const u = await read(vq.randUniform([200_003], gen));
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    const [m, v] = meanVar(u);
    expect(Math.abs(m - 0.5)).toBeLessThan(0.004); // σ(mean) ≈ 0.00065
    expect(Math.abs(v - 1 / 12)).toBeLessThan(0.002);
    const w = await read(vq.randUniform([10_000], gen, -3, 5));
    expect(w.every((x) => x >= -3 && x < 5)).toBe(true);
    expect(Math.abs(meanVar(w)[0] - 1)).toBeLessThan(0.15);
  });

  it('normal: mean and standard deviation', async () => {
    const gen = new vq.Generator(2);
    const [m, v] = meanVar(await read(vq.randNormal([200_001], gen)));
    expect(Math.abs(m)).toBeLessThan(0.01); // σ(mean) ≈ 0.0022
    expect(Math.abs(Math.sqrt(v) - 1)).toBeLessThan(0.01);
    const [m2, v2] = meanVar(await read(vq.randNormal([50_000], gen, 3, 0.5)));
    expect(Math.abs(m2 - 3)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(v2) - 0.5)).toBeLessThan(0.01);
  });

  it('randInt: in range, bins pass a chi-square test', async () => {
    const gen = new vq.Generator(3);
    const n = 10, draws = 100_000;
    const r = await read(vq.randInt([draws], gen, n));
    expect(r).toBeInstanceOf(Int32Array);
    const bins = new Array(n).fill(0);
    expect(r.every((v) => v >= 0 && v < n)).toBe(true);
    for (const v of r) bins[v]++;
    const e = draws / n;
    const chi2 = bins.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(35); // 9 degrees of freedom: P(χ² > 35) ≈ 6e-5
    const big = await read(vq.randInt([1000], gen, 2 ** 31 - 1));
    expect(big.every((v) => v >= 0)).toBe(true);
    expect(new Set(big).size).toBeGreaterThan(990);
  });

  it('bernoulli: frequency and value', async () => {
    const b = (await read(vq.bernoulli([100_000], new vq.Generator(4), 0.3, 2))) as Float32Array;
    expect(b.every((v) => v === 0 || v === 2)).toBe(true);
    expect(Math.abs(b.reduce((s, v) => s + v, 0) / 2 / b.length - 0.3)).toBeLessThan(0.006);
  });
});

describe('sampleCategorical', () => {
  it('frequencies match softmax(logits / T)', async () => {
    const V = 5, N = 40_000;
    const logits = [1, 0, -1, 2, 0.5];
    for (const T of [1, 0.6]) {
      const rows = new Float32Array(N * V);
      for (let r = 0; r < N; r++) rows.set(logits, r * V);
      const s = await read(vq.sampleCategorical(vq.tensor(rows, [N, V]), new vq.Generator(5), T));
      const freq = new Array(V).fill(0);
      for (const v of s) freq[v] += 1 / N;
      const want = softmaxRows(Float32Array.from(logits, (l) => l / T), 1, V);
      for (let j = 0; j < V; j++) expect(Math.abs(freq[j] - want[j]), `T=${T}, class ${j}: ${freq[j]} vs ${want[j]}`).toBeLessThan(0.012);
    }
  });

  it('temperature 0 (and near 0) is the argmax', async () => {
    const rng = new Rng(6);
    const x = vq.tensor(rng.array(37 * 300), [37, 300]);
    const am = Array.from(await read(vq.argmax(x, -1)));
    const gen = new vq.Generator(6);
    expect(Array.from(await read(vq.sampleCategorical(x, gen, 0)))).toEqual(am);
    expect(gen.getState().counter).toBe(0);
    expect(Array.from(await read(vq.sampleCategorical(x, gen, 1e-6)))).toEqual(am);
  });

  it('draws the reference samples with either schedule (thread per row, workgroup per row)', async () => {
    const rng = new Rng(7);
    // Few long rows take the workgroup schedule on a CPU rasteriser, many the thread schedule;
    // on a GPU long rows always take the workgroup schedule and the short rows the thread one.
    for (const [rows, len] of [[3, 1001], [64, 1001], [70, 6]]) {
      const data = rng.array(rows * len, 2);
      const x = vq.tensor(data, [rows, len]);
      const gen = new vq.Generator(11).setState({ seed: 11, counter: 5 });
      const got = await read(vq.sampleCategorical(x, gen, 0.8));
      expect(Array.from(got), `[${rows}, ${len}]`).toEqual(Array.from(categoricalRef(data, rows, len, 11, 5, 0.8)));
      expect(gen.getState().counter).toBe(5 + rows * Math.ceil(len / 4));
      x.dispose();
    }
  });
});

describe('dropout', () => {
  it('zeroes about p of the elements, scales the rest, and backward reuses the mask', async () => {
    const n = 50_000, p = 0.25;
    const xs = Float32Array.from({ length: n }, (_, i) => (i % 7) - 3);
    const x = vq.tensor(xs, [100, 500]);
    x.requiresGrad = true;
    const y = vq.dropout(x, p, new vq.Generator(8));
    vq.backward(y, vq.tensor(new Float32Array(n).fill(1), [100, 500]));
    const ys = (await y.toArray()) as Float32Array;
    const dx = (await x.grad!.toArray()) as Float32Array;
    let dropped = 0, bad = -1;
    const scale = Math.fround(1 / (1 - p));
    for (let i = 0; i < n; i++) {
      // dx is the mask itself (g = 1): 0 or 1/(1 − p), and y = x · mask exactly
      if (dx[i] === 0) dropped++;
      if ((dx[i] !== 0 && dx[i] !== scale) || ys[i] !== Math.fround(xs[i] * dx[i])) bad = i;
    }
    expect(bad, `element ${bad}: x ${xs[bad]}, y ${ys[bad]}, mask ${dx[bad]}`).toBe(-1);
    expect(Math.abs(dropped / n - p)).toBeLessThan(0.01);
  });

  it('is the identity when not training or p = 0; zero for p = 1', async () => {
    const x = vq.tensor([1, 2, 3]);
    expect(Array.from(await vq.dropout(x, 0.5, new vq.Generator(), false).toArray())).toEqual([1, 2, 3]);
    expect(Array.from(await vq.dropout(x, 0).toArray())).toEqual([1, 2, 3]);
    expect(Array.from(await vq.dropout(x, 1).toArray())).toEqual([0, 0, 0]);
    expect(() => vq.dropout(x, 1.5)).toThrow(/p must be in \[0, 1\]/);
  });

  it('gradient matches finite differences with a fixed mask', async () => {
    const rng = new Rng(9);
    await gradcheck((x) => vq.dropout(x, 0.4, new vq.Generator(10)), [{ data: rng.array(30), shape: [5, 6] }]);
  });
});
