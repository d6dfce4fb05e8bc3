// Plain TypeScript references for the layout ops (ops/layout.ts) over dense host arrays, and the
// n-d indexing helpers the elementwise and reduction references share. A host array is dense
// row-major data plus a shape; float64 values throughout.

export interface Host {
  data: Float64Array;
  shape: number[];
}

export function host(data: ArrayLike<number>, shape: readonly number[]): Host {
  if (data.length !== numel(shape)) throw new Error(`host: ${data.length} values for [${shape}]`);
  return { data: Float64Array.from(data), shape: [...shape] };
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Multi-index of row-major position `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** out[idx] = x[f(idx)] for every multi-index of `shape`; `f` maps an output index to x's. */
export function gather(x: Host, shape: readonly number[], f: (idx: number[]) => number[]): Host {
  const xs = stridesOf(x.shape);
  const out = new Float64Array(numel(shape));
  for (let i = 0; i < out.length; i++) {
    const src = f(unravel(i, shape));
    let o = 0;
    for (let d = 0; d < src.length; d++) o += src[d] * xs[d];
    out[i] = x.data[o];
  }
  return { data: out, shape: [...shape] };
}

/** NumPy broadcasting of shapes (throws like the engine on a mismatch, without its message). */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = a[a.length - r + i] ?? 1, y = b[b.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** `x` read as `shape` under broadcasting (expand). */
export function broadcastTo(x: Host, shape: readonly number[]): Host {
  const lead = shape.length - x.shape.length;
  return gather(x, shape, (idx) => x.shape.map((d, k) => (d === 1 ? 0 : idx[lead + k])));
}

export function permute(x: Host, axes: readonly number[]): Host {
  const shape = axes.map((a) => x.shape[a]);
  return gather(x, shape, (idx) => {
    const src = new Array<number>(axes.length);
    axes.forEach((a, i) => (src[a] = idx[i]));
    return src;
  });
}

/** [start, end) along `axis` (non-negative, in range). */
export function slice(x: Host, axis: number, start: number, end: number): Host {
  const shape = [...x.shape];
  shape[axis] = end - start;
  return gather(x, shape, (idx) => idx.map((v, d) => (d === axis ? v + start : v)));
}

export function concat(xs: Host[], axis: number): Host {
  const shape = [...xs[0].shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  const out = new Float64Array(numel(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let k = 0;
    while (idx[axis] >= xs[k].shape[axis]) idx[axis] -= xs[k++].shape[axis];
    const s = stridesOf(xs[k].shape);
    out[i] = xs[k].data[idx.reduce((o, v, d) => o + v * s[d], 0)];
  }
  return { data: out, shape };
}

export function pad(x: Host, pads: readonly (readonly [number, number])[], value: number): Host {
  const shape = x.shape.map((d, i) => d + (pads[i]?.[0] ?? 0) + (pads[i]?.[1] ?? 0));
  const xs = stridesOf(x.shape);
  const out = new Float64Array(numel(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape).map((v, d) => v - (pads[d]?.[0] ?? 0));
    const inside = idx.every((v, d) => v >= 0 && v < x.shape[d]);
    out[i] = inside ? x.data[idx.reduce((o, v, d) => o + v * xs[d], 0)] : value;
  }
  return { data: out, shape };
}
