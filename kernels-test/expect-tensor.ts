// Test helpers: compare a GPU tensor with a host reference, and build the same logical values
// as differently laid-out tensors (dense, transposed view, sliced view with an offset, expanded
// view) so that every op is also tested on non-contiguous inputs.

import { expect } from 'vitest';
import * as vq from '../src/index.js';
import { firstMismatch, Rng } from './reference.js';
import { broadcastTo, numel, pad, permute, slice, type Host } from './reference-layout.js';

export interface Tol {
  atol?: number;
  rtol?: number;
}

/** Asserts `t` has the shape and (within tolerance) the values of `ref`; `label` names the case. */
export async function expectTensor(t: vq.Tensor, ref: Host, label: string, tol: Tol = {}): Promise<void> {
  compare(t, await t.toArray(), { t, ref, label, tol });
}

export interface Check {
  t: vq.Tensor;
  ref: Host;
  label: string;
  tol?: Tol;
}

/**
 * expectTensor for many results with all readbacks in flight at once (a browser resolves each
 * mapAsync on its next event-loop turn, so one-by-one reads cost ~100 ms each there); then
 * disposes the results.
 */
export async function expectAll(checks: Check[]): Promise<void> {
  const data = await Promise.all(checks.map((c) => c.t.toArray()));
  checks.forEach((c, k) => compare(c.t, data[k], c));
  for (const c of checks) c.t.dispose();
}

function compare(t: vq.Tensor, got: ArrayLike<number>, { ref, label, tol = {} }: Check): void {
  expect(t.shape, `${label}: shape`).toEqual(ref.shape);
  const i = firstMismatch(got, ref.data, tol.atol ?? 1e-5, tol.rtol ?? 1e-4);
  if (i >= 0) {
    expect.fail(`${label}: element ${i} of [${ref.shape}] is ${got[i]}, expected ${ref.data[i]} (${got.length} vs ${ref.data.length} values)`);
  }
}

export function upload(h: Host): vq.Tensor {
  return vq.tensor(Float32Array.from(h.data), h.shape);
}

/** Host values as f32 would hold them (references must start from what the GPU sees). */
export function f32(h: Host): Host {
  return { data: Float64Array.from(Float32Array.from(h.data)), shape: [...h.shape] };
}

export function randomHost(rng: Rng, shape: readonly number[], f: () => number = () => rng.normal()): Host {
  return f32({ data: Float64Array.from({ length: numel(shape) }, f), shape: [...shape] });
}

export interface Layout {
  name: string;
  tensor: vq.Tensor;
  /** the logical values of `tensor` (equal to the source except for 'expanded') */
  ref: Host;
}

/**
 * `h` as a dense tensor, a transposed view (rank ≥ 2), a view sliced out of a larger tensor with
 * negative indices (rank ≥ 1, non-zero offset) and an expanded view of its first row (rank ≥ 1;
 * its reference is that row broadcast).
 */
export function layouts(h: Host): Layout[] {
  const out: Layout[] = [{ name: 'dense', tensor: upload(h), ref: h }];
  const r = h.shape.length;
  if (r >= 2) {
    const axes = [...Array(r).keys()];
    [axes[r - 2], axes[r - 1]] = [axes[r - 1], axes[r - 2]];
    const stored = upload(permute(h, axes));
    out.push({ name: 'transposed', tensor: vq.transpose(stored), ref: h });
    stored.dispose();
  }
  if (r >= 1) {
    const big = upload(pad(h, [[2, 1]], 123));
    out.push({ name: 'sliced', tensor: vq.slice(big, 0, 2, -1), ref: h });
    big.dispose();
    const first = slice(h, 0, 0, Math.min(1, h.shape[0]));
    const src = upload(first);
    out.push({ name: 'expanded', tensor: vq.expand(src, h.shape), ref: broadcastTo(first, h.shape) });
    src.dispose();
  }
  return out;
}

export function disposeAll(ls: { tensor: vq.Tensor }[]): void {
  for (const l of ls) l.tensor.dispose();
}
