// Shared plumbing for ops: packing uniform parameters, sizing grids within the device's limits,
// and launching a kernel on tensors.

import stridedWalkSrc from '../../shaders/strided_walk.wgsl';
import geluSrc from '../../shaders/gelu.wgsl';
import { runtime, type Constants, type KernelSource } from '../device/runtime.js';
import type { Storage, Tensor } from '../tensor/tensor.js';

/** Builds a uniform block of 4-byte fields in declaration order (u32, i32 or f32). */
export class Params {
  private buf = new ArrayBuffer(256);
  private view = new DataView(this.buf);
  private n = 0;
  u32(...vs: number[]): this {
    for (const v of vs) this.view.setUint32(4 * this.n++, v >>> 0, true);
    return this;
  }
  i32(...vs: number[]): this {
    for (const v of vs) this.view.setInt32(4 * this.n++, v | 0, true);
    return this;
  }
  f32(...vs: number[]): this {
    for (const v of vs) this.view.setFloat32(4 * this.n++, v, true);
    return this;
  }
  /** A WGSL `array<vec4<u32>, k>`: pads `vs` with `fill` to 4·k entries. */
  u32x4(k: number, vs: readonly number[], fill = 0): this {
    if (vs.length > 4 * k) throw new Error(`Params: ${vs.length} values do not fit ${k} vec4s.`);
    this.align16();
    for (let i = 0; i < 4 * k; i++) this.u32(i < vs.length ? vs[i] : fill);
    return this;
  }
  align16(): this {
    while (this.n % 4) this.u32(0);
    return this;
  }
  bytes(): Uint8Array {
    this.align16();
    return new Uint8Array(this.buf, 0, Math.max(16, 4 * this.n));
  }
}

/** Workgroup count for `n` items of `perGroup` each, split over x and y when x would exceed the limit. */
export function grid1d(n: number, perGroup: number): [number, number] {
  const groups = Math.ceil(n / perGroup);
  const maxX = runtime().limits.maxComputeWorkgroupsPerDimension;
  if (groups <= maxX) return [Math.max(groups, 0), 1];
  const y = Math.ceil(groups / maxX);
  return [Math.ceil(groups / y), y];
}

/** Runs `kernel` with params at binding 0 and the tensors' buffers (or texture views) at bindings 1..n (null: a binding the entry point does not use). */
export function launch(
  kernel: KernelSource,
  params: Params,
  tensors: (Tensor | GPUTextureView | null)[],
  workgroups: [number, number?, number?],
  constants: Constants = {},
): void {
  runtime().dispatch(
    kernel,
    params.bytes(),
    tensors.map((t) => {
      if (t === null || !('assertAlive' in t)) return t;
      t.assertAlive();
      return bindingOf(t.storage);
    }),
    workgroups,
    constants,
  );
}

/**
 * What a kernel binds for a tensor: its storage's bytes (not the pooled buffer's size class, and a
 * window's own range), rounded up to 16 for vec4 views of small tensors, within the buffer.
 */
export function bindingOf(s: Storage): { buffer: GPUBuffer; offset: number; size: number } {
  return { buffer: s.buffer, offset: s.byteOffset, size: Math.min(Math.ceil(s.bytes / 16) * 16, s.buffer.size - s.byteOffset) };
}

/**
 * How the strided elementwise kernels (unary.wgsl, binary.wgsl) walk a non-dense operand: by
 * elements (`main`: one invocation each, its index decomposed per element) or by rows of the
 * innermost dimension (`main_rows`: decomposed once per row). 'auto': rows on CPU adapters (where
 * the per-lane integer division is the cost) for rows of 4 elements or more; tests force either.
 */
export const stridedWalk = { mode: 'auto' as 'auto' | 'rows' | 'elements' };

/** `src` with a shared WGSL snippet (one copy in shaders/) pasted at its `//#include NAME` line. */
export function includeSnippet(src: string, name: string, snippet: string): string {
  const line = `//#include ${name}\n`;
  if (!src.includes(line)) throw new Error(`a shader lacks its \`//#include ${name}\` line.`);
  return src.replace(line, snippet);
}

/** A strided elementwise shader (unary.wgsl, binary.wgsl) with shaders/strided_walk.wgsl included. */
export const withStridedWalk = (src: string) => includeSnippet(src, 'strided_walk.wgsl', stridedWalkSrc);

/** A shader with shaders/gelu.wgsl's `gelu()` included (unary.wgsl, matmul_subgroup.wgsl). */
export const withGelu = (src: string) => includeSnippet(src, 'gelu.wgsl', geluSrc);

/** Whether a strided walk over these coalesced dimensions goes by rows (see `stridedWalk`). */
export function walkByRows(shape: readonly number[]): boolean {
  if (shape.length < 2) return false;
  if (stridedWalk.mode !== 'auto') return stridedWalk.mode === 'rows';
  return runtime().isCpu && shape[shape.length - 1] >= 4;
}

/**
 * Whether a dense elementwise pass over n elements can take its shader's `main_vec4` entry (vec4
 * loads and stores; dense tensors start at offset 0, so only the length matters).
 */
export function vec4Fits(n: number): boolean {
  return n % 4 === 0;
}

export function kernel(name: string, code: string, entry?: string): KernelSource {
  return { name, code, entry };
}

/**
 * The one template step: rewrites `const NAME: u32 = ...;` declarations of a shader (for values
 * that WGSL requires to be const, such as private array sizes), then expands unrolled blocks:
 *
 *   //#unroll KK COUNT
 *   ... lines using KK ...
 *   //#end KK
 *
 * repeats the lines COUNT times (a number, or a const just specialised) with the identifier KK
 * replaced by `0u`, `1u`, ...: for arguments WGSL requires to be const-expressions (e.g. the lane
 * of `subgroupBroadcast`, or indices of private arrays that must stay registers). Blocks nest (each
 * names its own identifier). Before that, `//#if NAME` … (`//#else NAME` …) `//#endif NAME` keeps
 * one part by a const specialised here: for code that differs in its bindings (a binding declared
 * must be bound). Everything else is an override.
 */
export function specialize(k: KernelSource, consts: Record<string, number>): KernelSource {
  let code = k.code;
  for (const [name, v] of Object.entries(consts)) {
    const re = new RegExp(`const ${name}: u32 = [^;]+;`);
    if (!re.test(code)) throw new Error(`specialize: shader '${k.name}' declares no 'const ${name}: u32'.`);
    code = code.replace(re, `const ${name}: u32 = ${v >>> 0}u;`);
  }
  // Conditional blocks, by a const specialised here (non-zero: the first part, else the second):
  //   //#if NAME … //#else NAME … //#endif NAME   (the else part optional)
  const cond = /^[ \t]*\/\/#if (\w+)[ \t]*\n([\s\S]*?)(?:^[ \t]*\/\/#else \1[ \t]*\n([\s\S]*?))?^[ \t]*\/\/#endif \1[ \t]*\n/m;
  for (let m = cond.exec(code); m; m = cond.exec(code)) {
    const [all, name, yes, no = ''] = m;
    if (consts[name] === undefined) throw new Error(`specialize: shader '${k.name}' has a block '#if ${name}', a const not specialised here.`);
    code = code.slice(0, m.index) + (consts[name] ? yes : no) + code.slice(m.index + all.length);
  }
  // Outermost blocks first; each copy's inner blocks on the next round.
  const block = /^[ \t]*\/\/#unroll (\w+) (\w+)[ \t]*\n([\s\S]*?)^[ \t]*\/\/#end \1[ \t]*\n/m;
  for (let m = block.exec(code); m; m = block.exec(code)) {
    const [all, id, count, body] = m;
    const n = /^\d+$/.test(count) ? Number(count) : consts[count];
    if (n === undefined) throw new Error(`specialize: shader '${k.name}' unrolls by '${count}', which is neither a number nor a const specialised here.`);
    const re = new RegExp(`\\b${id}\\b`, 'g');
    code = code.slice(0, m.index) + Array.from({ length: n }, (_, i) => body.replace(re, `${i}u`)).join('') + code.slice(m.index + all.length);
  }
  return { name: `${k.name}${JSON.stringify(consts)}`, code, entry: k.entry };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
