// Tensors: a view (shape, strides, element offset, dtype) over reference-counted GPU storage.
// Reshape/permute/transpose/slice make views without copying; kernels that need dense input call
// `contiguous()` (see ops/layout.ts). Memory is released deterministically: `dispose()` or a
// `tidy()` scope (scope.ts); a storage buffer returns to the pool when its last view is gone.

import { runtime, type Runtime } from '../device/runtime.js';
import { keep as keepTensor, track } from './scope.js';

export type DType = 'f32' | 'i32' | 'u32';
export type Shape = readonly number[];
export type TypedArray = Float32Array | Int32Array | Uint32Array;

/**
 * A tensor's bytes on the GPU: a pooled buffer (byteOffset 0), or a window into another storage
 * (ops/binding-window.ts: a part of a tensor bound alone, so that no binding exceeds the device's
 * limit). Kernels bind `bytes` from `byteOffset`, never the whole pooled buffer, whose size class may
 * be larger.
 */
export class Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    readonly bytes: number,
    private rt: Runtime,
    readonly byteOffset = 0,
    private readonly parent: Storage | null = null,
  ) {
    parent?.retain();
  }
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs !== 0) return;
    if (this.parent) this.parent.release();
    else this.rt.pool.release(this.buffer);
  }
  /** A window of `bytes` from `byteOffset` (relative to this storage) over the same buffer. */
  window(byteOffset: number, bytes: number): Storage {
    if (byteOffset < 0 || byteOffset + bytes > this.bytes) throw new Error(`Storage window [${byteOffset}, ${byteOffset + bytes}) outside ${this.bytes} bytes.`);
    return new Storage(this.buffer, bytes, this.rt, this.byteOffset + byteOffset, this);
  }
}

/** One recorded op on the autograd tape: its inputs and how to map the output's gradient to theirs. */
export interface GradNode {
  name: string;
  inputs: Tensor[];
  backward: (grad: Tensor) => (Tensor | null)[];
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function checkShape(shape: Shape, what = 'shape'): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`Invalid ${what} [${shape.join(', ')}]: dimensions must be non-negative integers.`);
  }
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  private disposed = false;
  /** name for error messages and state dicts */
  name = '';

  constructor(
    readonly storage: Storage,
    readonly shape: Shape,
    readonly dtype: DType = 'f32',
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
  ) {
    this.size = sizeOf(shape);
    track(this);
  }

  get rank(): number {
    return this.shape.length;
  }
  get buffer(): GPUBuffer {
    this.assertAlive();
    return this.storage.buffer;
  }
  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Row-major over its elements from any offset: one run of `size` floats of the buffer from
   * `offset` (a contiguous tensor is dense at offset 0).
   */
  get isDense(): boolean {
    const c = contiguousStrides(this.shape);
    for (let i = 0; i < this.shape.length; i++) if (this.shape[i] !== 1 && this.strides[i] !== c[i]) return false;
    return true;
  }

  /** Dense row-major with offset 0: what most kernels require. */
  get isContiguous(): boolean {
    return this.offset === 0 && this.isDense;
  }

  assertAlive(): void {
    if (this.disposed) throw new Error(`Tensor${this.name ? ` '${this.name}'` : ''} [${this.shape.join(', ')}] was used after dispose().`);
  }

  /** A new view over the same storage (no copy). */
  view(shape: Shape, strides: readonly number[], offset: number): Tensor {
    this.assertAlive();
    this.storage.retain();
    return new Tensor(this.storage, [...shape], this.dtype, [...strides], offset);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storage.release();
  }

  /** Reads the tensor back (in logical row-major order). Waits for the GPU: never call inside a step loop. */
  async toArray(): Promise<TypedArray> {
    this.assertAlive();
    const rt = runtime();
    if (!this.isContiguous) {
      const { contiguous } = await import('../ops/layout.js');
      const { tidy } = await import('./scope.js');
      const c = tidy(() => contiguous(this).keepAlive());
      try {
        return await c.toArray();
      } finally {
        c.dispose();
      }
    }
    const bytes = await rt.read(this.storage.buffer, this.storage.byteOffset, this.size * 4);
    return this.dtype === 'f32' ? new Float32Array(bytes) : this.dtype === 'i32' ? new Int32Array(bytes) : new Uint32Array(bytes);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item() needs a tensor of one element, got [${this.shape.join(', ')}].`);
    return (await this.toArray())[0];
  }

  /** Removes this tensor from the enclosing tidy scope so it outlives it; returns itself. */
  keepAlive(): this {
    keepTensor(this);
    return this;
  }

  toString(): string {
    return `Tensor(${this.dtype}[${this.shape.join(', ')}]${this.requiresGrad ? ', grad' : ''})`;
  }
}


/** Options of the functions that create tensors (`tensor`, `empty`, `zeros`, `ones`, `full`, ...). */
export interface TensorOptions {
  /** element type (default: `tensor` infers it from the data; the others use 'f32') */
  dtype?: DType;
  /**
   * Makes the new tensor a leaf of autograd: `backward()` accumulates its gradient into `.grad`
   * (f32 only). The same as setting `t.requiresGrad = true` after creating it.
   */
  requiresGrad?: boolean;
}

/** The dtype and requiresGrad of a creation call's last argument (a dtype, or options). */
export function creationOptions(arg: DType | TensorOptions | undefined, fallback: DType): Required<TensorOptions> {
  const o: TensorOptions = typeof arg === 'string' ? { dtype: arg } : (arg ?? {});
  return { dtype: o.dtype ?? fallback, requiresGrad: o.requiresGrad ?? false };
}

/** Applies `requiresGrad` to a freshly created tensor (only f32 tensors can have gradients). */
export function withGrad(t: Tensor, requiresGrad: boolean, op: string): Tensor {
  if (!requiresGrad) return t;
  if (t.dtype !== 'f32') {
    t.dispose();
    throw new Error(`${op}: only f32 tensors can require gradients, got dtype '${t.dtype}'.`);
  }
  t.requiresGrad = true;
  return t;
}

/**
 * Allocates an uninitialised tensor from the pool.
 * @param shape dimensions, row-major
 * @param opts a dtype (default 'f32') or {@link TensorOptions}
 */
export function empty(shape: Shape, opts: DType | TensorOptions = 'f32'): Tensor {
  const { dtype, requiresGrad } = creationOptions(opts, 'f32');
  checkShape(shape);
  const rt = runtime();
  const bytes = Math.max(4, sizeOf(shape) * 4);
  const buffer = rt.pool.acquire(bytes);
  return withGrad(new Tensor(new Storage(buffer, bytes, rt), [...shape], dtype), requiresGrad, 'empty');
}

/**
 * Uploads host data as a new tensor.
 * @param data values in row-major order (converted to the dtype)
 * @param shape dimensions (default `[data.length]`); their product must equal `data.length`
 * @param opts a dtype, or {@link TensorOptions} such as `{ requiresGrad: true }`. The default dtype
 *   follows the data: 'i32' for an Int32Array, 'u32' for a Uint32Array, else 'f32'.
 * @example
 * const w = tensor([0.5, -1, 2, 0], [2, 2], { requiresGrad: true });
 */
export function tensor(data: ArrayLike<number> | TypedArray, shape?: Shape, opts?: DType | TensorOptions): Tensor {
  const inferred: DType = data instanceof Int32Array ? 'i32' : data instanceof Uint32Array ? 'u32' : 'f32';
  const { dtype: dt, requiresGrad } = creationOptions(opts, inferred);
  const sh = shape ?? [data.length];
  checkShape(sh);
  if (sizeOf(sh) !== data.length) {
    throw new Error(`tensor(): ${data.length} values do not fill shape [${sh.join(', ')}] (${sizeOf(sh)} elements).`);
  }
  const arr = dt === 'f32' ? Float32Array.from(data) : dt === 'i32' ? Int32Array.from(data) : Uint32Array.from(data);
  const t = empty(sh, dt);
  if (arr.length) runtime().write(t.storage.buffer, 0, arr);
  return withGrad(t, requiresGrad, 'tensor');
}
