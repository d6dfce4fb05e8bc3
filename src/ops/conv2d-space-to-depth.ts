// The 4×4 stride-2 convolutions (padding 1: the encoder's and the discriminator's downsampling
// layers) as 3×3 "same" convolutions over the 2×2 space-to-depth of x, where that lets the forward
// pass and the input gradient take the subgroup window kernel (ops/conv2d-subgroup.ts):
//   xs = spaceToDepth2(x)  [N, 4·Cin, H/2, W/2]  (pixelUnshuffle(x, 2): ops/pixel-shuffle.ts)
//   W3 [Cout, 4·Cin, 3, 3] from w [Cout, Cin, 4, 4]   (shaders/conv2d_space_to_depth.wgsl)
//   y = conv3×3_same(xs, W3);  dx = depthToSpace2(the 3×3 layer's input gradient)
// The 3×3 convolution multiplies 36 taps where 16 are w's (2.25× the FLOPs), and still wins on CPU
// adapters, where the strided layers' scalar kernels ran 4–9 GFLOP/s forward and 1.4–3.9 for the
// input gradient. Side by side (AMD EPYC, medians of 5 alternating rounds, GFLOP/s of the 4×4
// layer, forward / input gradient): 32→32 @16 batch 8 (the default tokenizer's) 8.4 → 9.6 /
// 3.6 → 8.5; 64→64 @8 4.4 → 7.4 / 1.9 → 7.0; batch 16 (the VQGAN preset's and its
// discriminator's): 3→32 @32 6.5 → 8.5 / 1.4 → 6.5, 32→64 @16 9.2 → 11.7 / 3.7 → 10.9, 64→64 @16
// 8.8 → 12.1 / 3.9 → 11.4. The weight gradient the same way was slower (0.35–1.2×: the scalar
// kernel there runs 7–9 GFLOP/s), so it stays direct.

import s2dSrc from '../../shaders/conv2d_space_to_depth.wgsl';
import { runtime } from '../device/runtime.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import type { ConvGeometry } from './conv2d-geometry.js';
import { useSubgroupWindow } from './conv2d-subgroup.js';
import { grid1d, kernel, launch, Params } from './launch.js';

const WEIGHT = kernel('conv2d_space_to_depth', s2dSrc);
const WG = 64;

/**
 * The 3×3 "same" geometry over the space-to-depth of x for a 4×4 stride-2 convolution with padding 1
 * on an even-sided x, or null for any other convolution (and for the portable kernels).
 */
export function spaceToDepthGeometry(g: ConvGeometry): ConvGeometry | null {
  if (g.KH !== 4 || g.KW !== 4 || g.stride !== 2 || g.padding !== 1 || g.up !== 1 || g.H % 2 !== 0 || g.W % 2 !== 0 || g.kernels === 'portable') return null;
  const H = g.H / 2, W = g.W / 2;
  return { N: g.N, Cin: 4 * g.Cin, H, W, Cout: g.Cout, KH: 3, KW: 3, stride: 1, padding: 1, up: 1, Ho: H, Wo: W, kernels: 'auto' };
}

/**
 * Whether the forward pass and the input gradient go through the space-to-depth (s3 from
 * spaceToDepthGeometry): where the subgroup window kernel runs s3 and W3 (2.25× w) fits a binding.
 */
export function spaceToDepthWindow(s3: ConvGeometry | null): s3 is ConvGeometry {
  return s3 !== null && useSubgroupWindow(s3) && 4 * s3.Cout * s3.Cin * 9 <= runtime().maxBindingBytes;
}

/** w [Cout, Cin, 4, 4] (dense) → W3 [Cout, 4·Cin, 3, 3]. */
export function spaceToDepthWeight(w: Tensor): Tensor {
  const [Cout, Cin] = w.shape;
  const w3 = empty([Cout, 4 * Cin, 3, 3]);
  launch(WEIGHT, new Params().u32(Cout, Cin, w3.size, 0), [w, w3], grid1d(w3.size, WG), { WG });
  return w3;
}

