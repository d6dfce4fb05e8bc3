import { beforeAll, describe, expect, it } from 'vitest';
import { init, runtime } from '../src/device/runtime.js';
import { Adam, AdamW, clipGradNorm, SGD, warmupCosine, warmupLinear, type Optimizer } from '../src/optim/index.js';
import { FLAT_MAX_ELEMENTS } from '../src/optim/optimizer.js';
import { tensor, type Tensor } from '../src/tensor/tensor.js';
import { backward } from '../src/autograd/tape.js';
import { groupNorm } from '../src/ops/norm.js';
import { adamStep, gradNorm, sgdStep } from './optim.reference.js';
import { firstMismatch, Rng } from './reference.js';

// Awkward sizes: one element, odd, larger than a workgroup, and more elements than the grad-norm
// kernel has invocations per gradient (its cap is 16·64·16 on a CPU, 128·64·16 on a GPU).
const SHAPES = [[1], [37], [5, 67], [131075]];

function makeParams(rng: Rng): { params: Tensor[]; host: Float64Array[] } {
  const params: Tensor[] = [], host: Float64Array[] = [];
  SHAPES.forEach((shape, i) => {
    const data = rng.array(shape.reduce((a, b) => a * b, 1));
    const t = tensor(data, shape);
    t.requiresGrad = true;
    t.name = `p${i}`;
    params.push(t);
    host.push(Float64Array.from(data));
  });
  return { params, host };
}

/** Gives every parameter a fresh random gradient; returns the host copies. */
function setGrads(params: Tensor[], rng: Rng, scale = 1): Float32Array[] {
  return params.map((p) => {
    const g = rng.array(p.size, scale);
    p.grad?.dispose();
    p.grad = tensor(g, p.shape);
    return g;
  });
}

async function expectClose(params: Tensor[], host: Float64Array[], atol = 2e-6, rtol = 2e-5): Promise<void> {
  for (let i = 0; i < params.length; i++) {
    const got = await params[i].toArray();
    const bad = firstMismatch(got, host[i], atol, rtol);
    expect(bad, `param ${i} [${params[i].shape}] at ${bad}: ${got[bad]} vs ${host[i][bad]}`).toBe(-1);
  }
}

function dispose(opt: Optimizer, params: Tensor[]): void {
  opt.dispose();
  for (const p of params) {
    p.grad?.dispose();
    p.dispose();
  }
}

describe('optimizers vs reference', () => {
  beforeAll(async () => {
    await init();
  });

  // flat: every parameter in the flat buffers ('all'), or the default, where the 131,075-element
  // one (over FLAT_MAX_ELEMENTS) is updated per tensor inside the flat step ('mixed')
  const variants = [[false, 'all'], [true, 'all'], [false, 'mixed'], [true, 'mixed'], [false, 'per-tensor'], [true, 'per-tensor']] as const;
  for (const [decoupled, path] of variants) {
    it(`${decoupled ? 'AdamW' : 'Adam'} (${path === 'all' ? 'flat multi-tensor' : path === 'mixed' ? 'flat, the large parameter per tensor' : 'per-tensor'}) matches the reference over 4 steps with a schedule`, async () => {
      const rng = new Rng(decoupled ? 7 : 8);
      const { params, host } = makeParams(rng);
      expect(params.map((p) => p.size > FLAT_MAX_ELEMENTS)).toEqual([false, false, false, true]);
      const lr = warmupCosine({ base: 0.05, warmupSteps: 2, totalSteps: 6, min: 0.001 });
      const foreach = path !== 'per-tensor';
      const opts = { lr, betas: [0.8, 0.95] as [number, number], eps: 1e-6, weightDecay: 0.1, foreach, ...(path === 'all' ? { flatMaxElements: Infinity } : {}) };
      const opt = decoupled ? new AdamW(params, opts) : new Adam(params, opts);
      const m = host.map((h) => new Float64Array(h.length)), v = host.map((h) => new Float64Array(h.length));
      for (let t = 1; t <= 4; t++) {
        const grads = setGrads(params, rng);
        opt.step();
        host.forEach((h, i) => adamStep(h, grads[i], m[i], v[i], { ...opts, lr: lr(t - 1), decoupled, t }));
      }
      await expectClose(params, host);
      const sd = opt.stateDict();
      expect(sd.step).toBe(4);
      expect(Object.keys(sd.tensors)).toEqual(['0.exp_avg', '0.exp_avg_sq', '1.exp_avg', '1.exp_avg_sq', '2.exp_avg', '2.exp_avg_sq', '3.exp_avg', '3.exp_avg_sq']);
      await expectClose([sd.tensors['2.exp_avg_sq']], [v[2]], 1e-7);
      dispose(opt, params);
    });
  }

  const sgdCases = [
    { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
    { momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.01 },
    { momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.05 },
  ];
  for (const c of sgdCases) {
    it(`SGD ${JSON.stringify(c)} matches the reference over 3 steps`, async () => {
      const rng = new Rng(11);
      const { params, host } = makeParams(rng);
      const opt = new SGD(params, { lr: 0.1, ...c });
      const bufs = host.map((h) => new Float64Array(h.length));
      for (let t = 0; t < 3; t++) {
        const grads = setGrads(params, rng);
        opt.step();
        host.forEach((h, i) => sgdStep(h, grads[i], bufs[i], { lr: 0.1, ...c, first: t === 0 }));
      }
      await expectClose(params, host);
      dispose(opt, params);
    });
  }

  for (const flatMaxElements of [Infinity, 40]) it(`the flat Adam path${flatMaxElements === 40 ? ' (parameters over 40 elements per tensor)' : ''}: parameters without a gradient keep weights and moments, groups keep their decay and lr, the norm sees only this step`, async () => {
    const rng = new Rng(12);
    const { params, host } = makeParams(rng);
    const groups = [{ params: params.slice(0, 2) }, { params: params.slice(2), weightDecay: 0, lrScale: 0.5 }];
    const opt = new AdamW(groups, { lr: 0.02, weightDecay: 0.3, clipNorm: 3, flatMaxElements });
    const m = host.map((h) => new Float64Array(h.length)), v = host.map((h) => new Float64Array(h.length));
    const steps = host.map(() => 0);
    // Parameter 1 has no gradient at step 2 (its segment of the flat gradient held step 1's) and
    // parameter 3 none before step 3 (its state is created then).
    const without = [[3], [1, 3], []];
    for (let t = 1; t <= 3; t++) {
      const grads = setGrads(params, rng, 0.3);
      for (const i of without[t - 1]) { params[i].grad!.dispose(); params[i].grad = null; }
      const live = grads.filter((_, i) => !without[t - 1].includes(i));
      const { scale } = gradNorm(live, 3);
      expect(scale).toBeLessThan(1);
      opt.step();
      host.forEach((h, i) => {
        if (without[t - 1].includes(i)) return;
        steps[i]++;
        const [lr, wd] = i < 2 ? [0.02, 0.3] : [0.01, 0];
        adamStep(h, grads[i], m[i], v[i], { lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: wd, decoupled: true, t, scale });
      });
    }
    expect(steps).toEqual([3, 2, 3, 1]);
    await expectClose(params, host, 1e-5, 1e-4);
    await expectClose([opt.stateDict().tensors['1.exp_avg']], [m[1]], 1e-6, 1e-4);
    expect(Object.keys(opt.stateDict().tensors)).toHaveLength(8);
    dispose(opt, params);
  });

  it('reads gradients that start at an offset (a bias gradient in the buffer of its weight\'s) on every path', async () => {
    for (const kind of ['flat', 'per-tensor', 'sgd'] as const) {
      const rng = new Rng(14);
      const x = tensor(rng.array(2 * 4 * 5), [2, 4, 5]);
      const hw = rng.array(4), hb = rng.array(4);
      const w = tensor(hw), b = tensor(hb);
      w.requiresGrad = b.requiresGrad = true;
      backward(groupNorm(x, 2, w, b), tensor(rng.array(40), [2, 4, 5]));
      expect(b.grad!.offset, 'the tape keeps the bias gradient as a view').toBeGreaterThan(0);
      const grads = [await w.grad!.toArray(), await b.grad!.toArray()];
      const host = [Float64Array.from(hw), Float64Array.from(hb)];
      const opt = kind === 'sgd' ? new SGD([w, b], { lr: 0.1 }) : new AdamW([w, b], { lr: 0.1, foreach: kind === 'flat' });
      opt.step();
      host.forEach((h, i) => {
        if (kind === 'sgd') sgdStep(h, grads[i], new Float64Array(0), { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, first: true });
        else adamStep(h, grads[i], new Float64Array(h.length), new Float64Array(h.length), { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, decoupled: true, t: 1 });
      });
      await expectClose([w, b], host);
      x.dispose();
      dispose(opt, [w, b]);
    }
  });

  it('skips parameters without a gradient and uses per-group weight decay and lr scale', async () => {
    const rng = new Rng(3);
    const { params, host } = makeParams(rng);
    const opt = new SGD([{ params: params.slice(0, 2) }, { params: params.slice(2), weightDecay: 0, lrScale: 0.5 }], { lr: 0.2, weightDecay: 0.3 });
    const grads = setGrads(params, rng);
    params[1].grad!.dispose();
    params[1].grad = null;
    opt.step();
    const ref = (i: number, lr: number, wd: number) => sgdStep(host[i], grads[i], new Float64Array(0), { lr, momentum: 0, dampening: 0, nesterov: false, weightDecay: wd, first: true });
    ref(0, 0.2, 0.3);
    ref(2, 0.1, 0);
    ref(3, 0.1, 0);
    await expectClose(params, host);
    dispose(opt, params);
  });
});

describe('gradient clipping', () => {
  beforeAll(async () => {
    await init();
  });

  it('clipGradNorm scales the gradients in place and returns the norm', async () => {
    const rng = new Rng(5);
    const { params } = makeParams(rng);
    const grads = setGrads(params, rng, 0.5);
    const ref = gradNorm(grads, 1.5);
    expect(ref.scale).toBeLessThan(1);
    const norm = clipGradNorm(params, 1.5);
    expect(Math.abs((await norm.item()) - ref.norm)).toBeLessThan(1e-5 * ref.norm);
    norm.dispose();
    for (let i = 0; i < params.length; i++) {
      const want = Float64Array.from(grads[i], (g) => g * ref.scale);
      const got = await params[i].grad!.toArray();
      expect(firstMismatch(got, want, 1e-6, 1e-5)).toBe(-1);
    }
    // A bound above the norm leaves the gradients alone.
    const again = clipGradNorm(params, 1e6);
    expect(Math.abs((await again.item()) - 1.5)).toBeLessThan(1e-4);
    again.dispose();
    for (const p of params) { p.grad!.dispose(); p.dispose(); }
  });

  it('AdamW with clipNorm reads the factor on the GPU and exposes the norm', async () => {
    const rng = new Rng(6);
    const { params, host } = makeParams(rng);
    const opt = new AdamW(params, { lr: 0.01, weightDecay: 0.05, clipNorm: 2 });
    const m = host.map((h) => new Float64Array(h.length)), v = host.map((h) => new Float64Array(h.length));
    let lastNorm = 0;
    for (let t = 1; t <= 3; t++) {
      const grads = setGrads(params, rng, t === 2 ? 0.001 : 1); // step 2 is below the bound
      const { norm, scale } = gradNorm(grads, 2);
      lastNorm = norm;
      opt.step();
      host.forEach((h, i) => adamStep(h, grads[i], m[i], v[i], { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.05, decoupled: true, t, scale }));
    }
    await expectClose(params, host, 1e-5, 1e-4);
    expect(Math.abs((await opt.gradNorm!.item()) - lastNorm)).toBeLessThan(1e-5 * lastNorm);
    dispose(opt, params);
  });
});

/** Copies A's weights into B, gives both the same fresh gradients, steps both, expects equal weights. */
async function stepInLockstep(optA: Optimizer, a: Tensor[], optB: Optimizer, b: Tensor[], rng: Rng): Promise<void> {
  for (let i = 0; i < a.length; i++) runtime().write(b[i].buffer, 0, await a[i].toArray());
  const g = setGrads(a, rng);
  b.forEach((p, i) => { p.grad?.dispose(); p.grad = tensor(g[i], p.shape); });
  optA.step();
  optB.step();
  for (let i = 0; i < a.length; i++) expect(await b[i].toArray()).toEqual(await a[i].toArray());
}

describe('optimizer state and steady state', () => {
  beforeAll(async () => {
    await init();
  });

  it('loadStateDict resumes bit-exactly and refuses mismatched state', async () => {
    const rng = new Rng(9);
    const a = makeParams(rng), b = makeParams(new Rng(9));
    const optA = new AdamW(a.params, { lr: 0.01 }), optB = new AdamW(b.params, { lr: 0.01 });
    for (let t = 0; t < 2; t++) {
      const g = setGrads(a.params, rng);
      b.params.forEach((p, i) => { p.grad?.dispose(); p.grad = tensor(g[i], p.shape); });
      optA.step();
      if (t === 0) optB.step();
    }
    // B is one step behind: load A's state and weights, then step both with the same gradients.
    optB.loadStateDict(optA.stateDict());
    expect(optB.stepCount).toBe(2);
    await stepInLockstep(optA, a.params, optB, b.params, rng);

    const sd = optA.stateDict();
    expect(() => optB.loadStateDict({ step: 1, tensors: { ...sd.tensors, '9.exp_avg': sd.tensors['0.exp_avg'] } })).toThrow(/unexpected key '9.exp_avg'/);
    expect(() => optB.loadStateDict({ step: 1, tensors: { '1.exp_avg': sd.tensors['0.exp_avg'] } })).toThrow(/'1.exp_avg' is f32\[1\], parameter 1 is f32\[37\]/);
    expect(() => optB.loadStateDict({ step: 1, tensors: { '0.exp_avg': sd.tensors['0.exp_avg'] } })).toThrow(/parameter 0 lacks '0.exp_avg_sq'/);
    dispose(optA, a.params);
    dispose(optB, b.params);
  });

  // all flat: norm, finish, one flat update; mixed (the 131,075-element parameter per tensor): the
  // norm over two tensors, finish, the flat update and the large one's; per tensor: norm and update each, + finish
  const dispatches = { all: 3, mixed: 5, 'per-tensor': 2 * SHAPES.length + 1 };
  for (const path of ['all', 'mixed', 'per-tensor'] as const) {
    const what = { all: 'three dispatches (norm, finish, one flat update)', mixed: 'five dispatches with the large parameter per tensor', 'per-tensor': 'one dispatch per parameter (+ norm)' }[path];
    it(`a warm step with clipping allocates nothing and records ${what}`, async () => {
      const rng = new Rng(4);
      const { params } = makeParams(rng);
      const opt = new AdamW(params, { lr: 1e-3, clipNorm: 1, foreach: path !== 'per-tensor', flatMaxElements: path === 'all' ? Infinity : undefined });
      const grads = setGrads(params, rng);
      opt.step(); // creates state
      await runtime().sync();
      const rt = runtime();
      const before = rt.pool.getStats(), d0 = rt.counters.dispatches;
      for (let s = 0; s < 5; s++) opt.step();
      await rt.sync();
      const after = rt.pool.getStats();
      expect((rt.counters.dispatches - d0) / 5).toBe(dispatches[path]);
      expect(after.created).toBe(before.created);
      expect(after.liveBuffers).toBe(before.liveBuffers);
      expect(grads.length).toBe(params.length);
      dispose(opt, params);
    });
  }

  it('loading a state dict without state for a parameter restarts its moments from zero', async () => {
    const rng = new Rng(13);
    const a = makeParams(rng), b = makeParams(new Rng(13));
    const optA = new AdamW(a.params, { lr: 0.01 }), optB = new AdamW(b.params, { lr: 0.01 });
    // B steps every parameter twice; A never steps parameter 2, so its state dict lacks it.
    for (let t = 0; t < 2; t++) {
      const g = setGrads(b.params, rng);
      optB.step();
      a.params.forEach((p, i) => { p.grad?.dispose(); p.grad = i === 2 ? null : tensor(g[i], p.shape); });
      optA.step();
    }
    expect(Object.keys(optA.stateDict().tensors)).not.toContain('2.exp_avg');
    optB.loadStateDict(optA.stateDict());
    expect(Object.keys(optB.stateDict().tensors)).not.toContain('2.exp_avg');
    await stepInLockstep(optA, a.params, optB, b.params, rng);
    expect(await optB.stateDict().tensors['2.exp_avg'].toArray()).toEqual(await optA.stateDict().tensors['2.exp_avg'].toArray());
    dispose(optA, a.params);
    dispose(optB, b.params);
  });
});

describe('warmupCosine', () => {
  it('warms up linearly, decays along a cosine, then stays at min', () => {
    const lr = warmupCosine({ base: 1, warmupSteps: 4, totalSteps: 14, min: 0.1 });
    expect([0, 1, 2, 3].map(lr)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(lr(4)).toBeCloseTo(1, 12);
    expect(lr(9)).toBeCloseTo(0.55, 12); // halfway: (1 + 0.1) / 2
    expect(lr(14)).toBeCloseTo(0.1, 12);
    expect(lr(1000)).toBeCloseTo(0.1, 12);
    expect(lr(6)).toBeCloseTo(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.2)), 12);
    expect(warmupCosine({ base: 2, warmupSteps: 0, totalSteps: 0 })(0)).toBe(0);
    expect(() => warmupCosine({ base: 1, warmupSteps: 5, totalSteps: 3 })).toThrow(/totalSteps/);
  });
});

describe('warmupLinear', () => {
  it('warms up linearly, decays along a straight line, then stays at min', () => {
    const lr = warmupLinear({ base: 1, warmupSteps: 4, totalSteps: 14, min: 0.1 });
    expect([0, 1, 2, 3].map(lr)).toEqual([0.25, 0.5, 0.75, 1]);
    expect(lr(4)).toBeCloseTo(1, 12);
    expect(lr(6)).toBeCloseTo(0.1 + 0.9 * 0.8, 12);
    expect(lr(9)).toBeCloseTo(0.55, 12);
    expect(lr(14)).toBeCloseTo(0.1, 12);
    expect(lr(1000)).toBeCloseTo(0.1, 12);
    const toZero = warmupLinear({ base: 2, warmupSteps: 0, totalSteps: 10 });
    expect([0, 5, 10].map(toZero)).toEqual([2, 1, 0]);
    expect(() => warmupLinear({ base: 1, warmupSteps: 0, totalSteps: 10, min: 2 })).toThrow(/base ≥ min/);
  });
});
