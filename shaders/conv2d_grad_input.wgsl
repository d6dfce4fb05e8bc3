// 2-D convolution, gradient with respect to the input (NCHW), as an implicit GEMM:
//   dx[n, ci, y, x] = Σ_{sy, sx < UP} Σ_{co, ky, kx} w[co, ci, ky, kx] · g[n, co, oy, ox]
//   where UP·y + sy = oy·S - P + ky and UP·x + sx = ox·S - P + kx (taps that do not divide by S skip).
// GEMM view: rows = input channels (Cin), columns = input pixels, K = Cout·KH·KW (·UP² when fused
// with the nearest 2× upsample, whose backward sums each 2×2 block: UP = 2 needs S = 1).
// Each invocation owns TM input channels × TN pixels of one input row. With stride S the row's
// pixels are split by phase x mod S, and an invocation's pixels share it (x = q + S·(m·TN + j)):
// then whether a tap divides by S is the same for all its pixels, and the wrong-phase taps are
// skipped instead of masked (a 4×4 stride-2 kernel would otherwise waste 3/4 of its FMAs).
// No shared memory, no barriers, workgroups 1-D along pixels with the channel block uniform (see
// conv2d.wgsl); masks per tap, reused over all Cout channels.

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,             // dx: [N, Cin, H, W]
  Cout: u32, Ho: u32, Wo: u32, mblocks: u32,    // g: [N, Cout, Ho, Wo]; mblocks = ceil(ceil(W / S) / TN)
  blocks: u32, KH: u32, KW: u32, STRIDE: u32,   // N·H·S·mblocks pixel blocks; the kernel's size; stride
  PAD: u32, UP: u32, _p0: u32, _p1: u32,        // zero padding on every side; UP: 1, or 2 when fused
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;      // [Cout, Cin, KH, KW]
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

const TM: u32 = 4u;   // input channels per invocation
const TN: u32 = 4u;   // input pixels per invocation
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let blk = gid.x + wid.z * nwg.x * WG;
  let ci0 = wid.y * TM;                    // uniform across the workgroup
  if (blk >= p.blocks || ci0 >= p.Cin) { return; }
  let per_row = p.STRIDE * p.mblocks;
  let cb = blk % per_row;
  let row = blk / per_row;                 // n·H + y
  let y = row % p.H;
  let n = row / p.H;
  let q = cb / p.mblocks;                  // phase x mod S of this block's pixels
  let m = cb % p.mblocks;
  let S = i32(p.STRIDE);
  let KK = p.KH * p.KW;
  let gplane = p.Ho * p.Wo;

  var acc: array<array<f32, TN>, TM>;
  var wcol: array<u32, TM>;                // w offset of each input channel (clamped in bounds)
  for (var i = 0u; i < TM; i++) {
    wcol[i] = min(ci0 + i, p.Cin - 1u) * KK;
    for (var j = 0u; j < TN; j++) { acc[i][j] = 0.0; }
  }
  let gbase = n * p.Cout * gplane;

  for (var sy = 0u; sy < p.UP; sy++) {
    for (var ky = 0u; ky < p.KH; ky++) {
      let ty = i32(y * p.UP + sy + p.PAD) - i32(ky);
      if (ty < 0 || ty % S != 0 || ty / S >= i32(p.Ho)) { continue; }
      let grow = gbase + u32(ty / S) * p.Wo;
      for (var sx = 0u; sx < p.UP; sx++) {
        for (var kx = 0u; kx < p.KW; kx++) {
          // t0 = (virtual column of pixel 0) + P - kx; pixel j's is t0 + UP·S·j.
          let t0 = i32(p.UP * q + sx + p.PAD) - i32(kx) + i32(p.UP * p.STRIDE * m * TN);
          if (((t0 % S) + S) % S != 0) { continue; }   // wrong phase for this tap
          let ox0 = t0 / S;                             // exact
          var goff: array<u32, TN>;
          var ok: array<bool, TN>;
          for (var j = 0u; j < TN; j++) {
            let ox = ox0 + i32(p.UP * j);
            ok[j] = ox >= 0 && ox < i32(p.Wo) && q + p.STRIDE * (m * TN + j) < p.W;
            goff[j] = grow + u32(clamp(ox, 0, i32(p.Wo) - 1));
          }
          var woff = ky * p.KW + kx;
          var gc = 0u;
          for (var co = 0u; co < p.Cout; co++) {
            var gv: array<f32, TN>;
            var wv: array<f32, TM>;
            for (var j = 0u; j < TN; j++) { gv[j] = select(0.0, g[goff[j] + gc], ok[j]); }
            for (var i = 0u; i < TM; i++) { wv[i] = w[wcol[i] + woff]; }
            for (var i = 0u; i < TM; i++) {
              for (var j = 0u; j < TN; j++) { acc[i][j] = fma(wv[i], gv[j], acc[i][j]); }
            }
            gc += gplane;
            woff += p.Cin * KK;
          }
        }
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let ci = ci0 + i;
    if (ci >= p.Cin) { break; }
    let base = ((n * p.Cin + ci) * p.H + y) * p.W;
    for (var j = 0u; j < TN; j++) {
      let xj = q + p.STRIDE * (m * TN + j);
      if (xj < p.W) { dx[base + xj] = acc[i][j]; }
    }
  }
}
