// Space-to-depth and back (PyTorch's pixel_unshuffle / pixel_shuffle), as a reshape and a permute
// (the reshape makes one dense copy; autograd through both):
//   pixelUnshuffle: x [N, C, H, W] → [N, C·p², H/p, W/p], channel c·p² + i·p + j holding pixel (i, j)
//                   of each p×p patch
//   pixelShuffle:   its inverse, [N, C·p², H, W] → [N, C, H·p, W·p]

import { fmt } from './launch.js';
import { permute, reshape } from './layout.js';
import type { Tensor } from '../tensor/tensor.js';

export function pixelUnshuffle(x: Tensor, p: number): Tensor {
  if (x.rank !== 4) throw new Error(`pixelUnshuffle: expects [N, C, H, W], got ${fmt(x.shape)}.`);
  const [n, c, h, w] = x.shape;
  if (!Number.isInteger(p) || p < 1 || h % p !== 0 || w % p !== 0) throw new Error(`pixelUnshuffle: ${fmt(x.shape)} does not split into ${p}×${p} patches.`);
  const t = permute(reshape(x, [n, c, h / p, p, w / p, p]), [0, 1, 3, 5, 2, 4]); // [N, C, p, p, H/p, W/p]
  return reshape(t, [n, c * p * p, h / p, w / p]);
}

export function pixelShuffle(x: Tensor, p: number): Tensor {
  if (x.rank !== 4) throw new Error(`pixelShuffle: expects [N, C·p², H, W], got ${fmt(x.shape)}.`);
  const [n, cp, h, w] = x.shape;
  if (!Number.isInteger(p) || p < 1 || cp % (p * p) !== 0) throw new Error(`pixelShuffle: ${cp} channels of ${fmt(x.shape)} are not a multiple of ${p}² = ${p * p}.`);
  const c = cp / (p * p);
  const t = permute(reshape(x, [n, c, p, p, h, w]), [0, 1, 4, 2, 5, 3]); // [N, C, H, p, W, p]
  return reshape(t, [n, c, h * p, w * p]);
}
