// Space-to-depth and back (PyTorch's pixel_unshuffle / pixel_shuffle), as a reshape and a permute
// (the reshape makes one dense copy; autograd through both):
//   pixelUnshuffle: x [N, C, H, W] → [N, C·p², H/p, W/p], channel c·p² + i·p + j holding pixel (i, j)
//                   of each p×p patch
//   pixelShuffle:   its inverse, [N, C·p², H, W] → [N, C, H·p, W·p]
// p = 2 on rows of a multiple of 4 pixels (the tokenizer's default patch) takes its own kernels
// (shaders/pixel_shuffle.wgsl), which the 4×4 stride-2 convolutions use too
// (ops/conv2d-space-to-depth.ts): the strided copy's per-element 6-D index walk cost 0.5–2.7 ms a
// call on lavapipe.

import pixelShuffleSrc from '../../shaders/pixel_shuffle.wgsl';
import { record } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { forDenseRows } from './binding-window.js';
import { fmt, grid1d, kernel, launch, Params } from './launch.js';
import { contiguous, permute, reshape } from './layout.js';

const PIXEL_SHUFFLE = kernel('pixel_shuffle', pixelShuffleSrc);
const WG = 64;

/** x [N, C, 2h, 2w] (dense f32, w even) → [N, 4·C, h, w] = pixelUnshuffle(x, 2), no autograd. */
export function spaceToDepth2(x: Tensor): Tensor {
  const [N, C, H, W] = x.shape;
  const out = empty([N, 4 * C, H / 2, W / 2]);
  phases(true, x, out, H / 2, W / 2);
  return out;
}

/** The inverse: xs [N, 4·C, h, w] (dense f32, w even) → [N, C, 2h, 2w] = pixelShuffle(xs, 2), no autograd. */
export function depthToSpace2(xs: Tensor): Tensor {
  const [N, C4, h, w] = xs.shape;
  const out = empty([N, C4 / 4, 2 * h, 2 * w]);
  phases(false, out, xs, h, w);
  return out;
}

/**
 * x [N, C, 2h, 2w] into xs [N, 4·C, h, w] (toDepth) or back, in chunks of images where they exceed
 * a storage binding.
 */
function phases(toDepth: boolean, x: Tensor, xs: Tensor, h: number, w: number): void {
  if (!x.size) return;
  forDenseRows('pixelShuffle', x.shape[0], [x, xs], [toDepth ? 1 : 0], [], ([xv, sv]) => {
    const rows = xv.shape[0] * xv.shape[1] * 2 * h; // N·C·2h of the chunk
    launch(PIXEL_SHUFFLE, new Params().u32(rows, h, w, 0), [xv, sv], grid1d(rows, WG), { WG, TO_DEPTH: toDepth ? 1 : 0 });
  });
}

/** Whether the p = 2 kernels take a half-size grid of h × w (w even: a vec4 of the full rows). */
const fastTwo = (p: number, t: Tensor, w: number) => p === 2 && t.dtype === 'f32' && w % 2 === 0;

/** `op` (one of the p = 2 kernels) with autograd through `inverse`. */
function viaKernel(name: string, x: Tensor, op: (t: Tensor) => Tensor, inverse: (t: Tensor) => Tensor): Tensor {
  const xc = contiguous(x);
  const out = op(xc);
  xc.dispose();
  return record(out, name, [x], (g) => {
    const gc = contiguous(g);
    const dx = inverse(gc);
    gc.dispose();
    return [dx];
  });
}

export function pixelUnshuffle(x: Tensor, p: number): Tensor {
  if (x.rank !== 4) throw new Error(`pixelUnshuffle: expects [N, C, H, W], got ${fmt(x.shape)}.`);
  const [n, c, h, w] = x.shape;
  if (!Number.isInteger(p) || p < 1 || h % p !== 0 || w % p !== 0) throw new Error(`pixelUnshuffle: ${fmt(x.shape)} does not split into ${p}×${p} patches.`);
  if (fastTwo(p, x, w / 2)) return viaKernel('pixelUnshuffle', x, spaceToDepth2, depthToSpace2);
  const t = permute(reshape(x, [n, c, h / p, p, w / p, p]), [0, 1, 3, 5, 2, 4]); // [N, C, p, p, H/p, W/p]
  return reshape(t, [n, c * p * p, h / p, w / p]);
}

export function pixelShuffle(x: Tensor, p: number): Tensor {
  if (x.rank !== 4) throw new Error(`pixelShuffle: expects [N, C·p², H, W], got ${fmt(x.shape)}.`);
  const [n, cp, h, w] = x.shape;
  if (!Number.isInteger(p) || p < 1 || cp % (p * p) !== 0) throw new Error(`pixelShuffle: ${cp} channels of ${fmt(x.shape)} are not a multiple of ${p}² = ${p * p}.`);
  const c = cp / (p * p);
  if (fastTwo(p, x, w)) return viaKernel('pixelShuffle', x, depthToSpace2, spaceToDepth2);
  const t = permute(reshape(x, [n, c, p, p, h, w]), [0, 1, 4, 2, 5, 3]); // [N, C, H, p, W, p]
  return reshape(t, [n, c, h * p, w * p]);
}
