// The choice between the two schedules of the row kernels (softmax, norm, categorical sampling):
// `thread` (one invocation per row, no barriers) or `group` (one workgroup per row, a
// shared-memory tree, coalesced reads along the row).

import { runtime } from '../device/runtime.js';
import type { Constants, KernelSource } from '../device/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import { grid1d, launch, type Params } from './launch.js';

export interface RowKernels {
  thread: KernelSource;
  group: KernelSource;
  /** `thread` reading and writing the rows as vec4s, where the caller says the rows allow it */
  threadVec4?: KernelSource;
}

/**
 * CPU rasterisers (llvmpipe runs a workgroup as SIMD lanes on one thread, where barriers are
 * expensive): a workgroup per row only for few long rows, the rule of reduce.ts; measured on
 * lavapipe, layerNorm [8192, 512] ran 2× faster with a thread per row. GPUs: a workgroup per row
 * whenever rows are long enough to share (coalesced loads; a thread per row would leave most of the
 * device idle unless there are hundreds of thousands of rows) — the usual GPU choice, not measured here.
 */
export function useGroupPerRow(rows: number, len: number): boolean {
  const rt = runtime();
  if (rt.isCpu) return rows < 64 && len >= 256;
  return len >= 128 && rows < 1 << 18;
}

/**
 * Launches the chosen schedule of `k` over `rows` rows of `len` (constants get WG added); `vec4`:
 * the rows allow k.threadVec4 where the thread schedule is chosen.
 */
export function launchRows(k: RowKernels, rows: number, len: number, p: Params, tensors: Tensor[], constants: Constants = {}, vec4 = false): void {
  const rt = runtime();
  if (useGroupPerRow(rows, len)) {
    const wg = rt.isCpu ? 64 : Math.min(256, rt.limits.maxComputeInvocationsPerWorkgroup);
    launch(k.group, p, tensors, grid1d(rows, 1), { ...constants, WG: wg });
  } else {
    launch(vec4 && k.threadVec4 ? k.threadVec4 : k.thread, p, tensors, grid1d(rows, 64), { ...constants, WG: 64 });
  }
}
