// 2-D convolution (PyTorch layout and semantics): conv2d(x [N, Cin, H, W], w [Cout, Cin, KH, KW],
// bias? [Cout], { stride, padding }) → [N, Cout, Ho, Wo], and conv2dUpsample2x, the same
// convolution applied to the nearest-neighbour 2× upsample of x without materialising it.
//
// Layout and algorithm (chosen on lavapipe, 2-core EPYC shared with other jobs, so timings were noisy):
//   - NCHW throughout, no layout conversion (the rest of the engine is NCHW). Implicit GEMM for all
//     passes, one TM×TN register block per invocation, no shared memory, no barriers; no im2col (it
//     would write and reread a (Cin·KH·KW)×(N·Ho·Wo) buffer, 9× the input for 3×3):
//       forward      rows Cout × columns output pixels,  K = Cin·KH·KW
//       input grad   rows Cin  × columns input pixels,   K = Cout·KH·KW (stride phases skip taps)
//       weight grad  rows Cout × columns Cin (per tap),  K = N·Ho·Wo, split-K into partial sums
//                    added in a fixed order where the grid alone would not fill the device (no atomics)
//       bias grad    per-plane chunk sums, then a row sum (conv2d_bias_grad.wgsl); summed inside
//                    the vec4 weight-gradient kernel where that one runs (conv2dParamGrads)
//   - What costs on llvmpipe (read from its x86 code, GALLIVM_DEBUG=asm): every storage-buffer load,
//     even one whose address is the same for the whole workgroup, is a per-SIMD-lane scalar load with
//     its own bounds check and branches (~10 instructions per lane), while an FMA is 2-3 (mul, add,
//     exec-mask blend). So the kernels minimise loads per FMA: square-ish register blocks, the row
//     window and vec4 weight loads of conv2d_window.wgsl (one bounds check per 4 floats), and lanes
//     over whatever fills the SIMD vector (weight grad: channel-block pairs, not input channels only).
//   - conv2d_window.wgsl (KW = 3, stride 1: every 3×3 layer of the tokenizer, fused 2× upsample
//     included) runs the forward and, with the kernel flipped and channels swapped, the stride-1
//     input gradient; weights are repacked per call (conv2d_pack_weight.wgsl, a few µs of work).
//     Other shapes (4×4 stride 2, 1×1, the fused upsample's input gradient) use conv2d.wgsl and
//     conv2d_grad_input.wgsl; on CPU adapters with subgroups the 4×4 stride-2 layers' forward pass
//     and input gradient run as 3×3 ones over x's space-to-depth (conv2d-space-to-depth.ts).
//     Block 8×8 everywhere: 16×8 was ~1.25× faster per pass but compiles ~3× slower (~15 s per
//     kernel under load); 16×4 and 32×2 lose (the "uniform" side is not cheaper).
//   - Measured (dev A/B of old vs new kernels interleaved in one process, CPU-seconds so that other
//     jobs' load (~15 on 2 cores) distorts less; the tokenizer's convolutions, bench conv2d
//     tokenizer_passes; GFLOP per CPU-second): forward 5.00 → 5.50, input grad 3.99 → 4.21, weight
//     grad 3.38 → 4.25 (Cin = 3/32 layers 1.4–3.9×: their 4 input-channel blocks half-filled an
//     8-lane vector), bias grad 358 → 14 ms per step (it was a permute + strided copy + reduce);
//     all passes 3.30 → 2.59 s per step (1.27×). Matmul 512³ in the same process: 2–6, median ~4.
//     Tokenizer training step (VQGPU_PROFILE=1, 6 steps, same load): 109 s → 60 s; conv kernels +
//     their copies 88 s → 45 s. Per layer, the window kernel gains 1.1–1.5× where the machine let
//     the measurement settle; dispatches are many and small, so noise is ±30% per layer.
//   - Not kept: replacing the `continue` on padding rows with masks (no gain).
//     KH, stride, padding and the upsample factor are uniforms, not overrides: one pipeline per
//     kernel serves every layer (each variant is another multi-second compile).

import convSrc from '../../shaders/conv2d.wgsl';
import gradInputSrc from '../../shaders/conv2d_grad_input.wgsl';
import gradWeightSrc from '../../shaders/conv2d_grad_weight.wgsl';
import biasGradSrc from '../../shaders/conv2d_bias_grad.wgsl';
import packWeightSrc from '../../shaders/conv2d_pack_weight.wgsl';
import windowSrc from '../../shaders/conv2d_window.wgsl';
import windowVec4Src from '../../shaders/conv2d_window_vec4.wgsl';
import gradWeightVec4Src from '../../shaders/conv2d_grad_weight_vec4.wgsl';
import { record } from '../autograd/tape.js';
import { runtime, type KernelSource } from '../device/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, kernel, launch, Params, specialize } from './launch.js';
import { sumOverRows } from './binding-window.js';
import { byBatch, convGeometry, grid, WG_SIZE, type Conv2dOptions, type Conv2dUpsample2xOptions, type ConvGeometry } from './conv2d-geometry.js';
import { contiguous } from './layout.js';
import { subgroupGradWeight, subgroupGradWeightInvocations, subgroupWindowConv, useSubgroupGradWeight, useSubgroupWindow } from './conv2d-subgroup.js';
import { spaceToDepthGeometry, spaceToDepthWeight, spaceToDepthWindow } from './conv2d-space-to-depth.js';
import { depthToSpace2, spaceToDepth2 } from './pixel-shuffle.js';
import { reduceRows } from './reduce.js';

export { convGeometry, type Conv2dOptions, type Conv2dUpsample2xOptions, type ConvGeometry } from './conv2d-geometry.js';
import { upsampleNearest2x } from './upsample.js';

// Register blocks: TM rows (channels) × TN columns per invocation, the same for all three passes.
// On a CPU rasteriser the gathered loads of the lane-varying operand dominate, so a large block that
// amortises them over many FMAs wins even with its accumulators spilled (see the sizes above).
// A GPU wants fewer registers per invocation (not measured here: no GPU on this machine).
const CPU_TILE = { TM: 8, TN: 8 };
const GPU_TILE = { TM: 8, TN: 4 };

interface ConvKernels { tile: { TM: number; TN: number }; fwd: KernelSource; gradIn: KernelSource; gradW: KernelSource }
let kernelsFor: { cpu: boolean; k: ConvKernels } | null = null;

/** The three kernels specialised for this adapter class. */
function convKernels(): ConvKernels {
  const cpu = runtime().isCpu;
  if (kernelsFor?.cpu !== cpu) {
    const tile = cpu ? CPU_TILE : GPU_TILE;
    kernelsFor = {
      cpu,
      k: {
        tile,
        fwd: specialize(kernel('conv2d', convSrc), tile),
        gradIn: specialize(kernel('conv2d_grad_input', gradInputSrc), tile),
        gradW: specialize(kernel('conv2d_grad_weight', gradWeightSrc), tile),
      },
    };
  }
  return kernelsFor.k;
}

const biasGradKernel = kernel('conv2d_bias_grad', biasGradSrc);
const packWeightKernel = kernel('conv2d_pack_weight', packWeightSrc);

/** The row-window kernel (conv2d_window.wgsl) exists for this kernel width only: one more compile. */
const WINDOW_KW = 3;
const WINDOW_TILE = { TM: 8, TN: 8 };
let windowKernel: KernelSource | null = null;
/** conv2d_window_vec4.wgsl by padding and upsampling (template constants), compiled when first used */
const windowVec4Kernels = new Map<string, KernelSource>();


/**
 * Invocations per workgroup of the weight gradient, whose lanes span input-channel blocks only
 * (64 channels are 8 blocks): one SIMD vector on a CPU rasteriser, one warp on a GPU. Fixed per
 * adapter class, like WG_SIZE for the other two passes: every variant is a slow shader compile.
 */
function gradWeightWorkgroup(): number {
  return runtime().isCpu ? 8 : 32;
}

/** Whether conv2d_window.wgsl computes this convolution (stride 1, the kernel width it was built for). */
function windowFits(g: ConvGeometry): boolean {
  return g.stride === 1 && g.KW === WINDOW_KW;
}

/**
 * w [Cout, Cin, KH, KW] → wp [A·KH·KW, cols] for conv2d_window(_vec4).wgsl: A = Cin and columns =
 * output channels (flip false), or A = Cout, columns = input channels and the kernel flipped (flip
 * true: the input gradient), the columns zero-padded to a multiple of the window kernel's TM.
 */
function packWeights(w: Tensor, flip: boolean): Tensor {
  const [Cout, Cin, KH, KW] = w.shape;
  const [A, B] = flip ? [Cout, Cin] : [Cin, Cout];
  const cols = Math.ceil(B / WINDOW_TILE.TM) * WINDOW_TILE.TM;
  const total = A * KH * KW * cols;
  const wp = empty([A * KH * KW, cols]);
  const p = new Params().u32(A, B, KH, KW, cols, flip ? 1 : 0, total, Cin);
  launch(packWeightKernel, p, [w, wp], grid1d(total, WG_SIZE), { WG: WG_SIZE });
  return wp;
}

/**
 * Whether conv2d_window_vec4.wgsl can run it: rows of a multiple of 4 floats in and out, and a
 * window of aligned vec4s xv[ox0 - 4·up, ox0 + TN + 4·up) that covers every tap.
 */
function vec4WindowFits(g: ConvGeometry): boolean {
  return g.W % 4 === 0 && g.Wo % 4 === 0 && g.padding <= 4 && g.KW - 1 - g.padding <= 4;
}

/**
 * y = conv(x, w) + bias by a window kernel, g the convolution as run: w is the layer's weights, or
 * with `flip` (the stride-1 input gradient, g with the channels swapped) the layer's weights to be
 * read flipped. The subgroup kernel reads w where it lies; the others read it repacked (packWeights).
 */
function windowConv(x: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry, flip: boolean): Tensor {
  const y = empty([g.N, g.Cout, g.Ho, g.Wo]);
  const sub = useSubgroupWindow(g);
  const wk = sub ? w : packWeights(w, flip);
  byBatch('conv2d', g, [x], [y], [wk, ...(bias ? [bias] : [])], ([xv], [yv], gc) =>
    sub ? subgroupWindowConv(xv, wk, bias, gc, yv, flip) : windowConvPart(xv, wk, bias, gc, yv));
  if (wk !== w) wk.dispose();
  return y;
}

function windowConvPart(x: Tensor, wp: Tensor, bias: Tensor | null, g: ConvGeometry, y: Tensor): void {
  let k: KernelSource;
  if (vec4WindowFits(g)) {
    const key = `${g.padding},${g.up}`;
    k = windowVec4Kernels.get(key) ?? specialize(kernel('conv2d_window_vec4', windowVec4Src), { ...WINDOW_TILE, KW: WINDOW_KW, PAD: g.padding, UP: g.up });
    windowVec4Kernels.set(key, k);
  } else {
    k = windowKernel ??= specialize(kernel('conv2d_window', windowSrc), { ...WINDOW_TILE, KW: WINDOW_KW });
  }
  const { TM, TN } = WINDOW_TILE;
  const xblocks = Math.ceil(g.Wo / TN);
  const blocks = g.N * g.Ho * xblocks;
  const p = new Params().u32(g.N, g.Cin, g.H, g.W, g.Cout, g.Ho, g.Wo, xblocks, blocks, g.KH, g.padding, g.up, bias ? 1 : 0, wp.shape[1] / 4);
  launch(k, p, [x, wp, bias ?? wp, y], grid(blocks, WG_SIZE, Math.ceil(g.Cout / TM)), { WG: WG_SIZE });
}

/** y = conv(x, w) + bias with no autograd. x, w, bias dense. */
export function conv2dForward(x: Tensor, w: Tensor, bias: Tensor | null, g: ConvGeometry): Tensor {
  if (windowFits(g)) {
    return windowConv(x, w, bias, g, false);
  }
  const s3 = spaceToDepthGeometry(g);
  if (spaceToDepthWindow(s3)) {
    const xs = spaceToDepth2(x), w3 = spaceToDepthWeight(w);
    const y = windowConv(xs, w3, bias, s3, false);
    xs.dispose();
    w3.dispose();
    return y;
  }
  const { fwd, tile } = convKernels();
  const y = empty([g.N, g.Cout, g.Ho, g.Wo]);
  byBatch('conv2d', g, [x], [y], [w, ...(bias ? [bias] : [])], ([xv], [yv], gc) => {
    const xblocks = Math.ceil(gc.Wo / tile.TN);
    const blocks = gc.N * gc.Ho * xblocks;
    const p = new Params().u32(gc.N, gc.Cin, gc.H, gc.W, gc.Cout, gc.Ho, gc.Wo, xblocks, blocks, gc.KH, gc.KW, gc.stride, gc.padding, gc.up, bias ? 1 : 0);
    // Without a bias any buffer fills its binding (the kernel does not read it).
    launch(fwd, p, [xv, w, bias ?? w, yv], grid(blocks, WG_SIZE, Math.ceil(gc.Cout / tile.TM)), { WG: WG_SIZE });
  });
  return y;
}

/** The stride-1 convolution whose output is g's input gradient: gy convolved with g's kernel flipped, channels swapped. */
function swappedForInputGrad(g: ConvGeometry): ConvGeometry {
  return {
    N: g.N, Cin: g.Cout, H: g.Ho, W: g.Wo, Cout: g.Cin, KH: g.KH, KW: g.KW,
    stride: 1, padding: g.KH - 1 - g.padding, up: 1, Ho: g.H, Wo: g.W, kernels: g.kernels,
  };
}

/** dx [N, Cin, H, W] from the output gradient gy [N, Cout, Ho, Wo] (dense) and w. */
export function conv2dGradInput(gy: Tensor, w: Tensor, g: ConvGeometry): Tensor {
  // Stride 1 without the fused upsample: dx = gy convolved with the flipped kernel, channels swapped,
  // padding KW - 1 - P (one padding for both axes: a square kernel, and P ≤ KW - 1).
  if (windowFits(g) && g.up === 1 && g.KH === g.KW && g.padding <= g.KW - 1) {
    return windowConv(gy, w, null, swappedForInputGrad(g), true);
  }
  const s3 = spaceToDepthGeometry(g);
  if (spaceToDepthWindow(s3)) {
    const w3 = spaceToDepthWeight(w);
    const dxs = windowConv(gy, w3, null, swappedForInputGrad(s3), true);
    const dx = depthToSpace2(dxs);
    w3.dispose();
    dxs.dispose();
    return dx;
  }
  const { gradIn, tile } = convKernels();
  const dx = empty([g.N, g.Cin, g.H, g.W]);
  byBatch('conv2d input gradient', g, [gy], [dx], [w], ([gv], [dv], gc) => {
    const mblocks = Math.ceil(Math.ceil(gc.W / gc.stride) / tile.TN);
    const blocks = gc.N * gc.H * gc.stride * mblocks;
    const p = new Params().u32(gc.N, gc.Cin, gc.H, gc.W, gc.Cout, gc.Ho, gc.Wo, mblocks, blocks, gc.KH, gc.KW, gc.stride, gc.padding, gc.up);
    launch(gradIn, p, [gv, w, dv], grid(blocks, WG_SIZE, Math.ceil(gc.Cin / tile.TM)), { WG: WG_SIZE });
  });
  return dx;
}

/**
 * The 3×3 "same" convolutions on rows of a multiple of 4 that conv2d_grad_weight_vec4.wgsl handles;
 * from 16 pixels a row (measured: at 8 the per-row set-up outweighs the fewer loads).
 */
function vec4GradWeightFits(g: ConvGeometry): boolean {
  return g.stride === 1 && g.up === 1 && g.KH === 3 && g.KW === 3 && g.padding === 1 && g.W % 4 === 0 && g.W >= 16;
}
const GRAD_WEIGHT_VEC4_TILE = { TM: 4, TN: 4 };
let gradWeightVec4Kernel: KernelSource | null = null;

/** dw [Cout, Cin, KH, KW] from gy [N, Cout, Ho, Wo] and x (dense). Deterministic. */
export function conv2dGradWeight(gy: Tensor, x: Tensor, g: ConvGeometry): Tensor {
  return conv2dParamGrads(gy, x, g, false)[0];
}

/**
 * dw [Cout, Cin, KH, KW] and, when `bias`, dbias [Cout] from gy [N, Cout, Ho, Wo] and x (dense).
 * The vec4 weight-gradient kernel sums the bias alongside (one pass and one row reduction for
 * both); other shapes take conv2dBiasGrad. Deterministic.
 */
export function conv2dParamGrads(gy: Tensor, x: Tensor, g: ConvGeometry, bias: boolean): [Tensor, Tensor | null] {
  // (over a storage binding: the sums of chunks of images, added up)
  return sumOverRows('conv2d weight gradient', g.N, [gy, x], [], ([gv, xv], n0, n1) => paramGradsPart(gv, xv, { ...g, N: n1 - n0 }, bias));
}

function paramGradsPart(gy: Tensor, x: Tensor, g: ConvGeometry, bias: boolean): [Tensor, Tensor | null] {
  const sub = useSubgroupGradWeight(g);
  const vec4 = !sub && vec4GradWeightFits(g);
  const { gradW, tile } = vec4 ? { gradW: (gradWeightVec4Kernel ??= kernel('conv2d_grad_weight_vec4', gradWeightVec4Src)), tile: GRAD_WEIGHT_VEC4_TILE } : convKernels();
  const KK = g.KH * g.KW;
  // The vec4 and subgroup kernels' workgroups own a kernel row (all KW taps), the other's one tap.
  const taps = sub || vec4 ? g.KH : KK;
  const ciBlocks = Math.ceil(g.Cin / tile.TN), coBlocks = Math.ceil(g.Cout / tile.TM);
  const wg = gradWeightWorkgroup();
  const invocations = sub ? subgroupGradWeightInvocations(g) : ciBlocks * coBlocks * taps;
  // Split the N·Ho rows of the reduction until the grid fills the device (each split keeps ≥ 4 rows).
  const target = runtime().isCpu ? 256 : 32768;
  const rows = g.N * g.Ho;
  const maxZ = runtime().limits.maxComputeWorkgroupsPerDimension;
  const fusedBias = (sub || vec4) && bias;
  const partRows = g.Cout * g.Cin * KK + (fusedBias ? g.Cout : 0);
  const splits = Math.max(1, Math.min(Math.ceil(target / invocations), Math.floor(rows / 4), Math.floor(maxZ / taps),
    Math.floor(runtime().maxBindingBytes / (4 * partRows)))); // the partial sums within one binding
  const rowsPerSplit = Math.ceil(rows / splits);
  const nsplit = Math.ceil(rows / rowsPerSplit);
  const part = empty([partRows, nsplit]);
  if (sub) {
    subgroupGradWeight(gy, x, part, g, rowsPerSplit, nsplit, fusedBias);
  } else {
    const p = vec4
      ? new Params().u32(g.N, g.Cin, g.H, g.W, g.Cout, g.Ho, g.Wo, rowsPerSplit, g.KH, ciBlocks, nsplit, fusedBias ? 1 : 0)
      : new Params().u32(g.N, g.Cin, g.H, g.W, g.Cout, g.Ho, g.Wo, rowsPerSplit, g.KH, g.KW, g.stride, g.padding, g.up, ciBlocks, nsplit);
    launch(gradW, p, [gy, x, part], [Math.ceil((ciBlocks * coBlocks) / wg), 1, taps * nsplit], { WG: wg });
  }
  const sums = nsplit === 1 ? part : reduceRows(part, 'sum');
  const dw = sums.view([g.Cout, g.Cin, g.KH, g.KW], [g.Cin * KK, KK, g.KW, 1], 0);
  const db = fusedBias ? sums.view([g.Cout], [1], g.Cout * g.Cin * KK) : bias ? conv2dBiasGrad(gy) : null;
  if (sums !== part) sums.dispose();
  part.dispose();
  return [dw, db];
}

/**
 * dbias [Cout] = Σ_{n, y, x} gy[n, co, y, x] for the dense output gradient gy [N, Cout, Ho, Wo]:
 * chunked plane sums (conv2d_bias_grad.wgsl) into part [Cout, N·chunks], then a row sum.
 */
export function conv2dBiasGrad(gy: Tensor): Tensor {
  return sumOverRows('conv2d bias gradient', gy.shape[0], [gy], [], ([gz]) => [biasGradPart(gz)])[0];
}

function biasGradPart(gy: Tensor): Tensor {
  const [N, Cout, Ho, Wo] = gy.shape;
  const HW = Ho * Wo;
  // Enough invocations for every core (several workgroups per CPU thread), chunks of ≥ 64 elements.
  const target = runtime().isCpu ? 512 : 16384;
  const chunks = Math.max(1, Math.min(Math.ceil(target / (N * Cout)), Math.floor(HW / 64)));
  const chunkLen = Math.ceil(HW / chunks);
  const nchunks = Math.ceil(HW / chunkLen);
  const total = Cout * N * nchunks;
  const part = empty([Cout, N * nchunks]);
  launch(biasGradKernel, new Params().u32(N, Cout, HW, nchunks, chunkLen, total), [gy, part], grid1d(total, WG_SIZE), { WG: WG_SIZE });
  const db = reduceRows(part, 'sum');
  part.dispose();
  return db;
}

/** Forward and the autograd record shared by conv2d and conv2dUpsample2x. */
function convolve(op: string, x: Tensor, w: Tensor, bias: Tensor | null, geo: ConvGeometry): Tensor {
  const xc = contiguous(x), wc = contiguous(w), bc = bias ? contiguous(bias) : null;
  const y = conv2dForward(xc, wc, bc, geo);
  xc.dispose();
  wc.dispose();
  bc?.dispose();
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, op, inputs, (gy) => {
    const gc = contiguous(gy);
    let gx: Tensor | null = null, gw: Tensor | null = null, gb: Tensor | null = null;
    if (x.requiresGrad) {
      const wd = contiguous(w);
      gx = conv2dGradInput(gc, wd, geo);
      wd.dispose();
    }
    if (w.requiresGrad) {
      const xd = contiguous(x);
      [gw, gb] = conv2dParamGrads(gc, xd, geo, !!bias?.requiresGrad);
      xd.dispose();
    } else if (bias?.requiresGrad) {
      gb = conv2dBiasGrad(gc);
    }
    gc.dispose();
    return bias ? [gx, gw, gb] : [gx, gw];
  });
}

/**
 * 2-D convolution, PyTorch semantics: x [N, Cin, H, W], w [Cout, Cin, KH, KW], bias [Cout] →
 * [N, Cout, Ho, Wo] with Ho = ⌊(H + 2·padding − KH) / stride⌋ + 1 (zero padding on every side).
 */
export function conv2d(x: Tensor, w: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  return convolve('conv2d', x, w, bias ?? null, convGeometry('conv2d', x, w, bias ?? null, opts, 1));
}

/**
 * Whether conv2dUpsample2x runs the fused kernels by default. On a CPU adapter the unfused pair is
 * faster where the upsampled convolution takes both vec4 kernels (rows of a multiple of 4 floats,
 * 3×3 same, ≥ 16 wide): the 4× tensor is cheap in host memory, while the fused input and weight
 * gradients fall back to the scalar kernels (bench conv2d B8_C128_H16_W16_K3_up2 on lavapipe: fused
 * 10.6, unfused 12.2 GFLOP/s). On a GPU the fused kernels save the 4× tensor's memory traffic.
 */
function fuseUpsampleByDefault(unfused: ConvGeometry): boolean {
  return !runtime().isCpu || !(vec4WindowFits(unfused) && vec4GradWeightFits(unfused));
}

/**
 * conv2d(upsampleNearest2x(x), w, bias, { padding }) with stride 1, fused: the convolution reads
 * x through the 2× nearest-neighbour index map, so the 4× larger upsampled tensor never exists,
 * and its gradient sums each 2×2 block inside the input-gradient kernel. x [N, Cin, H, W] →
 * [N, Cout, 2H + 2·padding − KH + 1, …]. `fuse` forces the fused kernels (true) or the unfused pair
 * (false); by default the adapter decides (fuseUpsampleByDefault). Same values either way.
 */
export function conv2dUpsample2x(x: Tensor, w: Tensor, bias?: Tensor | null, opts: Conv2dUpsample2xOptions = {}): Tensor {
  const geo = convGeometry('conv2dUpsample2x', x, w, bias ?? null, opts, 2);
  // The same convolution over the materialised upsample (the geometry is already validated).
  const unfused: ConvGeometry = { ...geo, H: 2 * geo.H, W: 2 * geo.W, up: 1 };
  if (!(opts.fuse ?? fuseUpsampleByDefault(unfused))) return convolve('conv2d', upsampleNearest2x(x), w, bias ?? null, unfused);
  return convolve('conv2dUpsample2x', x, w, bias ?? null, geo);
}
