// 2-D convolution, stride 1, NCHW, for a kernel width KW fixed at compile time (conv2d.ts
// specialises KW = 3): the forward pass, and the input gradient of a stride-1 convolution (the same
// convolution of the output gradient with the flipped, channel-swapped kernel; see
// conv2d_pack_weight.wgsl).
//   y[n, co, oy, ox] = bias[co] + Σ_{ci, ky, kx} wp[(ci·KH + ky)·KW + kx, co] · xv[n, ci, oy - P + ky, ox - P + kx]
// Why a second kernel beside conv2d.wgsl: on a CPU rasteriser (llvmpipe) every load whose address
// differs between invocations costs one bounds-checked scalar load per SIMD lane, far more than an
// FMA, so this kernel is built to load less per FMA:
//   - Row window: for one (input row, channel), an invocation's TN output pixels read the TN + KW - 1
//     consecutive inputs x[ox0 - P .. ox0 + TN + KW - 2 - P] under all KW taps: they are loaded once
//     into registers and each tap indexes them at a compile-time offset (KW is const), instead of
//     KW·TN separate loads.
//   - Weights packed [Cin·KH·KW, cols] with the output channels contiguous: the TM weights of a tap
//     are TM/4 vec4 loads (one bounds check per vec4 instead of per float).
// Loop order: ky outside (the row's padding masks and addresses are set once per ky and reused over
// all Cin), channels, then the KW taps unrolled. xv as in conv2d.wgsl (up = 2: read x upsampled 2×).

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,             // x: [N, Cin, H, W] as stored
  Cout: u32, Ho: u32, Wo: u32, xblocks: u32,    // y: [N, Cout, Ho, Wo]; xblocks = ceil(Wo / TN)
  blocks: u32, KH: u32, PAD: u32, up: u32,      // N·Ho·xblocks pixel blocks; kernel height; padding; 1 or 2
  has_bias: u32, cols4: u32, _p0: u32, _p1: u32,  // cols4 = (columns of wp) / 4
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> wp: array<vec4<f32>>;   // [Cin·KH·KW, cols] (cols = 4·cols4)
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // [Cout] (any buffer when has_bias is 0)
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

const TM: u32 = 8u;   // output channels per invocation (a multiple of 4)
const TN: u32 = 8u;   // output pixels per invocation
const KW: u32 = 3u;   // kernel width
const XW: u32 = TN + KW - 1u;   // inputs one row of the window reads
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let blk = gid.x + wid.z * nwg.x * WG;
  let co0 = wid.y * TM;
  if (blk >= p.blocks || co0 >= p.Cout) { return; }
  let ox0 = (blk % p.xblocks) * TN;
  let row = blk / p.xblocks;               // n·Ho + oy
  let oy = row % p.Ho;
  let n = row / p.Ho;
  let Hv = i32(p.H * p.up);
  let Wv = i32(p.W * p.up);
  let up_shift = p.up - 1u;
  let plane = p.H * p.W;

  var acc: array<array<f32, TN>, TM>;
  for (var i = 0u; i < TM; i++) {
    let b = select(0.0, bias[min(co0 + i, p.Cout - 1u)], p.has_bias != 0u);
    for (var j = 0u; j < TN; j++) { acc[i][j] = b; }
  }
  let xbase = n * p.Cin * plane;
  let wstep = p.KH * KW * p.cols4;         // vec4s from one input channel's taps to the next

  for (var ky = 0u; ky < p.KH; ky++) {
    let iy = i32(oy + ky) - i32(p.PAD);
    let row_ok = iy >= 0 && iy < Hv;
    let xrow = xbase + (u32(clamp(iy, 0, Hv - 1)) >> up_shift) * p.W;
    // The window's inputs: where each reads in channel 0, and whether it is inside the image.
    var xoff: array<u32, XW>;
    var ok: array<bool, XW>;
    for (var e = 0u; e < XW; e++) {
      let ix = i32(ox0 + e) - i32(p.PAD);
      ok[e] = row_ok && ix >= 0 && ix < Wv;
      xoff[e] = xrow + (u32(clamp(ix, 0, Wv - 1)) >> up_shift);
    }
    var woff = ky * KW * p.cols4 + co0 / 4u;
    var xc = 0u;
    for (var ci = 0u; ci < p.Cin; ci++) {
      var xv: array<f32, XW>;
      for (var e = 0u; e < XW; e++) { xv[e] = select(0.0, x[xoff[e] + xc], ok[e]); }
      for (var kx = 0u; kx < KW; kx++) {
        var wv: array<f32, TM>;
        for (var q = 0u; q < TM / 4u; q++) {
          let v = wp[woff + kx * p.cols4 + q];
          wv[4u * q] = v.x;
          wv[4u * q + 1u] = v.y;
          wv[4u * q + 2u] = v.z;
          wv[4u * q + 3u] = v.w;
        }
        for (var i = 0u; i < TM; i++) {
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(wv[i], xv[j + kx], acc[i][j]); }
        }
      }
      xc += plane;
      woff += wstep;
    }
  }

  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    let ybase = ((n * p.Cout + co) * p.Ho + oy) * p.Wo;
    for (var j = 0u; j < TN; j++) {
      if (ox0 + j < p.Wo) { y[ybase + ox0 + j] = acc[i][j]; }
    }
  }
}
