// What one convolution is (ConvGeometry: validated shapes, stride, padding, upsampling, output
// size) and how its passes are launched: the workgroup grid over column blocks, and the per-image
// chunks that keep every operand within one storage binding. Shared by conv2d.ts and
// conv2d-subgroup.ts.

import type { Tensor } from '../tensor/tensor.js';
import { runtime } from '../device/runtime.js';
import { forDenseRows } from './binding-window.js';
import type { ConvKernelChoice } from './conv2d-subgroup.js';
import { fmt } from './launch.js';

/** invocations per workgroup: within every adapter's limit (compat mode guarantees 128) */
export const WG_SIZE = 64;

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** step between output positions, in input pixels (default 1) */
  stride?: number;
  /** zeros added on every side of the input (default 0) */
  padding?: number;
  /**
   * the kernels of a 3×3 "same" convolution (stride 1, padding 1, rows of a multiple of 4 pixels),
   * its gradients included: the adapter's choice ('auto', the default), or forced for tests and
   * benches ('subgroup': one clear error where they cannot run; 'portable': the vec4 kernels)
   */
  kernels?: ConvKernelChoice;
}

/** Options of {@link conv2dUpsample2x}. */
export interface Conv2dUpsample2xOptions extends Conv2dOptions {
  /** must be 1 (the default): the fused upsample convolution has no other stride, and throws for one */
  stride?: number;
  /** true: the fused kernels; false: upsample, then conv2d; default: the adapter decides (same values) */
  fuse?: boolean;
}

/** Everything the kernels need to know about one convolution. */
export interface ConvGeometry {
  N: number; Cin: number; H: number; W: number;   // x as stored
  Cout: number; KH: number; KW: number;
  stride: number; padding: number;
  up: 1 | 2;                                     // 2: the convolution reads x upsampled 2×
  Ho: number; Wo: number;
  kernels: ConvKernelChoice;                     // Conv2dOptions.kernels
}

function isCount(v: number, min: number): boolean {
  return Number.isInteger(v) && v >= min;
}

/** Validates shapes and options (one clear error) and derives the output size. */
export function convGeometry(op: string, x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOptions, up: 1 | 2): ConvGeometry {
  const stride = opts.stride ?? 1, padding = opts.padding ?? 0;
  const shapes = `x ${fmt(x.shape)}, w ${fmt(w.shape)}${bias ? `, bias ${fmt(bias.shape)}` : ''}`;
  const fail = (why: string): never => {
    throw new Error(`${op}: ${why} (got ${shapes}, stride ${stride}, padding ${padding}).`);
  };
  for (const t of bias ? [x, w, bias] : [x, w]) {
    t.assertAlive();
    if (t.dtype !== 'f32') fail(`tensors must be f32, found ${t.dtype}`);
  }
  if (x.rank !== 4 || w.rank !== 4) fail('expects x [N, Cin, H, W] and w [Cout, Cin, KH, KW]');
  const [N, Cin, H, W] = x.shape;
  const [Cout, wCin, KH, KW] = w.shape;
  if (wCin !== Cin) fail(`w has ${wCin} input channels, x has ${Cin}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== Cout)) fail(`bias must be [${Cout}]`);
  if (!isCount(stride, 1) || !isCount(padding, 0)) fail('stride must be an integer ≥ 1 and padding an integer ≥ 0');
  if (up === 2 && stride !== 1) fail('the fused upsample convolution has stride 1');
  if (N < 1 || Cin < 1 || Cout < 1 || KH < 1 || KW < 1) fail('every dimension must be ≥ 1');
  const Ho = Math.floor((H * up + 2 * padding - KH) / stride) + 1;
  const Wo = Math.floor((W * up + 2 * padding - KW) / stride) + 1;
  if (H < 1 || W < 1 || Ho < 1 || Wo < 1) fail(`the ${KH}×${KW} kernel does not fit the padded ${H * up}×${W * up} input`);
  const kernels = opts.kernels ?? 'auto';
  if (!['auto', 'subgroup', 'portable'].includes(kernels)) fail(`kernels must be 'auto', 'subgroup' or 'portable', got '${kernels}'`);
  return { N, Cin, H, W, Cout, KH, KW, stride, padding, up, Ho, Wo, kernels };
}

/** Workgroups for `blocks` column blocks: x (split into x·z past the grid limit) and `rowGroups` on y. */
export function grid(blocks: number, wg: number, rowGroups: number): [number, number, number] {
  const groups = Math.ceil(blocks / wg);
  const maxDim = runtime().limits.maxComputeWorkgroupsPerDimension;
  const z = Math.ceil(groups / maxDim);
  return [Math.ceil(groups / z), rowGroups, z];
}

/**
 * Runs a per-image pass in chunks of images where its operands exceed a storage binding
 * (binding-window.ts): `ins` and `outs` are [N, ...] tensors split along N, `whole` the operands
 * bound whole (weights, bias); `part` gets the chunk's views and geometry (N = its images).
 */
export function byBatch(op: string, g: ConvGeometry, ins: Tensor[], outs: Tensor[], whole: Tensor[],
  part: (ins: Tensor[], outs: Tensor[], g: ConvGeometry) => void): void {
  forDenseRows(op, g.N, [...ins, ...outs], outs.map((_, i) => ins.length + i), whole, (vs, n0, n1) =>
    part(vs.slice(0, ins.length), vs.slice(ins.length), { ...g, N: n1 - n0 }),
  );
}
