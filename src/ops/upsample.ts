// Nearest-neighbour 2× upsampling of NCHW images (upsample.wgsl): x [N, C, H, W] → [N, C, 2H, 2W],
// each pixel copied to a 2×2 block; its gradient sums each 2×2 block back. A decoder that convolves
// right after should prefer conv2dUpsample2x (ops/conv2d.ts), which fuses the two.

import upsampleSrc from '../../shaders/upsample.wgsl';
import { record } from '../autograd/tape.js';
import { empty, type Tensor } from '../tensor/tensor.js';
import { fmt, grid1d, kernel, launch, Params } from './launch.js';
import { contiguous } from './layout.js';
import { forDenseRows } from './binding-window.js';

const UP_FWD = kernel('upsample', upsampleSrc, 'forward');
const UP_BWD = kernel('upsample', upsampleSrc, 'backward');
const WG = 64;

/** Sums each 2×2 block of g [N, C, 2H, 2W] (dense) → [N, C, H, W]. No autograd. */
export function upsampleNearest2xGrad(g: Tensor): Tensor {
  const [N, C, H2, W2] = g.shape;
  const H = H2 / 2, W = W2 / 2;
  const dx = empty([N, C, H, W]);
  if (dx.size) byPlanes(N * C, g, dx, (gv, dv) => launch(UP_BWD, new Params().u32(dv.size, H, W, 0), [gv, dv], grid1d(dv.size, WG), { WG }));
  return dx;
}

/** `run(src, dst)` over dense [planes, ...] tensors, in chunks of planes over a storage binding. */
function byPlanes(planes: number, src: Tensor, dst: Tensor, run: (src: Tensor, dst: Tensor) => void): void {
  forDenseRows('upsample', planes, [src, dst], [1], [], ([s, d]) => run(s, d));
}

/** x [N, C, H, W] → [N, C, 2H, 2W], nearest neighbour. */
export function upsampleNearest2x(x: Tensor): Tensor {
  x.assertAlive();
  if (x.rank !== 4 || x.dtype !== 'f32') {
    throw new Error(`upsampleNearest2x: expects an f32 tensor [N, C, H, W], got ${x.dtype} ${fmt(x.shape)}.`);
  }
  const [N, C, H, W] = x.shape;
  const out = empty([N, C, 2 * H, 2 * W]);
  if (out.size) {
    const xc = contiguous(x);
    byPlanes(N * C, xc, out, (xv, ov) => launch(UP_FWD, new Params().u32(ov.size, H, W, 0), [xv, ov], grid1d(ov.size, WG), { WG }));
    xc.dispose();
  }
  return record(out, 'upsampleNearest2x', [x], (g) => {
    const gc = contiguous(g);
    const dx = upsampleNearest2xGrad(gc);
    gc.dispose();
    return [dx];
  });
}
