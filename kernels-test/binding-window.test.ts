// Operands over the storage-binding limit (ops/binding-window.ts): with the runtime's binding cap
// lowered to a few KiB, each op runs in chunks that bind windows of its operands, and must give
// what it gives in one piece (bit for bit: each element's arithmetic is the same; split reductions
// within rounding). The dispatch count shows that the chunked path ran. In Node and Chromium.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { elementSpan, forRowChunks, windowed } from '../src/ops/binding-window.js';
import { runtime } from '../src/device/runtime.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { firstMismatch, Rng } from './reference.js';
import { defaultTokenizerConfig } from '../src/models/tokenizer/config.js';
import { VQVAE } from '../src/models/tokenizer/vqvae.js';
import { manualSeed } from '../src/nn/init.js';
import { DEFAULT_LOSS, TokenizerTrainer } from '../src/train/tokenizer-trainer.js';

beforeAll(async () => {
  await vq.init();
});
afterEach(() => {
  runtime().bindingCap = null;
});

const rng = new Rng(77);
const CAP = 4096; // bytes: 1,024 floats per binding

function rand(shape: number[], requiresGrad = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return vq.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape, { requiresGrad });
}

/**
 * f's result in one piece and under the cap (and the dispatches each took); `f` must return a new
 * tensor each call (its inputs are made outside).
 */
async function bothWays(f: () => Tensor, cap = CAP): Promise<{ whole: Float32Array; chunked: Float32Array; dispatches: [number, number] }> {
  const rt = runtime();
  let d0 = rt.counters.dispatches;
  const a = f();
  const whole = (await a.toArray()) as Float32Array;
  const dWhole = rt.counters.dispatches - d0;
  rt.bindingCap = cap;
  d0 = rt.counters.dispatches;
  let b: Tensor;
  try {
    b = f();
  } finally {
    rt.bindingCap = null;
  }
  const dChunked = rt.counters.dispatches - d0;
  const chunked = (await b.toArray()) as Float32Array;
  a.dispose();
  b.dispose();
  return { whole, chunked, dispatches: [dWhole, dChunked] };
}

async function expectSameChunked(f: () => Tensor, label: string): Promise<void> {
  const r = await bothWays(f);
  expect(r.dispatches[1], `${label}: chunked dispatches`).toBeGreaterThan(r.dispatches[0]);
  expect(Array.from(r.chunked), label).toEqual(Array.from(r.whole));
}

describe('binding windows', () => {
  it('a window spans just its view, from an aligned start', async () => {
    const x = vq.tensor(Float32Array.from({ length: 1000 }, (_, i) => i), [10, 100]);
    const rows = x.view([3, 100], [100, 1], 450); // rows 4.5 .. 7.5 of the buffer
    expect(elementSpan(rows)).toEqual([450, 750]);
    const w = windowed(rows);
    const align = runtime().device.limits.minStorageBufferOffsetAlignment / 4;
    expect(w.storage.byteOffset % (align * 4)).toBe(0);
    expect(w.storage.byteOffset / 4 + w.offset).toBe(450);
    expect(w.storage.bytes).toBe((750 - w.storage.byteOffset / 4) * 4);
    expect(Array.from((await w.toArray()) as Float32Array)).toEqual(Array.from({ length: 300 }, (_, i) => 450 + i));
    w.dispose();
    rows.dispose();
    x.dispose();
  });

  it('forRowChunks: chunks cover the rows once; dense chunks start on a binding boundary', () => {
    const x = vq.zeros([5000]);
    runtime().bindingCap = CAP;
    const seen: [number, number, number][] = [];
    forRowChunks('test', 5000, [{ t: x, axis: 0 }], ([v], r0, r1) => seen.push([r0, r1, v.offset]));
    runtime().bindingCap = null;
    expect(seen.length).toBeGreaterThan(4);
    expect(seen[0][0]).toBe(0);
    expect(seen[seen.length - 1][1]).toBe(5000);
    for (let i = 1; i < seen.length; i++) expect(seen[i][0]).toBe(seen[i - 1][1]);
    for (const [r0, r1, offset] of seen) {
      expect(offset).toBe(0);
      expect(4 * (r1 - r0)).toBeLessThanOrEqual(CAP);
    }
    x.dispose();
  });

  it('an operand bound whole over the cap, or one row over it: one sentence', () => {
    const big = vq.zeros([2, 2000]);
    runtime().bindingCap = CAP;
    expect(() => forRowChunks('test', 2, [{ t: big, axis: null }], () => {})).toThrow(/test: the operand \[2, 2000\] cannot be split to fit one storage binding of 4096 bytes \(it is bound whole\)/);
    expect(() => forRowChunks('test', 2, [{ t: big, axis: 0 }], () => {})).toThrow(/one slice along axis 0 alone spans 8000 bytes/);
    big.dispose();
  });
});

describe('elementwise ops in chunks', () => {
  it('unary on dense, odd-sized and strided operands; copies', async () => {
    const x = rand([3001]);
    const m = rand([70, 60]);
    await expectSameChunked(() => vq.gelu(x), 'gelu, 3001 elements');
    await expectSameChunked(() => vq.exp(vq.transpose(m)), 'exp of a transposed view');
    await expectSameChunked(() => vq.contiguous(vq.transpose(m)), 'a transposing copy');
    await expectSameChunked(() => vq.contiguous(vq.slice(m, 1, 3, 50)), 'a sliced copy');
    x.dispose();
    m.dispose();
  });

  it('binary with and without broadcasting; where', async () => {
    const a = rand([50, 60]), b = rand([50, 60]), row = rand([60]), col = rand([50, 1]);
    await expectSameChunked(() => vq.add(a, b), 'a + b');
    await expectSameChunked(() => vq.mul(a, row), 'a · row (broadcast over rows)');
    await expectSameChunked(() => vq.sub(col, a), 'col − a (broadcast over columns)');
    await expectSameChunked(() => vq.div(vq.transpose(a), vq.transpose(b)), 'transposed views');
    await expectSameChunked(() => vq.where(vq.greater(a, b), a, row), 'where');
    for (const t of [a, b, row, col]) t.dispose();
  });

  it('gradients of unary and binary ops', async () => {
    const x = rand([40, 70], true), y = rand([70], true);
    const grads = () => {
      const loss = vq.sum(vq.mul(vq.tanh(vq.add(x, y)), vq.sigmoid(x)));
      vq.backward(loss);
      const out = vq.concat([vq.reshape(x.grad!, [-1]), y.grad!], 0);
      for (const t of [x, y]) {
        t.grad!.dispose();
        t.grad = null;
      }
      loss.dispose();
      return out;
    };
    const r = await bothWays(grads);
    expect(r.dispatches[1]).toBeGreaterThan(r.dispatches[0]);
    expect(Array.from(r.chunked)).toEqual(Array.from(r.whole));
    x.dispose();
    y.dispose();
  });
});

describe('reductions in chunks', () => {
  it('rows in chunks, and a row longer than a binding in two passes', async () => {
    const x = rand([3001]), m = rand([90, 30]);
    const r = await bothWays(() => vq.concat([vq.reshape(vq.sum(x), [1]), vq.reshape(vq.max(x), [1]), vq.mean(m, 1), vq.min(m, 1)], 0));
    expect(r.dispatches[1]).toBeGreaterThan(r.dispatches[0]);
    expect(firstMismatch(r.chunked, r.whole, 1e-5, 1e-5)).toBe(-1);
    expect(r.chunked[1]).toBe(r.whole[1]); // a maximum does not depend on the order
    x.dispose();
    m.dispose();
  });
});

describe('matrix products in chunks', () => {
  it('2-D: rows of A and C in chunks, B bound whole; transposed operands', async () => {
    const a = rand([90, 40]), b = rand([40, 20]);
    await expectSameChunked(() => vq.matmul(a, b), 'A·B');
    // A row of a column-major A spans the whole buffer: the sum over k goes in halves (its order changes)
    const r = await bothWays(() => vq.matmul(vq.transpose(vq.contiguous(vq.transpose(a))), b));
    expect(r.dispatches[1]).toBeGreaterThan(r.dispatches[0]);
    expect(firstMismatch(r.chunked, r.whole, 1e-5, 1e-5), 'a column-major A, split over k').toBe(-1);
    a.dispose();
    b.dispose();
  });

  it('batched: chunks of batch items, or rows within an item; a broadcast B', async () => {
    const a = rand([6, 20, 16]), b = rand([6, 16, 12]), w = rand([16, 12]), big = rand([2, 80, 24]), bw = rand([24, 8]);
    await expectSameChunked(() => vq.matmul(a, b), 'batched A·B (items fit)');
    await expectSameChunked(() => vq.matmul(a, w), 'a weight shared by the batch');
    await expectSameChunked(() => vq.matmul(big, vq.expand(vq.reshape(bw, [1, 24, 8]), [2, 24, 8])), 'items over the cap: rows within each');
    for (const t of [a, b, w, big, bw]) t.dispose();
  });

  it('a linear layer: the bias added in each chunk of rows (the fused epilogue where the kernel has one)', async () => {
    const x = rand([3, 50, 24]), w = rand([24, 32]), bias = rand([32]); // w fits a binding: rows in chunks
    await expectSameChunked(() => vq.linear(x, w, bias), 'x·W + b');
    for (const t of [x, w, bias]) t.dispose();
  });
});

describe('convolutions in chunks of images', () => {
  // 6 images: x 1 KiB and y 2 KiB each, so a 4 KiB binding holds one or two of them
  const cases: { label: string; w: number[]; opts: { stride?: number; padding?: number; fuse?: boolean }; up?: boolean; side?: number }[] = [
    { label: '3×3 same (the row-window kernels)', w: [8, 4, 3, 3], opts: { padding: 1 } },
    { label: '4×4 stride 2 (the general kernels: its 3×3 weight over the space-to-depth would not fit a binding)', w: [8, 4, 4, 4], opts: { stride: 2, padding: 1 } },
    // (x 2 KiB an image at 16×16, W3 1,152 bytes)
    { label: '4×4 stride 2 (through the space-to-depth where the subgroup kernels run)', w: [4, 2, 4, 4], opts: { stride: 2, padding: 1 }, side: 16 },
    { label: '1×1', w: [8, 4, 1, 1], opts: {} },
    { label: '3×3 on the upsampled input', w: [2, 2, 3, 3], opts: { padding: 1 }, up: true },
    { label: '3×3 on the upsampled input, fused', w: [2, 2, 3, 3], opts: { padding: 1, fuse: true }, up: true },
  ];
  for (const c of cases) {
    it(`${c.label}: forward, and the input, weight and bias gradients`, async () => {
      const x = rand([6, c.w[1], c.side ?? 8, c.side ?? 8], true), w = rand(c.w, true), b = rand([c.w[0]], true);
      const run = () => {
        const y = c.up ? vq.conv2dUpsample2x(x, w, b, c.opts) : vq.conv2d(x, w, b, c.opts);
        const loss = vq.sum(vq.mul(y, y));
        vq.backward(loss);
        const out = vq.concat([x.grad!, w.grad!, b.grad!, y].map((t) => vq.reshape(t, [-1])), 0);
        for (const t of [x, w, b]) {
          t.grad!.dispose();
          t.grad = null;
        }
        loss.dispose();
        y.dispose();
        return out;
      };
      const r = await bothWays(run);
      expect(r.dispatches[1]).toBeGreaterThan(r.dispatches[0]);
      // the per-image passes are the same arithmetic; the weight and bias sums add chunks' partials
      expect(firstMismatch(r.chunked, r.whole, 1e-4, 1e-4), c.label).toBe(-1);
      for (const t of [x, w, b]) t.dispose();
    });
  }
});

describe('norms in chunks of samples', () => {
  it('group norm with its fused SiLU and layer norm: forward and every gradient', async () => {
    const x = rand([6, 8, 6, 6], true), w = rand([8], true), b = rand([8], true);
    const h = rand([40, 48], true), lw = rand([48], true), lb = rand([48], true);
    const run = () => {
      const y = vq.groupNorm(x, 4, w, b, 1e-5, 'silu'), z = vq.layerNorm(h, lw, lb);
      const loss = vq.add(vq.sum(vq.mul(y, y)), vq.sum(vq.mul(z, z)));
      vq.backward(loss);
      const out = vq.concat([y, z, ...[x, w, b, h, lw, lb].map((t) => t.grad!)].map((t) => vq.reshape(t, [-1])), 0);
      for (const t of [x, w, b, h, lw, lb]) {
        t.grad!.dispose();
        t.grad = null;
      }
      for (const t of [loss, y, z]) t.dispose();
      return out;
    };
    const r = await bothWays(run);
    expect(r.dispatches[1]).toBeGreaterThan(r.dispatches[0]);
    expect(firstMismatch(r.chunked, r.whole, 1e-4, 1e-4)).toBe(-1);
    for (const t of [x, w, b, h, lw, lb]) t.dispose();
  });
});

describe('softmax in chunks of rows', () => {
  it('softmax along the last axis and log-softmax along another: forward and gradient', async () => {
    const x = rand([50, 40], true);
    const run = () => {
      const y = vq.softmax(x), z = vq.logSoftmax(x, 0);
      const loss = vq.add(vq.sum(vq.mul(y, y)), vq.sum(vq.mul(z, z)));
      vq.backward(loss);
      const out = vq.concat([y, z, x.grad!].map((t) => vq.reshape(t, [-1])), 0);
      x.grad!.dispose();
      x.grad = null;
      for (const t of [loss, y, z]) t.dispose();
      return out;
    };
    const r = await bothWays(run);
    expect(r.dispatches[1]).toBeGreaterThan(r.dispatches[0]);
    expect(firstMismatch(r.chunked, r.whole, 1e-5, 1e-5)).toBe(-1);
    x.dispose();
  });
});

describe('lookups and the cross-entropy in chunks of rows', () => {
  it('embedding (table bound whole), gatherLast and crossEntropy (each reduction): forward and gradient', async () => {
    // 600 indices of a [37, 5] table: the output rows (12 KB) and, in the gather and the
    // cross-entropy, 150 rows of 19 logits (11 KB) exceed the 4 KiB cap; targets include ignored rows.
    const table = rand([37, 5], true), logits = rand([150, 19], true);
    const idx = vq.tensor(Int32Array.from({ length: 600 }, () => rng.int(37)), [20, 30]);
    const tgt = vq.tensor(Int32Array.from({ length: 150 }, (_, i) => (i % 11 === 0 ? -100 : rng.int(19))), [150]);
    const w = rand([150]);
    const pick = vq.tensor(Int32Array.from({ length: 150 }, (_, i) => (i * 7) % 19), [150]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const run = () => {
        const e = vq.embedding(idx, table);
        const picked = vq.gatherLast(logits, pick);
        const xe = vq.crossEntropy(logits, tgt, { reduction, labelSmoothing: 0.1 });
        const loss = vq.add(vq.add(vq.sum(vq.mul(e, e)), vq.sum(picked)), reduction === 'none' ? vq.sum(vq.mul(xe, w)) : xe);
        vq.backward(loss);
        const out = vq.concat([e, picked, xe, table.grad!, logits.grad!].map((t) => vq.reshape(t, [-1])), 0);
        for (const t of [table, logits]) { t.grad!.dispose(); t.grad = null; }
        for (const t of [e, picked, xe, loss]) t.dispose();
        return out;
      };
      const r = await bothWays(run);
      expect(r.dispatches[1], reduction).toBeGreaterThan(r.dispatches[0]);
      // the table's gradient adds the chunks' partial tables: equal within rounding
      expect(firstMismatch(r.chunked, r.whole, 1e-5, 1e-5), reduction).toBe(-1);
    }
    for (const t of [table, logits, idx, tgt, w, pick]) t.dispose();
  });
});

describe('attention in chunks of heads', () => {
  it('the fused kernels, causal and bidirectional, cross-attention: forward and gradients, bit for bit', async () => {
    // [2, 3, T, 8]: a head of 40 queries is 1.4 KB, so the 4 KiB cap holds 2 heads of the 6
    for (const [tq, tk, causal] of [[40, 40, true], [40, 40, false], [24, 40, true]] as const) {
      const q = rand([2, 3, tq, 8], true), k = rand([2, 3, tk, 8], true), v = rand([2, 3, tk, 8], true);
      const run = () => {
        const o = vq.attention(q, k, v, { causal, scores: 'fused' });
        const loss = vq.sum(vq.mul(o, o));
        vq.backward(loss);
        const out = vq.concat([o, q.grad!, k.grad!, v.grad!].map((t) => vq.reshape(t, [-1])), 0);
        for (const t of [q, k, v]) { t.grad!.dispose(); t.grad = null; }
        for (const t of [o, loss]) t.dispose();
        return out;
      };
      const r = await bothWays(run);
      const label = `${tq}/${tk}${causal ? ' causal' : ''}`;
      expect(r.dispatches[1], label).toBeGreaterThan(r.dispatches[0]);
      expect(Array.from(r.chunked), label).toEqual(Array.from(r.whole));
      for (const t of [q, k, v]) t.dispose();
    }
  });

  it('one head over the cap: one sentence', () => {
    const q = rand([1, 1, 200, 8]);
    runtime().bindingCap = CAP;
    expect(() => vq.attention(q, q, q, { causal: true })).toThrow(/^attention: one head of 200 queries and 200 keys of dim 8 does not fit one storage binding of 4096 bytes/);
    runtime().bindingCap = null;
    q.dispose();
  });
});

describe('the optimizer over a lowered binding cap', () => {
  it('AdamW with clipping: the flat update and the gradient norm in pieces, bit for bit', async () => {
    const init = [rand([3000]), rand([2000]), rand([37])];
    const grads = init.map((p) => rand(p.shape as number[]));
    const run = async (cap: number | null) => {
      const params = init.map((p) => vq.clone(p));
      params.forEach((p, i) => ((p.requiresGrad = true), (p.grad = vq.clone(grads[i]))));
      const opt = new vq.AdamW(params, { lr: 0.01, clipNorm: 1 });
      const d0 = runtime().counters.dispatches;
      runtime().bindingCap = cap;
      try {
        opt.step();
        opt.step();
      } finally {
        runtime().bindingCap = null;
      }
      const d = runtime().counters.dispatches - d0;
      const out = (await Promise.all(params.map(async (p) => Array.from((await p.toArray()) as Float32Array)))).flat();
      params.forEach((p) => p.dispose());
      opt.dispose?.();
      return { out, d };
    };
    const whole = await run(null), chunked = await run(CAP);
    expect(chunked.d).toBeGreaterThan(whole.d);
    // the clip factor's sum of squares adds its pieces in another order: within rounding
    expect(firstMismatch(chunked.out, whole.out, 1e-6, 1e-5)).toBe(-1);
    [...init, ...grads].forEach((t) => t.dispose());
  });
});

describe('a tokenizer under a lowered binding cap', () => {
  it('its loss and every gradient with each activation split into chunks equal those in one piece', async () => {
    // 16×16 images, width 8: the widest activation is 16 KiB an image, 128 KiB for the batch of 8,
    // against a 40 KiB cap.
    const cfg = defaultTokenizerConfig({ size: 16, grid: 4, codebook: 16, width: 8, codeDim: 4 });
    const x = vq.tensor(Float32Array.from({ length: 8 * 3 * 16 * 16 }, () => 2 * rng.uniform() - 1), [8, 3, 16, 16]);
    manualSeed(11);
    const model = new VQVAE(cfg);
    model.train();
    const params = model.parameters();
    const lossAndGrads = () => {
      const out = model.forward(x);
      const loss = vq.add(vq.mean(vq.square(vq.sub(x, out.recon))), out.loss);
      vq.backward(loss);
      const flat = vq.concat([loss, ...params.map((p) => p.grad!)].map((t) => vq.reshape(t, [-1])), 0);
      for (const p of params) {
        p.grad!.dispose();
        p.grad = null;
      }
      return flat;
    };
    const r = await bothWays(() => vq.tidy(lossAndGrads), 40 * 1024);
    expect(r.dispatches[1]).toBeGreaterThan(r.dispatches[0]);
    expect(firstMismatch(r.chunked, r.whole, 1e-6, 1e-4)).toBe(-1);
    // and a training step runs under the cap (the optimizer's chunked paths are checked above)
    const trainer = new TokenizerTrainer(model, null, { ...DEFAULT_LOSS, perceptual: 0, adversarial: 0, lr: 1e-3 });
    runtime().bindingCap = 40 * 1024;
    try {
      trainer.train(x, false);
    } finally {
      runtime().bindingCap = null;
    }
    const after = (await params[0].toArray()) as Float32Array;
    expect(after.every(Number.isFinite)).toBe(true);
    model.dispose();
    x.dispose();
  });
});

describe('nearest-code search in chunks of vectors', () => {
  it('indices and distances equal the search in one piece, both schedules', async () => {
    const z = rand([30, 20, 8]), E = rand([24, 8]);
    for (const schedule of ['registers', 'tiled'] as const) {
      await expectSameChunked(() => vq.nearestCode(z, E, { schedule }).dist, `distances (${schedule})`);
      const r = await bothWays(() => vq.cast(vq.nearestCode(z, E, { schedule }).index, 'f32'));
      expect(Array.from(r.chunked), `indices (${schedule})`).toEqual(Array.from(r.whole));
    }
    z.dispose();
    E.dispose();
  });
});
