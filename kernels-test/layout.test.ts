// Layout ops (ops/layout.ts; copies through unary.wgsl's OP 0) against reference-layout.ts:
// views (reshape, permute, transpose, slice, expand, unsqueeze, squeeze), copies (contiguous,
// clone, concat, pad), integer data through copies, gradients through views, and clear errors.

import { beforeAll, describe, expect, it } from 'vitest';
import * as vq from '../src/index.js';
import { expectAll, expectTensor, layouts, randomHost, upload, type Check } from './expect-tensor.js';
import { gradcheck } from './gradcheck.js';
import { Rng } from './reference.js';
import { broadcastTo, concat, host, pad, permute, slice } from './reference-layout.js';
import { coalesceDims } from '../src/ops/broadcast.js';
import { copyInto } from '../src/ops/layout.js';

beforeAll(async () => {
  await vq.init();
});

const rng = new Rng(5);
const input = (shape: number[]) => ({ data: Float32Array.from(randomHost(rng, shape).data), shape });

describe('views and copies', () => {
  it('reshape (with -1), permute, transpose, unsqueeze, squeeze of dense and strided tensors', async () => {
    const h = randomHost(rng, [3, 4, 5]);
    for (const l of layouts(h)) {
      const x = l.tensor, r = l.ref;
      const flat = { data: r.data, shape: [60] };
      const cases: [string, vq.Tensor, typeof r][] = [
        ['reshape [5, -1, 2]', vq.reshape(x, [5, -1, 2]), { data: r.data, shape: [5, 6, 2] }],
        ['reshape [-1]', vq.reshape(x, [-1]), flat],
        ['permute [2, 0, 1]', vq.permute(x, [2, 0, 1]), permute(r, [2, 0, 1])],
        ['permute [-1, 1, 0]', vq.permute(x, [-1, 1, 0]), permute(r, [2, 1, 0])],
        ['transpose', vq.transpose(x), permute(r, [0, 2, 1])],
        ['transpose(0, 2)', vq.transpose(x, 0, 2), permute(r, [2, 1, 0])],
        ['unsqueeze 1', vq.unsqueeze(x, 1), { data: r.data, shape: [3, 1, 4, 5] }],
        ['unsqueeze -1', vq.unsqueeze(x, -1), { data: r.data, shape: [3, 4, 5, 1] }],
        ['squeeze(unsqueeze 0)', vq.squeeze(vq.unsqueeze(x, 0), 0), r],
        ['reshape of a permuted view', vq.reshape(vq.permute(x, [1, 0, 2]), [4, 15]), { data: permute(r, [1, 0, 2]).data, shape: [4, 15] }],
        ['contiguous', vq.contiguous(x), r],
        ['clone', vq.clone(x), r],
      ];
      await expectAll(cases.map(([name, t, ref]) => ({ t, ref, label: `${name} of ${l.name} [3, 4, 5]` })));
      // clone never aliases; contiguous of a dense tensor is a view.
      const c = vq.clone(x);
      expect(c.storage).not.toBe(x.storage);
      if (l.name === 'dense') expect(vq.contiguous(x).storage).toBe(x.storage);
      c.dispose();
    }
    // scalars
    const s = vq.tensor([2.5], []);
    await expectTensor(vq.reshape(s, [1, 1]), host([2.5], [1, 1]), 'reshape [] → [1, 1]');
    await expectTensor(vq.reshape(vq.tensor([4], [1]), []), host([4], []), 'reshape [1] → []');
    await expectTensor(vq.unsqueeze(s, 0), host([2.5], [1]), 'unsqueeze of a scalar');
    await expectTensor(vq.expand(s, [2, 3]), host([2.5, 2.5, 2.5, 2.5, 2.5, 2.5], [2, 3]), 'expand of a scalar');
  });

  it('unbind gives the slices along an axis, without it', async () => {
    const h = randomHost(rng, [2, 3, 4]);
    const x = upload(h);
    const parts = vq.unbind(vq.permute(x, [2, 0, 1]), 0);
    expect(parts.length).toBe(4);
    for (let i = 0; i < 4; i++) {
      expect(parts[i].shape).toEqual([2, 3]);
      const want = vq.reshape(vq.contiguous(vq.slice(vq.permute(x, [2, 0, 1]), 0, i, i + 1)), [2, 3]);
      expect(Array.from(await parts[i].toArray())).toEqual(Array.from(await want.toArray()));
    }
  });

  it('slice (negative indices, every axis, views of views) and expand', async () => {
    const h = randomHost(rng, [5, 6, 7]);
    const x = upload(h);
    const cases: [string, vq.Tensor, typeof h][] = [
      ['slice(0, 1, 4)', vq.slice(x, 0, 1, 4), slice(h, 0, 1, 4)],
      ['slice(1, -4, -1)', vq.slice(x, 1, -4, -1), slice(h, 1, 2, 5)],
      ['slice(-1, 3, 100)', vq.slice(x, -1, 3, 100), slice(h, 2, 3, 7)],
      ['slice(2, 4, 4) (empty)', vq.slice(x, 2, 4, 4), slice(h, 2, 4, 4)],
      ['slice of a slice', vq.slice(vq.slice(x, 0, 1, 5), 2, 2, 6), slice(slice(h, 0, 1, 5), 2, 2, 6)],
      ['slice of a transpose', vq.slice(vq.transpose(x), 1, 2, 5), slice(permute(h, [0, 2, 1]), 1, 2, 5)],
    ];
    await expectAll(cases.map(([label, t, ref]) => ({ t, ref, label })));
    const col = randomHost(rng, [5, 1, 7]);
    const c = upload(col);
    await expectTensor(vq.expand(c, [5, 6, 7]), broadcastTo(col, [5, 6, 7]), 'expand [5, 1, 7] → [5, 6, 7]');
    await expectTensor(vq.expand(c, [2, 5, 3, 7]), broadcastTo(col, [2, 5, 3, 7]), 'expand with a new leading axis');
    await expectTensor(vq.contiguous(vq.slice(vq.expand(c, [5, 6, 7]), 1, 1, 3)), broadcastTo(slice(col, 0, 0, 5), [5, 2, 7]), 'slice of an expand');
  });

  it('concat along each axis, of dense and strided parts; pad', async () => {
    const a = randomHost(rng, [2, 3, 4]), b = randomHost(rng, [2, 3, 4]);
    for (let axis = 0; axis < 3; axis++) {
      const sb = [2, 3, 4];
      sb[axis] = 1 + axis; // a different size along the concat axis
      const c = randomHost(rng, sb);
      const checks: Check[] = [];
      for (const la of layouts(a)) {
        const tb = upload(b), tc = upload(c);
        checks.push({ t: vq.concat([la.tensor, tc, tb], axis), ref: concat([la.ref, c, b], axis), label: `concat on axis ${axis} with ${la.name} first` });
        checks.push({ t: vq.concat([tc, la.tensor], axis - 3), ref: concat([c, la.ref], axis), label: `concat on axis ${axis - 3}` });
        for (const t of [tb, tc, la.tensor]) t.dispose();
      }
      await expectAll(checks);
    }
    const checks: Check[] = [];
    for (const l of layouts(randomHost(rng, [3, 5]))) {
      checks.push({ t: vq.pad(l.tensor, [[1, 2], [0, 3]], -1.5), ref: pad(l.ref, [[1, 2], [0, 3]], -1.5), label: `pad of ${l.name}` });
      checks.push({ t: vq.pad(l.tensor, [[2, 0]]), ref: pad(l.ref, [[2, 0]], 0), label: `pad of the first axis only of ${l.name}` });
      l.tensor.dispose();
    }
    await expectAll(checks);
  });

  // Dense views at offsets (a gradient copied into its slice of a larger one: unbind's backward) take
  // the flat entries: vec4 where size and offsets are multiples of 4, scalar otherwise.
  it('copies between dense views at offsets (vec4 and scalar offsets, into and out of slices)', async () => {
    for (const [n, srcOff, dstOff] of [[64, 0, 128], [64, 8, 4], [63, 0, 16], [64, 3, 5], [64, 4, 1]]) {
      const src = vq.tensor(Float32Array.from({ length: n + srcOff }, (_, i) => i + 0.5), [n + srcOff]);
      const dst = vq.zeros([n + dstOff + 3]);
      const sv = src.view([n], [1], srcOff), dv = dst.view([n], [1], dstOff);
      copyInto(sv, dv);
      const want = new Float32Array(n + dstOff + 3);
      for (let i = 0; i < n; i++) want[dstOff + i] = srcOff + i + 0.5;
      expect(Array.from(await dst.toArray()), `n ${n}, offsets ${srcOff} → ${dstOff}`).toEqual(Array.from(want));
    }
  });

  it('copies i32 data bit-exactly (negative and small values are f32 NaN/denormal patterns)', async () => {
    const vals = [-1, 1, 0, 2, -2147483648, 2147483647, 7, -100, 12345678, 3, 5, -3];
    const x = vq.tensor(Int32Array.from(vals), [3, 4]);
    const t = vq.transpose(x);
    const want = [0, 1, 2, 3].flatMap((j) => [0, 1, 2].map((i) => vals[i * 4 + j]));
    expect(Array.from(await vq.contiguous(t).toArray())).toEqual(want);
    expect(Array.from(await t.toArray())).toEqual(want);
    expect(Array.from(await vq.concat([x, x], 0).toArray())).toEqual([...vals, ...vals]);
    expect(Array.from(await vq.pad(vq.slice(x, 1, 1, 2), [[0, 0], [1, 0]], -9).toArray())).toEqual([-9, 1, -9, 2147483647, -9, 3]);
  });
});

describe('layout gradients', () => {
  it('flow through views and copies (finite differences)', async () => {
    const x345 = input([3, 4, 5]);
    const opts = { maxChecks: 8 };
    // A nonlinearity after the view makes the gradient depend on where each element went.
    await gradcheck((x) => vq.square(vq.reshape(x, [5, -1])), [x345], opts);
    await gradcheck((x) => vq.square(vq.permute(x, [2, 0, 1])), [x345], opts);
    await gradcheck((x) => vq.square(vq.contiguous(vq.transpose(x, 0, 2))), [x345], opts);
    await gradcheck((x) => vq.square(vq.slice(vq.slice(x, 2, -3, 5), 0, 1, 3)), [x345], opts);
    await gradcheck((x) => vq.square(vq.expand(x, [2, 3, 4, 5])), [input([3, 1, 5])], opts);
    await gradcheck((x) => vq.square(vq.squeeze(vq.unsqueeze(x, 1), 1)), [input([4, 3])], opts);
    await gradcheck((x) => vq.square(vq.clone(vq.transpose(x))), [input([4, 3])], opts);
    await gradcheck((a, b) => vq.square(vq.concat([a, vq.transpose(b), a], 1)), [input([3, 2]), input([4, 3])], opts);
    await gradcheck((x) => vq.square(vq.pad(x, [[1, 0], [2, 2]], 0.5)), [input([3, 4])], opts);
    // unbind: every part used (the gradient assembled window by window in one buffer), and a part
    // left unused (its window zero-filled), along a middle axis of a permuted view
    await gradcheck((x) => { const [a, b, c] = vq.unbind(vq.permute(x, [1, 0, 2]), 1); return vq.mul(vq.square(a), vq.add(b, c)); }, [input([3, 3, 5])], opts);
    await gradcheck((x) => { const p = vq.unbind(x, 0); return vq.add(vq.square(p[0]), vq.mulScalar(p[2], 3)); }, [input([3, 4, 2])], opts);
    // pad whose incoming gradient is a strided view (from the transpose after it)
    await gradcheck((x) => vq.square(vq.transpose(vq.pad(x, [[1, 2], [0, 1]]))), [input([3, 4])], opts);
  });
});

describe('layout errors', () => {
  it('are clear and name the shapes', () => {
    const x = vq.zeros([2, 3, 4]);
    expect(() => vq.reshape(x, [5, -1])).toThrow(/reshape: cannot view \[2, 3, 4\] \(24 elements\) as \[5, -1\]/);
    expect(() => vq.reshape(x, [-1, -1])).toThrow(/reshape: cannot view/);
    expect(() => vq.reshape(x, [2, 13])).toThrow(/as \[2, 13\]/);
    expect(() => vq.permute(x, [0, 1])).toThrow(/permute: \[0, 1\] is not a permutation of the 3 axes of \[2, 3, 4\]/);
    expect(() => vq.permute(x, [0, 1, 1])).toThrow(/not a permutation/);
    expect(() => vq.permute(x, [0, 1, 3])).toThrow(/not a permutation/);
    expect(() => vq.transpose(x, 0, 3)).toThrow(/transpose: axis 3 is out of range for \[2, 3, 4\]/);
    expect(() => vq.slice(x, 3, 0, 1)).toThrow(/slice: axis 3 is out of range/);
    expect(() => vq.slice(x, 1, 2, 1)).toThrow(/slice: \[2, 1\) is not a valid range of axis 1 \(size 3\) of \[2, 3, 4\]/);
    expect(() => vq.slice(x, 1, -5, 2)).toThrow(/not a valid range/);
    expect(() => vq.slice(vq.tensor([1], []), 0, 0, 1)).toThrow(/slice: axis 0 is out of range for \[\]/);
    expect(() => vq.expand(x, [2, 5, 4])).toThrow(/\[2, 3, 4\] and \[2, 5, 4\] cannot be broadcast/);
    expect(() => vq.expand(x, [3, 4])).toThrow(/expand: \[2, 3, 4\] cannot be expanded to \[3, 4\]/);
    expect(() => vq.squeeze(x, 1)).toThrow(/squeeze: axis 1 of \[2, 3, 4\] has size 3, not 1/);
    expect(() => vq.unsqueeze(x, 4)).toThrow(/unsqueeze: axis 4 is out of range for \[2, 3, 4\]/);
    expect(() => vq.concat([x, vq.zeros([2, 4, 4])], 2)).toThrow(/concat: shapes \[2, 3, 4\], \[2, 4, 4\] differ outside axis 2/);
    expect(() => vq.concat([x, vq.zeros([2, 3, 4], 'i32')], 0)).toThrow(/concat: dtypes f32, i32 differ/);
    expect(() => vq.concat([], 0)).toThrow(/no tensors/);
    expect(() => vq.pad(x, [[1, -1]])).toThrow(/pad: .* for the axes of \[2, 3, 4\]/);
    expect(() => vq.pad(x, [[0, 0], [0, 0], [0, 0], [1, 1]])).toThrow(/pad:/);
    const d = vq.zeros([2, 2]);
    d.dispose();
    for (const f of [() => vq.reshape(d, [4]), () => vq.transpose(d), () => vq.slice(d, 0, 0, 1), () => vq.expand(d, [3, 2, 2]),
      () => vq.concat([x, d], 0), () => vq.pad(d, [[1, 1]]), () => vq.contiguous(d), () => vq.clone(d)]) {
      expect(f).toThrow(/\[2, 2\] was used after dispose/);
    }
  });
});


describe('coalesceDims (the strided kernels walk the fewest dimensions)', () => {
  it('merges what steps over its neighbour in every stride list, drops size-1 dims', () => {
    // a scalar broadcast to [8, 3, 32, 32], written densely: one dimension
    expect(coalesceDims([8, 3, 32, 32], [0, 0, 0, 0], [3072, 1024, 32, 1])).toEqual({ shape: [24576], strides: [[0], [1]] });
    // a transpose of the last two axes: only the leading two merge
    expect(coalesceDims([2, 3, 4, 5], [60, 20, 1, 4], [60, 20, 5, 1])).toEqual({ shape: [6, 4, 5], strides: [[20, 1, 4], [20, 5, 1]] });
    // size-1 dims between mergeable ones do not block the merge
    expect(coalesceDims([4, 1, 5], [5, 99, 1], [5, 5, 1])).toEqual({ shape: [20], strides: [[1], [1]] });
    // rank 0 and all-ones shapes: one dimension of one element
    expect(coalesceDims([], [], [])).toEqual({ shape: [1], strides: [[0], [0]] });
    expect(coalesceDims([1, 1], [7, 3], [1, 1])).toEqual({ shape: [1], strides: [[0], [0]] });
  });
});
