// The subgroup convolution kernels for the 3×3 "same" convolutions (stride 1, padding 1, rows of a
// multiple of 4 pixels) on CPU adapters with subgroups, where a lane loads each value once and its
// subgroup shares it by shuffles and broadcasts (why, and the measurements: docs/kernels-on-cpu.md):
//   conv2d_window_subgroup.wgsl       the forward pass and the stride-1 input gradient (conv2d.ts's
//                                     windowConv; elsewhere conv2d_window_vec4.wgsl)
//   conv2d_grad_weight_subgroup.wgsl  the weight gradient, with the bias gradient summed alongside
//                                     (conv2d.ts's paramGradsPart; elsewhere conv2d_grad_weight_vec4.wgsl)

import windowSrc from '../../shaders/conv2d_window_subgroup.wgsl';
import gradWeightSrc from '../../shaders/conv2d_grad_weight_subgroup.wgsl';
import { runtime, type KernelSource } from '../device/runtime.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ConvGeometry } from './conv2d-geometry.js';
import { kernel, launch, Params, specialize } from './launch.js';
import { currentDevice, subgroupLanes, subgroupsPerWorkgroup, type MatmulDevice } from './matmul.js';

/**
 * Output channels per subgroup (TM of the window shader): 16 where the layer has that many (on the
 * Intel Xeon the tokenizer's 3×3 layers ran 20.8 → 22.5 GFLOP/s against 8, in interleaved runs of
 * `bench conv2d tokenizer_passes`; 12 was slower, its blocks overrunning 32 and 64 channels), 8 for
 * thinner outputs (the last layer's 3 channels would leave 13 of 16 idle).
 */
export function windowRows(Cout: number, S: number): 8 | 16 {
  return Cout >= 16 || 24 % S !== 0 ? 16 : 8;
}

/** Input channels per lane of the weight-gradient kernel (TN of the shader). */
const GRAD_WEIGHT_TN = 4;

/**
 * Which kernels the 3×3 "same" convolutions take (Conv2dOptions `kernels`): the adapter's choice
 * ('auto'), the subgroup ones, or the portable ones (vec4 kernels, no subgroups), forced per call
 * for tests and benches.
 */
export type ConvKernelChoice = 'auto' | 'subgroup' | 'portable';

function isSame3x3(g: ConvGeometry): boolean {
  return g.KW === 3 && g.padding === 1 && g.up === 1 && g.W % 4 === 0 && g.Ho === g.H && g.Wo === g.W;
}

/**
 * Lanes S for the kernels on this device, or null: S must divide the TM·3 weights of a slab (48;
 * 24 as well for the 8-channel blocks of thin outputs, which 16 lanes replace by 16-channel ones).
 */
export function lanesFor(d: MatmulDevice): number | null {
  const S = subgroupLanes(d);
  return S !== null && 48 % S === 0 ? S : null;
}

/**
 * Whether a 3×3 "same" convolution's pass takes its subgroup kernel: 'auto' on CPU adapters whose
 * device has subgroups (measured faster there than the vec4 kernels; GPUs keep those, not measured
 * on one). `fits` is the pass's own grid test.
 */
function useSubgroup(g: ConvGeometry, pass: string, fits: (S: number, d: MatmulDevice) => boolean): boolean {
  if (g.kernels === 'portable') return false;
  const d = currentDevice();
  const S = lanesFor(d);
  const ok = isSame3x3(g) && S !== null && fits(S, d);
  if (g.kernels === 'subgroup') {
    if (!ok) throw new Error(`conv2d: the subgroup kernels were forced, but the ${pass} cannot take one here (needs a device with subgroups of 4, 8 or 16 lanes, and a 3×3 "same" convolution on rows of a multiple of 4 pixels; got ${g.KH}×${g.KW}, padding ${g.padding}, ${g.H}×${g.W}, subgroups ${JSON.stringify(d.subgroups)}).`);
    return true;
  }
  return ok && d.isCpu;
}

const maxGroups = () => runtime().limits.maxComputeWorkgroupsPerDimension;

/** Whether windowConv takes conv2d_window_subgroup.wgsl. */
export function useSubgroupWindow(g: ConvGeometry): boolean {
  return useSubgroup(g, 'forward or input gradient', (S, d) => Math.ceil((g.N * g.H * g.W) / (4 * S * subgroupsPerWorkgroup(d))) <= maxGroups());
}

/**
 * Whether the weight gradient takes conv2d_grad_weight_subgroup.wgsl: where the input channels fill
 * at least half of a subgroup's lanes (TN channels each; 3 input channels leave 7 of 8 lanes idle:
 * 2.3 against 8.0 GFLOP/s for the vec4 kernel), its grid within the device's limits (channel groups
 * on x and y, 3 kernel rows per split on z).
 */
export function useSubgroupGradWeight(g: ConvGeometry): boolean {
  return useSubgroup(g, 'weight gradient', (S) => (g.kernels === 'subgroup' || Math.ceil(g.Cin / GRAD_WEIGHT_TN) >= S / 2) && Math.ceil(g.Cout / S) <= maxGroups());
}

const windowKernels = new Map<string, KernelSource>();
const gradWeightKernels = new Map<number, KernelSource>();

/**
 * y [N, Cout, H, W] = conv(x [N, Cin, H, W], w) + bias, all dense, read where they lie: w is the
 * layer's [Cout, Cin, KH, 3], or with `flip` (the input gradient, g its swapped geometry) the
 * original layer's [Cin, Cout, KH, 3], kernel flipped and channels swapped by the strides. The
 * caller has chunked x and y to fit a binding.
 */
export function subgroupWindowConv(x: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry, y: Tensor, flip: boolean): void {
  const d = currentDevice();
  const S = lanesFor(d)!;
  const WGY = subgroupsPerWorkgroup(d);
  const TM = windowRows(g.Cout, S);
  let k = windowKernels.get(`${S}:${TM}`);
  if (!k) {
    k = specialize(kernel('conv2d_window_subgroup', windowSrc), { TM, S, NW: (TM * 3) / S });
    windowKernels.set(`${S}:${TM}`, k);
  }
  const quads = (g.N * g.H * g.W) / 4;
  const taps = g.KH * 3;
  // base, s_o, s_c, s_y, s_x (negative strides as their u32 wrap: the kernel's sums wrap back)
  const strides = flip ? [taps - 1, taps, g.Cout * taps, -3, -1] : [0, g.Cin * taps, taps, 3, 1];
  const p = new Params().u32(g.N, g.Cin, g.H, g.W, g.Cout, g.KH, bias ? 1 : 0, quads, ...strides, 0, 0, 0);
  // EDGE: a block of 4·S pixels may start inside a row unless a row's vec4s divide S.
  const edge = S % (g.W / 4) !== 0;
  launch(k, p, [x, w, bias ?? w, y], [Math.ceil(quads / (S * WGY)), Math.ceil(g.Cout / TM), 1], { WGY, EDGE: edge ? 1 : 0 });
}

/** The weight gradient's work, for conv2d.ts's split of the reduction: invocations per split. */
export function subgroupGradWeightInvocations(g: ConvGeometry): number {
  const S = lanesFor(currentDevice())!;
  return Math.ceil(Math.ceil(g.Cin / GRAD_WEIGHT_TN) / S) * S * Math.ceil(g.Cout / S) * 3;
}

/**
 * part [Cout·Cin·9 (+ Cout with `bias`), splits] of dw (and db) from gy [N, Cout, H, W] and
 * x [N, Cin, H, W] (dense): split s sums the output rows [s·rowsPerSplit, (s+1)·rowsPerSplit).
 */
export function subgroupGradWeight(gy: Tensor, x: Tensor, part: Tensor, g: ConvGeometry, rowsPerSplit: number, splits: number, bias: boolean): void {
  const S = lanesFor(currentDevice())!;
  let k = gradWeightKernels.get(S);
  if (!k) {
    k = specialize(kernel('conv2d_grad_weight_subgroup', gradWeightSrc), { S, TN: GRAD_WEIGHT_TN });
    gradWeightKernels.set(S, k);
  }
  const p = new Params().u32(g.N, g.Cin, g.H, g.W, g.Cout, rowsPerSplit, splits, bias ? 1 : 0);
  launch(k, p, [gy, x, part], [Math.ceil(Math.ceil(g.Cin / GRAD_WEIGHT_TN) / S), Math.ceil(g.Cout / S), 3 * splits]);
}
