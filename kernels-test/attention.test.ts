import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { gradcheck } from './gradcheck.js';
import { firstMismatch, Rng } from './reference.js';
import { attentionBackward, attentionForward, type AttentionShape } from './reference-attention.js';

beforeAll(async () => {
  await vq.init();
});

// [B, H, T, d, causal]: T of 1, odd, not a multiple of any block, more rows than one workgroup.
const SHAPES: [number, number, number, number, boolean][] = [
  [1, 1, 1, 8, false],
  [1, 1, 1, 8, true],
  [1, 2, 5, 16, true],
  [2, 1, 33, 32, false],
  [2, 1, 33, 32, true],
  [1, 3, 150, 16, true],
  [2, 2, 100, 64, true],
  [1, 1, 100, 64, false],
  [1, 1, 20, 128, true],
];

function shapeOf(B: number, H: number, tq: number, tk: number, d: number, causal: boolean): AttentionShape {
  return { heads: B * H, tq, tk, d, causal, scale: 1 / Math.sqrt(d) };
}

function check(got: ArrayLike<number>, want: ArrayLike<number>, what: string, atol: number, rtol = 1e-3): void {
  const bad = firstMismatch(got, want, atol, rtol);
  if (bad >= 0) expect.fail(`${what}: element ${bad} is ${got[bad]}, expected ${want[bad]}`);
}

/** Forward and backward of the op (dO = R) against the float64 reference; `kernel` picks the variants. */
async function compare(B: number, H: number, tq: number, tk: number, d: number, causal: boolean, seed: number, kernel: vq.AttentionKernelOptions = {}): Promise<void> {
  const rng = new Rng(seed);
  const s = shapeOf(B, H, tq, tk, d, causal);
  const qd = rng.array(B * H * tq * d), kd = rng.array(B * H * tk * d), vd = rng.array(B * H * tk * d);
  const R = rng.array(B * H * tq * d);
  const leaf = { requiresGrad: true };
  const q = vq.tensor(qd, [B, H, tq, d], leaf), k = vq.tensor(kd, [B, H, tk, d], leaf), v = vq.tensor(vd, [B, H, tk, d], leaf);
  const out = vq.tidy(() => {
    const o = vq.attention(q, k, v, { causal, ...kernel });
    vq.backward(vq.sum(vq.mul(o, vq.tensor(R, o.shape))));
    return o;
  });
  const name = `[${B}, ${H}, ${tq}/${tk}, ${d}]${causal ? ' causal' : ''} ${JSON.stringify(kernel)}`;
  const ref = attentionForward(qd, kd, vd, s);
  check(await out.toArray(), ref.o, `O ${name}`, 2e-5);
  const g = attentionBackward(qd, kd, vd, R, s);
  check(await q.grad!.toArray(), g.dq, `dQ ${name}`, 1e-4);
  check(await k.grad!.toArray(), g.dk, `dK ${name}`, 1e-4);
  check(await v.grad!.toArray(), g.dv, `dV ${name}`, 1e-4);
  for (const t of [q, k, v]) { t.grad!.dispose(); t.dispose(); }
  out.dispose();
}

describe('attention', () => {
  it('matches the float64 reference, forward and backward (automatic schedule)', async () => {
    let seed = 1;
    for (const [B, H, T, d, causal] of SHAPES) await compare(B, H, T, T, d, causal, seed++);
  });

  it('matches the reference with 1 row per invocation (the rows of the GPU schedule, on any adapter)', async () => {
    // The automatic schedule above is the CPU one on lavapipe (4 rows, blocks of 8 or 4); forcing
    // the rows keeps this adapter's blocks and workgroup size.
    await compare(2, 1, 70, 70, 8, true, 41, { rows: 1 });
    await compare(1, 2, 7, 7, 8, false, 51, { rows: 1 });
  });

  it('matches the reference with each backward scheme, across many blocks', async () => {
    // One pass (the CPU schedule: pairs of 64 keys × 32 queries on a diagonal schedule of
    // dispatches) and two passes (the GPU one), each forced on this adapter. The shapes span
    // several blocks both ways, more query than key blocks and the reverse, partial blocks, causal
    // pairs cut by the diagonal, and a head dim of an odd number of vec4s.
    const cases: [number, number, number, number, number, boolean][] = [
      [1, 2, 150, 150, 16, true],
      [1, 1, 200, 70, 12, false],
      [1, 1, 70, 200, 8, true],
      [2, 1, 129, 129, 32, false],
    ];
    for (const backward of ['one-pass', 'two-pass'] as const) {
      let seed = 200;
      for (const [B, H, tq, tk, d, causal] of cases) await compare(B, H, tq, tk, d, causal, seed++, { backward });
    }
    // The one-pass pair with 1 key per invocation (smaller key blocks than query blocks).
    await compare(1, 2, 90, 90, 8, true, 210, { backward: 'one-pass', rows: 1 });
  });

  it('kernel options reach the kernels: a new variant compiles its own pipeline, and the default is unchanged after it', async () => {
    const rng = new Rng(220);
    const q = vq.tensor(rng.array(2 * 9 * 8), [1, 2, 9, 8]);
    const rt = vq.runtime();
    const pipelines = () => rt.counters.pipelines;
    const run = (opts: vq.AttentionOptions) => vq.tidy(() => vq.attention(q, q, q, opts));
    run({}).dispose();
    const before = pipelines();
    run({ causal: true, rows: 3 }).dispose();
    expect(pipelines()).toBeGreaterThan(before);
    const after = pipelines();
    run({}).dispose();
    expect(pipelines()).toBe(after);
    q.dispose();
  });

  it('the stored-scores path (matmul + softmax + matmul) matches the reference, forward and backward', async () => {
    // forced on any adapter; causal (aligned to the end when Tk > Tq) and bidirectional, odd sizes,
    // more than 128 queries (the subgroup products' larger row blocks)
    const cases: [number, number, number, number, number, boolean][] = [
      [1, 1, 1, 1, 8, false], [2, 1, 33, 33, 32, false], [1, 2, 70, 200, 12, false], [1, 3, 129, 17, 16, false],
      [1, 1, 1, 1, 8, true], [2, 1, 33, 33, 32, true], [1, 2, 70, 200, 12, true], [1, 1, 5, 9, 4, true], [1, 1, 130, 141, 8, true],
    ];
    let seed = 300;
    for (const [B, H, tq, tk, d, causal] of cases) await compare(B, H, tq, tk, d, causal, seed++, { scores: 'stored' });
  });

  it('causal, stored: the probabilities and their gradient past the diagonal, never written, are never read (NaN there)', async () => {
    // The pool hands the scores, P, dP and dS buffers full of NaN: the triangular products must read
    // past the diagonal as 0 (a NaN that got through would reach every output).
    const cases: [number, number, number, number, number][] = [[2, 1, 33, 33, 32], [1, 2, 70, 200, 12], [1, 1, 150, 150, 64]];
    let seed = 320;
    for (const [B, H, tq, tk, d] of cases) {
      for (let i = 0; i < 6; i++) vq.full([B, H, tq, tk], Number.NaN).dispose();
      await compare(B, H, tq, tk, d, true, seed++, { scores: 'stored' });
    }
  });

  it('stores the scores by default: on a CPU adapter with subgroups; few rows on a GPU; within the budget', () => {
    const lavapipe = { isCpu: true, subgroups: { minSize: 8, maxSize: 8 } };
    expect(vq.storesScores(lavapipe, 4, 1024, 1024, false)).toBe(true);
    expect(vq.storesScores(lavapipe, 16, 256, 256, false)).toBe(true);
    expect(vq.storesScores(lavapipe, 4, 1024, 1024, true)).toBe(true); // causal: triangular products
    expect(vq.storesScores(lavapipe, 128, 64, 64, false)).toBe(true); // the priors' shapes too
    expect(vq.storesScores(lavapipe, 128, 64, 64, true)).toBe(true);
    expect(vq.storesScores(lavapipe, 64, 1024, 1024, false)).toBe(false); // 256 MiB of probabilities: over the budget
    expect(vq.storesScores({ isCpu: true, subgroups: null }, 4, 1024, 1024, false)).toBe(false); // no subgroup matmul
    const gpu = { isCpu: false, subgroups: { minSize: 32, maxSize: 32 } };
    expect(vq.storesScores(gpu, 4, 1024, 1024, true)).toBe(true); // 4,096 rows: the H200 case
    expect(vq.storesScores(gpu, 256, 64, 64, false)).toBe(true);
    expect(vq.storesScores(gpu, 2048, 64, 64, true)).toBe(false); // 131,072 rows fill the GPU: fused
    expect(vq.storesScores(gpu, 64, 1024, 1024, true)).toBe(false); // over the budget
  });

  it('rejects unknown kernel variants', () => {
    const q = vq.zeros([1, 1, 4, 8]);
    expect(() => vq.attention(q, q, q, { rows: 9 })).toThrow(/rows 9 is not an integer in 1..8/);
    expect(() => vq.attention(q, q, q, { backward: 'three-pass' as vq.BackwardScheme })).toThrow(/backward 'three-pass'/);
    expect(() => vq.attentionDecode(q, q, q, 4, { rows: 0 })).toThrow(/rows 0/);
    q.dispose();
  });

  it('handles more keys than queries (cross attention, causal aligned to the end)', async () => {
    await compare(1, 2, 5, 12, 16, false, 60);
    await compare(1, 2, 5, 12, 16, true, 61);
  });

  it('takes strided (non-contiguous) inputs', async () => {
    const rng = new Rng(70);
    const [B, T, H, d] = [2, 9, 3, 8];
    const x = rng.array(B * T * H * d);
    const out = vq.tidy(() => {
      const bthd = vq.tensor(x, [B, T, H, d]);
      const q = vq.transpose(bthd, 1, 2); // [B, H, T, d] view
      return vq.attention(q, q, q, { causal: true });
    });
    // The same data made dense on the host.
    const dense = new Float32Array(x.length);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) for (let c = 0; c < d; c++)
      dense[((b * H + h) * T + t) * d + c] = x[((b * T + t) * H + h) * d + c];
    check(await out.toArray(), attentionForward(dense, dense, dense, shapeOf(B, H, T, T, d, true)).o, 'O strided', 2e-5);
    out.dispose();
  });

  it('gradients match finite differences (tiny shapes)', async () => {
    const rng = new Rng(80);
    for (const causal of [false, true]) {
      const shape = [1, 2, 5, 4];
      const n = 40;
      await gradcheck((q, k, v) => vq.attention(q, k, v, { causal }), [
        { data: rng.array(n), shape }, { data: rng.array(n), shape }, { data: rng.array(n), shape },
      ]);
    }
  });

  it('causal attention ignores the future', async () => {
    const rng = new Rng(90);
    const [B, H, T, d, t] = [1, 2, 24, 16, 13];
    const qd = rng.array(B * H * T * d), kd = rng.array(B * H * T * d), vd = rng.array(B * H * T * d);
    const k2 = Float32Array.from(kd), v2 = Float32Array.from(vd);
    // Change key and value rows t.. of every head.
    for (let h = 0; h < B * H; h++) for (let j = t; j < T; j++) for (let c = 0; c < d; c++) {
      k2[(h * T + j) * d + c] += 3;
      v2[(h * T + j) * d + c] -= 5;
    }
    const run = (kk: Float32Array, vv: Float32Array) =>
      vq.tidy(() => vq.attention(vq.tensor(qd, [B, H, T, d]), vq.tensor(kk, [B, H, T, d]), vq.tensor(vv, [B, H, T, d]), { causal: true }));
    const a = run(kd, vd), b = run(k2, v2);
    const oa = await a.toArray(), ob = await b.toArray();
    let changedLater = false;
    for (let h = 0; h < B * H; h++) for (let i = 0; i < T; i++) for (let c = 0; c < d; c++) {
      const idx = (h * T + i) * d + c;
      if (i < t) expect(ob[idx]).toBe(oa[idx]);
      else if (ob[idx] !== oa[idx]) changedLater = true;
    }
    expect(changedLater).toBe(true);
    a.dispose();
    b.dispose();
  });

  it('backward is deterministic (bitwise equal across runs), in both schemes', async () => {
    const rng = new Rng(100);
    // 150 rows: several blocks, so the one-pass scheme sums dQ, dK and dV over several dispatches.
    const shape = [1, 2, 150, 16];
    const data = [rng.array(4800), rng.array(4800), rng.array(4800)];
    const grads = async (backward: vq.BackwardScheme) => {
      const xs = data.map((x) => vq.tensor(x, shape, { requiresGrad: true }));
      vq.tidy(() => vq.backward(vq.sum(vq.square(vq.attention(xs[0], xs[1], xs[2], { causal: true, backward })))));
      const out = await Promise.all(xs.map((t) => t.grad!.toArray()));
      xs.forEach((t) => { t.grad!.dispose(); t.dispose(); });
      return out;
    };
    for (const scheme of ['one-pass', 'two-pass'] as const) {
      const a = await grads(scheme), b = await grads(scheme);
      for (let i = 0; i < 3; i++) expect(Array.from(b[i])).toEqual(Array.from(a[i]));
    }
  });
});

describe('attentionDecode', () => {
  it('equals the last row of the full causal forward for several cache lengths', async () => {
    const rng = new Rng(110);
    const [B, H, tmax, d] = [2, 3, 40, 32];
    const kd = rng.array(B * H * tmax * d), vd = rng.array(B * H * tmax * d), qd = rng.array(B * H * tmax * d);
    const kCache = vq.zeros([B, H, tmax, d]).keepAlive(), vCache = vq.zeros([B, H, tmax, d]).keepAlive();
    const rows = (x: Float32Array, t0: number, t1: number) => {
      const r = new Float32Array(B * H * (t1 - t0) * d);
      for (let h = 0; h < B * H; h++) r.set(x.subarray((h * tmax + t0) * d, (h * tmax + t1) * d), h * (t1 - t0) * d);
      return r;
    };
    // Fill the cache as a sampler would: a prompt of 5 rows, then one row per step.
    let len = 0;
    const lengths = new Set([5, 6, 17, 33, 40]);
    const append = (n: number) => vq.tidy(() => {
      vq.writeKV(kCache, vq.tensor(rows(kd, len, len + n), [B, H, n, d]), len);
      vq.writeKV(vCache, vq.tensor(rows(vd, len, len + n), [B, H, n, d]), len);
      len += n;
    });
    append(5);
    while (len <= tmax) {
      if (lengths.has(len)) {
        const out = vq.tidy(() => vq.attentionDecode(vq.tensor(rows(qd, len - 1, len), [B, H, 1, d]), kCache, vCache, len));
        expect(out.shape).toEqual([B, H, 1, d]);
        const s = shapeOf(B, H, len, len, d, true);
        const full = attentionForward(rows(qd, 0, len), rows(kd, 0, len), rows(vd, 0, len), s).o;
        check(await out.toArray(), lastRows(full, B * H, len, d), `decode length ${len}`, 2e-5);
        out.dispose();
      }
      if (len === tmax) break;
      append(1);
    }
    kCache.dispose();
    vCache.dispose();
  });

  it('folds several key blocks per invocation (a long cache)', async () => {
    const rng = new Rng(115);
    const [B, H, len, d] = [1, 2, 300, 8];
    const kd = rng.array(B * H * len * d), vd = rng.array(B * H * len * d), qd = rng.array(B * H * len * d);
    const out = vq.tidy(() =>
      vq.attentionDecode(vq.slice(vq.tensor(qd, [B, H, len, d]), 2, len - 1, len), vq.tensor(kd, [B, H, len, d]), vq.tensor(vd, [B, H, len, d]), len));
    const full = attentionForward(qd, kd, vd, shapeOf(B, H, len, len, d, true)).o;
    check(await out.toArray(), lastRows(full, B * H, len, d), 'decode length 300', 2e-5);
    out.dispose();
  });

  it('takes several new queries (prefill): the last rows of the full causal forward', async () => {
    const rng = new Rng(120);
    const [B, H, tmax, d, len, n] = [1, 2, 24, 16, 19, 3];
    const kd = rng.array(B * H * tmax * d), vd = rng.array(B * H * tmax * d), qd = rng.array(B * H * len * d);
    const out = vq.tidy(() => {
      // Queries len−n..len−1 of each head.
      const qs = vq.slice(vq.tensor(qd, [B, H, len, d]), 2, len - n, len);
      return vq.attentionDecode(qs, vq.tensor(kd, [B, H, tmax, d]), vq.tensor(vd, [B, H, tmax, d]), len);
    });
    const prefix = (x: Float32Array) => {
      const r = new Float32Array(B * H * len * d);
      for (let h = 0; h < B * H; h++) r.set(x.subarray(h * tmax * d, (h * tmax + len) * d), h * len * d);
      return r;
    };
    const full = attentionForward(qd, prefix(kd), prefix(vd), shapeOf(B, H, len, len, d, true)).o;
    const want = new Float64Array(B * H * n * d);
    for (let h = 0; h < B * H; h++) want.set(full.subarray((h * len + len - n) * d, (h * len + len) * d), h * n * d);
    check(await out.toArray(), want, 'prefill', 2e-5);
    out.dispose();
  });

  it('rejects a length outside the cache', async () => {
    const c = vq.zeros([1, 1, 4, 8]);
    const q = vq.zeros([1, 1, 1, 8]);
    expect(() => vq.attentionDecode(q, c, c, 5)).toThrow(/length 5/);
    expect(() => vq.attentionDecode(q, c, c, 0)).toThrow(/length 0/);
    expect(() => vq.writeKV(c, q, 4)).toThrow(/outside/);
    c.dispose();
    q.dispose();
  });
});

/** Row len−1 of each head of a [heads, len, d] array. */
function lastRows(x: Float64Array, heads: number, len: number, d: number): Float64Array {
  const r = new Float64Array(heads * d);
  for (let h = 0; h < heads; h++) r.set(x.subarray((h * len + len - 1) * d, (h * len + len) * d), h * d);
  return r;
}
