// The subgroup row-window convolution (shaders/conv2d_window_subgroup.wgsl): the 3×3 "same"
// convolutions (stride 1, padding 1, rows of a multiple of 4 pixels) on CPU adapters with
// subgroups, where a lane loads each input vec4 and each weight once and its subgroup shares them by
// shuffles and broadcasts (why, and the measurements: docs/kernels-on-cpu.md). conv2d.ts's
// windowConv runs it for the forward pass and the stride-1 input gradient; elsewhere
// conv2d_window_vec4.wgsl.

import src from '../../shaders/conv2d_window_subgroup.wgsl';
import { runtime, type KernelSource } from '../device/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import { kernel, launch, Params, specialize } from './launch.js';
import { currentDevice, subgroupLanes, subgroupsPerWorkgroup, type MatmulDevice } from './matmul.js';

/** Output channels per subgroup (TM of the shader); conv2d.ts pads the packed weights' columns to it. */
export const SUBGROUP_WINDOW_TM = 8;

/** Which window kernel a 3×3 "same" convolution takes: the adapter's choice, or one forced (tests, bench). */
export type ConvWindowKernel = 'auto' | 'subgroup' | 'vec4';
let forced: ConvWindowKernel = 'auto';

/**
 * Forces the window kernel of the 3×3 "same" convolutions ('auto' restores the adapter's choice);
 * returns the previous setting. 'subgroup' on a device that cannot run it is one clear error at
 * the next such convolution.
 */
export function setConvWindowKernel(k: ConvWindowKernel): ConvWindowKernel {
  const was = forced;
  forced = k;
  return was;
}

/** The shape the subgroup kernel computes (the caller has checked the vec4 window's conditions). */
interface WindowShape {
  N: number; Cin: number; H: number; W: number; Cout: number; KH: number; KW: number;
  padding: number; up: 1 | 2; Ho: number; Wo: number;
}

function isSame3x3(g: WindowShape): boolean {
  return g.KW === 3 && g.padding === 1 && g.up === 1 && g.W % 4 === 0 && g.Ho === g.H && g.Wo === g.W;
}

/** Lanes S for the kernel on this device, or null: S must divide the TM·3 weights of a slab. */
function lanesFor(d: MatmulDevice): number | null {
  const S = subgroupLanes(d);
  return S !== null && (SUBGROUP_WINDOW_TM * 3) % S === 0 ? S : null;
}

/**
 * Whether windowConv takes the subgroup kernel: 'auto' on CPU adapters whose device has subgroups
 * (measured faster there than the vec4 kernel; GPUs keep the vec4 kernel, not measured on one).
 */
export function useSubgroupWindow(g: WindowShape): boolean {
  if (forced === 'vec4') return false;
  const d = currentDevice();
  const fits = isSame3x3(g) && lanesFor(d) !== null && gridFits(g, d);
  if (forced === 'subgroup') {
    if (!fits) throw new Error(`conv2d: the subgroup window kernel was forced, but it cannot run this convolution here (needs a device with subgroups of 4 to 32 lanes dividing ${SUBGROUP_WINDOW_TM * 3}, and a 3×3 "same" convolution on rows of a multiple of 4 pixels; got ${g.KH}×${g.KW}, padding ${g.padding}, ${g.H}×${g.W}, subgroups ${JSON.stringify(d.subgroups)}).`);
    return true;
  }
  return fits && d.isCpu;
}

function gridFits(g: WindowShape, d: MatmulDevice): boolean {
  const S = lanesFor(d)!;
  return Math.ceil((g.N * g.H * g.W) / (4 * S * subgroupsPerWorkgroup(d))) <= runtime().limits.maxComputeWorkgroupsPerDimension;
}

const kernels = new Map<number, KernelSource>();

/**
 * y [N, Cout, H, W] = conv(x [N, Cin, H, W], wp) + bias, wp [Cin·KH·3, cols] as conv2d.ts packs it
 * (cols a multiple of SUBGROUP_WINDOW_TM). All dense; the caller has chunked them to fit a binding.
 */
export function subgroupWindowConv(x: Tensor, wp: Tensor, bias: Tensor | null, g: WindowShape, y: Tensor): void {
  const d = currentDevice();
  const S = lanesFor(d)!;
  const WGY = subgroupsPerWorkgroup(d);
  let k = kernels.get(S);
  if (!k) {
    k = specialize(kernel('conv2d_window_subgroup', src), { TM: SUBGROUP_WINDOW_TM, S, NW: (SUBGROUP_WINDOW_TM * 3) / S });
    kernels.set(S, k);
  }
  const quads = (g.N * g.H * g.W) / 4;
  const cols = wp.shape[1];
  const p = new Params().u32(g.N, g.Cin, g.H, g.W, g.Cout, g.KH, cols, bias ? 1 : 0, quads, 0, 0, 0);
  // EDGE: a block of 4·S pixels may start inside a row unless a row's vec4s divide S.
  const edge = S % (g.W / 4) !== 0;
  launch(k, p, [x, wp, bias ?? wp, y], [Math.ceil(quads / (S * WGY)), Math.ceil(g.Cout / SUBGROUP_WINDOW_TM), 1], { WGY, EDGE: edge ? 1 : 0 });
}
