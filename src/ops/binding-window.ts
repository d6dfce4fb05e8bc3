// Operands larger than one storage binding: a kernel binds each tensor as the byte range its view
// spans (launch.ts), so an op whose operands exceed the device's maxStorageBufferBindingSize (or the
// runtime's lowered `bindingCap`, which tests set to a few KiB) runs in chunks along an axis whose
// slices are independent (the batch of a convolution, the rows of a matrix product, the elements
// of an elementwise op): each chunk binds windows over the parts of the operands it reads and
// writes, and the op's own launch code runs unchanged on those views.
//
// A window starts at the device's minStorageBufferOffsetAlignment (256 bytes), so a view inside it
// keeps an element offset of less than 64 plus its own; chunk lengths are rounded so that dense
// chunks start aligned where they can (their offsets stay 0: the vec4 paths still apply).

import { runtime } from '../device/runtime.js';
import { contiguousStrides, empty, Tensor } from '../tensor/tensor.js';
import { bindingOf, fmt } from './launch.js';
import { copyInto } from './layout.js';
import { add } from './elementwise.js';
import { noGrad } from '../autograd/tape.js';

/** [lo, hi): the elements of its buffer that a view reaches (relative to its storage). */
export function elementSpan(t: Tensor): [number, number] {
  if (t.size === 0) return [t.offset, t.offset];
  let lo = t.offset, hi = t.offset;
  for (let i = 0; i < t.rank; i++) {
    const reach = t.strides[i] * (t.shape[i] - 1);
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  return [lo, hi + 1];
}

/** Whether every tensor binds within the device's limit as launch.ts binds it (then an op runs in one piece). */
export function allFit(tensors: Tensor[]): boolean {
  const max = runtime().maxBindingBytes;
  return tensors.every((t) => bindingOf(t.storage).size <= max);
}

/** Elements per binding-offset step (64 for the usual 256 bytes). */
function alignElements(): number {
  return runtime().device.limits.minStorageBufferOffsetAlignment / 4;
}

/**
 * The view `t` with its storage narrowed to the bytes the view spans, from an aligned start: a
 * new tensor (dispose it) whose offset is relative to the window. No copy.
 */
export function windowed(t: Tensor): Tensor {
  const [lo, hi] = elementSpan(t);
  const align = alignElements();
  const base = Math.floor(lo / align) * align;
  const bytes = Math.max(4, (hi - base) * 4);
  const storage = t.storage.window(base * 4, Math.min(bytes, t.storage.bytes - base * 4));
  return new Tensor(storage, [...t.shape], t.dtype, [...t.strides], t.offset - base);
}

/** Rows [r0, r1) of `t` along `axis`, as a windowed view. */
export function rowsWindow(t: Tensor, axis: number, r0: number, r1: number): Tensor {
  const v = rowsView(t, axis, r0, r1);
  const w = windowed(v);
  v.dispose();
  return w;
}

/** An operand of a chunked op: split along `axis` (the op's chunked axis), or bound whole (axis null). */
export interface ChunkPart {
  t: Tensor;
  axis: number | null;
}

/**
 * Runs `body(views, r0, r1)` once on the tensors themselves where they all fit a binding; else on
 * chunks of the `rows` of the chunked axis, each with windows over the split operands and the whole
 * ones as they are. `body` must compute rows [r0, r1) from its views alone (the chunks are
 * independent). Throws one sentence when even one row, or an operand bound whole, is too large.
 */
export function forRowChunks(op: string, rows: number, parts: ChunkPart[], body: (views: Tensor[], r0: number, r1: number) => void): void {
  const tensors = parts.map((p) => p.t);
  if (rows === 0 || allFit(tensors)) {
    body(tensors, 0, rows);
    return;
  }
  const max = runtime().maxBindingBytes, align = alignElements();
  let perChunk = rows;
  let rowQuantum = 1;
  for (const p of parts) {
    if (p.axis === null) {
      if (!spanFits(p.t)) throw tooLarge(op, p.t, max, 'it is bound whole');
      continue;
    }
    const fit = rowsPerBinding(p.t, p.axis);
    if (fit.rows === 0) throw tooLarge(op, p.t, max, `one slice along axis ${p.axis} alone spans ${4 * fit.reach} bytes`);
    perChunk = Math.min(perChunk, fit.rows);
    // Dense chunks that start on a binding boundary keep offset 0 (the vec4 kernels' condition).
    const stride = Math.abs(p.t.strides[p.axis]);
    if (stride > 0) rowQuantum = Math.max(rowQuantum, align / gcd(stride % align || align, align));
  }
  if (perChunk >= rowQuantum) perChunk -= perChunk % rowQuantum;
  perChunk = Math.max(1, perChunk);
  for (let r0 = 0; r0 < rows; r0 += perChunk) {
    const r1 = Math.min(rows, r0 + perChunk);
    const views = parts.map((p) => (p.axis === null ? windowed(p.t) : rowsWindow(p.t, p.axis, r0, r1)));
    try {
      body(views, r0, r1);
    } finally {
      views.forEach((v) => v.dispose());
    }
  }
}

/**
 * How many consecutive slices of `t` along `axis` one binding holds (Infinity along a broadcast
 * axis; 0 where one slice alone does not fit): k slices span k·stride elements plus one slice's
 * reach, and up to align - 1 elements before them (the window's aligned start).
 */
function rowsPerBinding(t: Tensor, axis: number): { rows: number; reach: number } {
  const one = rowsView(t, axis, 0, 1);
  const [lo, hi] = elementSpan(one);
  one.dispose();
  const stride = Math.abs(t.strides[axis]);
  const room = Math.floor(runtime().maxBindingBytes / 4) - (alignElements() - 1) - (hi - lo);
  const rows = room < 0 ? 0 : stride === 0 ? Infinity : 1 + Math.floor(room / stride);
  return { rows, reach: hi - lo };
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function tooLarge(op: string, t: Tensor, max: number, why: string): Error {
  return new Error(`${op}: the operand ${fmt(t.shape)} cannot be split to fit one storage binding of ${max} bytes (${why}); use a smaller batch or image size.`);
}

/**
 * Elementwise ops: `body` on operands of one shape (the output last; broadcast operands given as
 * views of that shape with stride 0), whole where they fit; else dense operands as flat element
 * ranges, and others in tiles: chunks of rows of the outermost axis, and where one row of it is
 * still over the limit (a transposed operand), single rows split again along the next axis.
 */
export function forElementChunks(op: string, operands: Tensor[], body: (views: Tensor[]) => void): void {
  if (allFit(operands)) {
    body(operands);
    return;
  }
  if (operands.every((t) => t.isDense)) {
    const size = operands[0].size;
    const flat = operands.map((t) => t.view([size], [1], t.offset));
    try {
      forRowChunks(op, size, flat.map((t) => ({ t, axis: 0 })), body);
    } finally {
      flat.forEach((t) => t.dispose());
    }
    return;
  }
  tiles(op, operands, 0, body);
}

/** Whether a view's span, bound from an aligned start, fits one binding. */
export function spanFits(t: Tensor): boolean {
  const [lo, hi] = elementSpan(t), align = alignElements();
  return (hi - Math.floor(lo / align) * align) * 4 <= runtime().maxBindingBytes;
}

/** Views `ts` (one shape) cut into tiles that fit, from `axis` inward; body gets windows. */
function tiles(op: string, ts: Tensor[], axis: number, body: (views: Tensor[]) => void): void {
  if (ts.every(spanFits)) {
    const ws = ts.map(windowed);
    try {
      body(ws);
    } finally {
      ws.forEach((w) => w.dispose());
    }
    return;
  }
  const shape = ts[0].shape;
  while (axis < shape.length && shape[axis] === 1) axis++;
  if (axis >= shape.length) throw tooLarge(op, ts[0], runtime().maxBindingBytes, 'one element of each operand does not fit');
  const rows = shape[axis];
  const step = Math.max(1, Math.min(rows, ...ts.map((t) => rowsPerBinding(t, axis).rows)));
  for (let r0 = 0; r0 < rows; r0 += step) {
    const vs = ts.map((t) => rowsView(t, axis, r0, Math.min(rows, r0 + step)));
    try {
      // rows that fit are bound now; a single row over the limit is cut along the next axis
      tiles(op, vs, axis + 1, body);
    } finally {
      vs.forEach((v) => v.dispose());
    }
  }
}

/** Rows [r0, r1) of `t` along `axis`: a plain view (no window). */
function rowsView(t: Tensor, axis: number, r0: number, r1: number): Tensor {
  const shape = [...t.shape];
  shape[axis] = r1 - r0;
  return t.view(shape, t.strides, t.offset + r0 * t.strides[axis]);
}

/**
 * For kernels that write a dense output from offset 0 (binary.wgsl, where.wgsl): `write` into a
 * fresh dense tensor where the chunk's output view is not one, then copied into it.
 */
export function intoDense(out: Tensor, write: (dense: Tensor) => void): void {
  if (out.isContiguous) {
    write(out);
    return;
  }
  const dense = empty(out.shape, out.dtype);
  write(dense);
  copyInto(dense, out);
  dense.dispose();
}

/** `t` read as `shape` (NumPy broadcasting: stride 0 on stretched dimensions); a new view. */
export function expandView(t: Tensor, shape: readonly number[], strides: readonly number[]): Tensor {
  return t.view(shape, strides, t.offset);
}

/** An operand of a batched op: its batch axis 0, and the axis of the rows that split within one item (null: the item is bound whole). */
export interface BatchPart {
  t: Tensor;
  rowAxis: number | null;
}

/**
 * Batched ops (a batched matrix product: A [b, M, K], B [b, K, N], C [b, M, N]): `body` on chunks
 * of whole batch items where one item of every operand fits a binding; else, item by item, on
 * chunks of its rows (the row axis of each operand that has one; the others bound whole).
 */
export function forBatchThenRows(op: string, batch: number, rows: number, parts: BatchPart[], body: (views: Tensor[]) => void): void {
  const tensors = parts.map((p) => p.t);
  if (allFit(tensors)) {
    body(tensors);
    return;
  }
  const items = tensors.map((t) => rowsView(t, 0, 0, Math.min(1, batch)));
  const oneFits = items.every(spanFits);
  items.forEach((t) => t.dispose());
  if (oneFits) {
    forRowChunks(op, batch, tensors.map((t) => ({ t, axis: 0 })), body);
    return;
  }
  for (let b = 0; b < batch; b++) {
    const item = tensors.map((t) => rowsView(t, 0, b, b + 1));
    try {
      forRowChunks(op, rows, item.map((t, i) => ({ t, axis: parts[i].rowAxis })), body);
    } finally {
      item.forEach((t) => t.dispose());
    }
  }
}

/**
 * For kernels that index their bindings from element 0 (no offset parameter: the convolutions,
 * reduce.wgsl): a chunk view off a binding boundary is copied to a fresh dense tensor first, and a
 * written one (indices in `written`) is computed into one and copied back after `body`.
 */
export function atZeroOffsets(views: Tensor[], written: number[], body: (views: Tensor[]) => void): void {
  const moved = views.map((v) => (v.offset === 0 ? v : empty(v.shape, v.dtype)));
  moved.forEach((m, i) => m !== views[i] && !written.includes(i) && copyInto(views[i], m));
  body(moved);
  moved.forEach((m, i) => {
    if (m === views[i]) return;
    if (written.includes(i)) copyInto(m, views[i]);
    m.dispose();
  });
}

/**
 * Row-wise kernels that index from element 0 (convolutions by image, norms by sample, softmax by
 * row, upsampling by plane): `run(views, r0, r1)` on chunks of the `rows` where the operands exceed
 * a binding. `split` are dense tensors of `rows` equal parts (x, y, stats, ...), `written` the
 * indices of those the kernel writes; `whole` operands (weights) are bound whole.
 */
export function forDenseRows(op: string, rows: number, split: Tensor[], written: number[], whole: Tensor[],
  run: (views: Tensor[], r0: number, r1: number) => void): void {
  if (rows === 0 || allFit([...split, ...whole])) {
    run(split, 0, rows);
    return;
  }
  const flat = split.map((t) => t.view([rows, t.size / rows], [t.size / rows, 1], t.offset));
  try {
    forRowChunks(op, rows, [...flat.map((t) => ({ t, axis: 0 })), ...whole.map((t) => ({ t, axis: null }))], (views, r0, r1) => {
      // each chunk in its tensor's own shape where that leads with the rows ([n, C, H, W] stays 4-D)
      const shaped = views.slice(0, split.length).map((v, i) => {
        const sh = split[i].shape;
        return sh[0] === rows ? v.view([r1 - r0, ...sh.slice(1)], contiguousStrides([r1 - r0, ...sh.slice(1)]), v.offset) : v.view(v.shape, v.strides, v.offset);
      });
      try {
        atZeroOffsets(shaped, written, (vs) => run(vs, r0, r1));
      } finally {
        shaped.forEach((v) => v.dispose());
      }
    });
  } finally {
    flat.forEach((t) => t.dispose());
  }
}

/**
 * A dense tensor at offset 0 as windows of at most one binding each, every window starting on a
 * binding boundary (so a kernel that reads from element 0 sees its piece): [t] where it fits.
 * Dispose the pieces that are not `t`.
 */
export function densePieces(t: Tensor): Tensor[] {
  if (allFit([t])) return [t];
  if (t.offset !== 0 || !t.isDense) throw new Error(`densePieces: expects a dense tensor at offset 0, got ${fmt(t.shape)} at ${t.offset}.`);
  const align = alignElements();
  const piece = Math.max(align, Math.floor(runtime().maxBindingBytes / 4 / align) * align);
  const out: Tensor[] = [];
  for (let s = 0; s < t.size; s += piece) {
    const v = t.view([Math.min(piece, t.size - s)], [1], s);
    out.push(windowed(v));
    v.dispose();
  }
  return out;
}

/**
 * A reduction over the rows (a weight gradient summed over images or samples), by forDenseRows:
 * `part` returns the partial results of its chunk (fixed shapes; null entries stay null), and the
 * chunks' results are added up. One chunk where the operands fit: exactly `part`'s results.
 */
export function sumOverRows<T extends (Tensor | null)[]>(op: string, rows: number, split: Tensor[], whole: Tensor[],
  part: (views: Tensor[], r0: number, r1: number) => T): T {
  let acc: T | null = null;
  forDenseRows(op, rows, split, [], whole, (vs, r0, r1) => {
    const p = part(vs, r0, r1);
    if (!acc) {
      acc = p;
      return;
    }
    const prev: T = acc;
    acc = prev.map((t, i) => (t && p[i] ? noGrad(() => add(t, p[i]!)) : null)) as T;
    [...prev, ...p].forEach((t) => t?.dispose());
  });
  return acc!;
}
