// Shape and layout ops. reshape/permute/transpose/slice/expand/squeeze return views when they can
// (no copy); contiguous(), concat and pad copy through the strided copy kernel (unary.wgsl, OP 0).

import unarySrc from '../../shaders/unary.wgsl';
import { isGradEnabled, record } from '../autograd/tape.js';
import { contiguousStrides, empty, sizeOf, type Shape, type Tensor } from '../tensor/tensor.js';
import { axisIndex, broadcastAxes, broadcastShapes, broadcastStrides, checkRank, coalesceDims } from './broadcast.js';
import { full, zeros } from './creation.js';
import { fmt, grid1d, kernel, launch, Params, sameShape, vec4Fits, walkByRows, withGelu, withStridedWalk } from './launch.js';
import { forElementChunks } from './binding-window.js';
import { sumAxes } from './reduce.js';

const UNARY = kernel('unary', withGelu(withStridedWalk(unarySrc)));
/** unary.wgsl's vec4 entry: dense, a multiple of 4 elements (vec4Fits). */
const UNARY_VEC4 = kernel('unary', withGelu(withStridedWalk(unarySrc)), 'main_vec4');
/** unary.wgsl's row walk (walkByRows): one invocation per innermost row. */
const UNARY_ROWS = kernel('unary', withGelu(withStridedWalk(unarySrc)), 'main_rows');
const WG = 64;

/**
 * dst = f_op(src) elementwise by unary.wgsl (OP codes there; 0 copies bits), src and dst views of
 * the same non-empty shape with any strides: the vec4 entry when both are dense and the size and
 * offsets are multiples of 4, else the strided walk over their coalesced dimensions. No autograd.
 */
export function launchUnary(op: number, src: Tensor, dst: Tensor, alpha = 0, beta = 0): void {
  forElementChunks('unary', [src, dst], ([s, d]) => launchUnaryPart(op, s, d, alpha, beta));
}

function launchUnaryPart(op: number, src: Tensor, dst: Tensor, alpha: number, beta: number): void {
  // Dense on both sides, at any offsets (a gradient copied into its slice of a larger one: unbind's
  // backward): the flat entries, not the strided walk.
  const contig = src.isDense && dst.isDense;
  const vec4 = contig && vec4Fits(src.size) && src.offset % 4 === 0 && dst.offset % 4 === 0;
  const c = coalesceDims(src.shape, src.strides, dst.strides);
  const rows = !contig && walkByRows(c.shape);
  const n = vec4 ? src.size / 4 : rows ? src.size / c.shape[c.shape.length - 1] : src.size;
  const p = new Params()
    .u32(n, c.shape.length, src.offset, dst.offset)
    .f32(alpha, beta)
    .u32(0, 0)
    .u32x4(2, c.shape, 1)
    .u32x4(2, c.strides[0])
    .u32x4(2, c.strides[1]);
  if (vec4) launch(UNARY_VEC4, p, [src, dst], grid1d(n, WG), { OP: op, WG });
  else if (rows) launch(UNARY_ROWS, p, [src, dst], grid1d(n, WG), { OP: op, WG });
  else launch(UNARY, p, [src, dst], grid1d(n, WG), { OP: op, CONTIG: contig ? 1 : 0, WG });
}

/** Copies `src` (any strides) into the view `dst` of the same shape (any strides). No autograd. */
export function copyInto(src: Tensor, dst: Tensor): void {
  if (!sameShape(src.shape, dst.shape)) throw new Error(`copyInto: shapes ${fmt(src.shape)} and ${fmt(dst.shape)} differ.`);
  checkRank(src.shape, 'copy');
  if (src.size === 0) return;
  launchUnary(0, src, dst);
}

/** A dense copy (offset 0, row-major). Returns a view of `t` when it already is dense. */
export function contiguous(t: Tensor): Tensor {
  let out: Tensor;
  if (t.isContiguous) out = t.view(t.shape, contiguousStrides(t.shape), 0);
  else {
    out = empty(t.shape, t.dtype);
    copyInto(t, out);
  }
  return record(out, 'contiguous', [t], (g) => [g]);
}

/** A dense copy that never aliases `t`. */
export function clone(t: Tensor): Tensor {
  const out = empty(t.shape, t.dtype);
  copyInto(t, out);
  return record(out, 'clone', [t], (g) => [g]);
}

export function reshape(t: Tensor, shape: Shape): Tensor {
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    const known = s.reduce((a, d, i) => (i === infer ? a : a * d), 1);
    s[infer] = known ? t.size / known : 0;
  }
  if (s.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(s) !== t.size) {
    throw new Error(`reshape: cannot view ${fmt(t.shape)} (${t.size} elements) as ${fmt(shape)}.`);
  }
  const base = contiguous(t);
  const out = base.view(s, contiguousStrides(s), 0);
  base.dispose();
  return record(out, 'reshape', [t], (g) => [reshape(g, t.shape)]);
}

export function permute(t: Tensor, axes: readonly number[]): Tensor {
  const ax = axes.map((a) => (a < 0 ? a + t.rank : a));
  if (ax.length !== t.rank || ax.some((a) => !Number.isInteger(a) || a < 0 || a >= t.rank) || new Set(ax).size !== t.rank) {
    throw new Error(`permute: [${axes.join(', ')}] is not a permutation of the ${t.rank} axes of ${fmt(t.shape)}.`);
  }
  const out = t.view(ax.map((a) => t.shape[a]), ax.map((a) => t.strides[a]), t.offset);
  const inv = new Array<number>(ax.length);
  ax.forEach((a, i) => (inv[a] = i));
  return record(out, 'permute', [t], (g) => [permute(g, inv)]);
}

/** Swaps two axes (default: the last two). */
export function transpose(t: Tensor, a = -2, b = -1): Tensor {
  const axes = [...Array(t.rank).keys()];
  const i = axisIndex(a, t.rank, 'transpose', t.shape), j = axisIndex(b, t.rank, 'transpose', t.shape);
  [axes[i], axes[j]] = [axes[j], axes[i]];
  return permute(t, axes);
}

/** Takes [start, end) along `axis` as a view. */
export function slice(t: Tensor, axis: number, start: number, end: number): Tensor {
  const a = axisIndex(axis, t.rank, 'slice', t.shape);
  const n = t.shape[a];
  const s = start < 0 ? start + n : start, e = end < 0 ? end + n : Math.min(end, n);
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e < s) {
    throw new Error(`slice: [${start}, ${end}) is not a valid range of axis ${axis} (size ${n}) of ${fmt(t.shape)}.`);
  }
  const shape = [...t.shape];
  shape[a] = e - s;
  const out = t.view(shape, t.strides, t.offset + s * t.strides[a]);
  return record(out, 'slice', [t], (g) => {
    const full = zeros(t.shape);
    const window = full.view(g.shape, full.strides, s * full.strides[a]);
    copyInto(g, window);
    window.dispose();
    return [full];
  });
}

/**
 * The n slices of t along `axis`, each without that axis (PyTorch's unbind): views of t. Their
 * gradients are written into one buffer of t's shape, window by window, where n slices taken by
 * `slice` would each zero-fill a tensor of t's shape and the tape would add the n of them (the
 * transformer's q, k, v: 3 fills and 2 adds of 3·B·T·D floats per block and step). Windows that got
 * no gradient are zero-filled at the end.
 */
export function unbind(t: Tensor, axis: number): Tensor[] {
  const a = axisIndex(axis, t.rank, 'unbind', t.shape);
  const shape = t.shape.filter((_, i) => i !== a);
  const strides = t.strides.filter((_, i) => i !== a);
  const n = t.shape[a];
  // (t's gradient, shared by the parts' backward passes, and which windows they wrote)
  let buf: Tensor | null = null;
  const written = new Set<number>();
  const windowOf = (g: Tensor, i: number) => g.view(shape, strides.map((_, k) => g.strides[k < a ? k : k + 1]), g.offset + i * g.strides[a]);
  // Without a gradient to record the parts are plain views of t; with one, views of an identity
  // node whose backward fills the windows no part wrote.
  const whole = !isGradEnabled() || !t.requiresGrad ? t : record(t.view(t.shape, t.strides, t.offset), 'unbind', [t], (g) => {
    for (let i = 0; i < n; i++) {
      if (written.has(i)) continue;
      const z = zeros(shape), w = windowOf(g, i);
      copyInto(z, w);
      z.dispose();
      w.dispose();
    }
    buf = null;
    written.clear();
    return [g];
  });
  return Array.from({ length: n }, (_, i) =>
    record(whole.view(shape, strides, t.offset + i * t.strides[a]), 'unbind_part', [whole], (g) => {
      const first = buf === null;
      buf ??= empty(t.shape);
      const w = windowOf(buf, i);
      copyInto(g, w);
      w.dispose();
      written.add(i);
      return [first ? buf : null];
    }),
  );
}

/** Broadcasts to `shape` as a view (stride 0 on stretched dims). */
export function expand(t: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes(t.shape, shape);
  if (!sameShape(target, shape)) throw new Error(`expand: ${fmt(t.shape)} cannot be expanded to ${fmt(shape)}.`);
  const out = t.view(shape, broadcastStrides(t, shape), t.offset);
  return record(out, 'expand', [t], (g) => [sumTo(g, t.shape)]);
}

/** Sums a broadcast gradient back to `shape`. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const axes = broadcastAxes(shape, g.shape);
  const summed = sumAxes(g, axes, false);
  const out = reshape(summed, shape);
  summed.dispose();
  return out;
}

/** Inserts a dimension of size 1 before `axis` (in -rank-1..rank). */
export function unsqueeze(t: Tensor, axis: number): Tensor {
  const a = axisIndex(axis, t.rank + 1, 'unsqueeze', t.shape);
  const shape = [...t.shape];
  shape.splice(a, 0, 1);
  return reshape(t, shape);
}

export function squeeze(t: Tensor, axis: number): Tensor {
  const a = axisIndex(axis, t.rank, 'squeeze', t.shape);
  if (t.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${fmt(t.shape)} has size ${t.shape[a]}, not 1.`);
  return reshape(t, t.shape.filter((_, i) => i !== a));
}

export function concat(ts: Tensor[], axis: number): Tensor {
  if (!ts.length) throw new Error('concat: no tensors given.');
  const a = axisIndex(axis, ts[0].rank, 'concat', ts[0].shape);
  for (const t of ts) {
    t.assertAlive();
    if (t.rank !== ts[0].rank || t.shape.some((d, i) => i !== a && d !== ts[0].shape[i])) {
      throw new Error(`concat: shapes ${ts.map((x) => fmt(x.shape)).join(', ')} differ outside axis ${axis}.`);
    }
    if (t.dtype !== ts[0].dtype) throw new Error(`concat: dtypes ${ts.map((x) => x.dtype).join(', ')} differ.`);
  }
  const shape = [...ts[0].shape];
  shape[a] = ts.reduce((s, t) => s + t.shape[a], 0);
  const out = empty(shape, ts[0].dtype);
  const offsets: number[] = [];
  let at = 0;
  for (const t of ts) {
    offsets.push(at);
    const window = out.view(t.shape, out.strides, at * out.strides[a]);
    copyInto(t, window);
    window.dispose();
    at += t.shape[a];
  }
  return record(out, 'concat', ts, (g) =>
    ts.map((t, i) => {
      if (!t.requiresGrad) return null;
      const part = slice(g, a, offsets[i], offsets[i] + t.shape[a]);
      const dense = contiguous(part);
      part.dispose();
      return dense;
    }),
  );
}

/** Pads with `value` (default 0): `pads[i] = [before, after]` for each axis (missing axes: none). */
export function pad(t: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  t.assertAlive();
  if (pads.length > t.rank || pads.some(([b, e]) => b < 0 || e < 0 || !Number.isInteger(b) || !Number.isInteger(e))) {
    throw new Error(`pad: ${JSON.stringify(pads)} is not a list of non-negative [before, after] pairs for the axes of ${fmt(t.shape)}.`);
  }
  const before = t.shape.map((_, i) => pads[i]?.[0] ?? 0);
  const shape = t.shape.map((d, i) => d + before[i] + (pads[i]?.[1] ?? 0));
  const out = full(shape, value, t.dtype);
  const offset = before.reduce((o, b, i) => o + b * out.strides[i], 0);
  const window = out.view(t.shape, out.strides, offset);
  copyInto(t, window);
  window.dispose();
  return record(out, 'pad', [t], (g) => {
    // g may be any view of the padded shape: locate the interior through g's own strides.
    const inner = g.view(t.shape, g.strides, before.reduce((o, b, i) => o + b * g.strides[i], g.offset));
    const c = empty(t.shape);
    copyInto(inner, c);
    inner.dispose();
    return [c];
  });
}
