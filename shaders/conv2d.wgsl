// 2-D convolution forward, NCHW, as an implicit GEMM (no im2col buffer):
//   y[n, co, oy, ox] = bias[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx] · xv[n, ci, oy·S - P + ky, ox·S - P + kx]
// GEMM view: rows = output channels (Cout), columns = output pixels, K = Cin·KH·KW.
// Each invocation owns a TM×TN register block: TM output channels × TN consecutive pixels of one
// output row. No shared memory, no barriers (on llvmpipe a workgroup's invocations are SIMD lanes
// of one CPU thread, where barriers are expensive). Workgroups are 1-D along pixels and the channel
// block comes from workgroup_id.y, so weight addresses are uniform across the workgroup (a broadcast
// in the cache on a GPU; llvmpipe still loads them lane by lane, see ops/conv2d.ts).
// conv2d.ts routes 3-wide stride-1 kernels to conv2d_window.wgsl; this kernel serves the rest.
// For TM output channels, only TN gathered loads of x feed TM·TN FMAs per input channel.
// Loop order: taps (ky, kx) outside, input channels inside. The zero-padding masks depend only on
// the tap and the pixel, so they are computed once per tap and reused over all Cin channels.
// xv is the input as the convolution sees it: with up = 2 it is the nearest-neighbour 2× upsample of
// the stored x (xv[.., iy, ix] = x[.., iy/2, ix/2]), which fuses upsample + conv without a buffer.

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,             // x: [N, Cin, H, W] as stored
  Cout: u32, Ho: u32, Wo: u32, xblocks: u32,    // y: [N, Cout, Ho, Wo]; xblocks = ceil(Wo / TN)
  blocks: u32, KH: u32, KW: u32, STRIDE: u32,   // N·Ho·xblocks pixel blocks; the kernel's size; stride
  PAD: u32, up: u32, has_bias: u32, _p0: u32,   // zero padding on every side; 1, or 2 to read x upsampled 2×
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;      // [Cout, Cin, KH, KW]
@group(0) @binding(3) var<storage, read> bias: array<f32>;   // [Cout] (any buffer when has_bias is 0)
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

// Register-block sizes size private arrays, so they are `const`; conv2d.ts `specialize()`s them.
const TM: u32 = 4u;   // output channels per invocation
const TN: u32 = 4u;   // output pixels per invocation
override WG: u32 = 64u;         // invocations (pixel blocks) per workgroup

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let blk = gid.x + wid.z * nwg.x * WG;    // pixel block (grid split over x and z)
  let co0 = wid.y * TM;                    // uniform across the workgroup
  if (blk >= p.blocks || co0 >= p.Cout) { return; }
  let ox0 = (blk % p.xblocks) * TN;
  let row = blk / p.xblocks;               // n·Ho + oy
  let oy = row % p.Ho;
  let n = row / p.Ho;
  let Hv = i32(p.H * p.up);                // the convolved input's size
  let Wv = i32(p.W * p.up);
  let up_shift = p.up - 1u;                // virtual → stored coordinate: >> up_shift
  let KK = p.KH * p.KW;
  let plane = p.H * p.W;

  var acc: array<array<f32, TN>, TM>;
  var wrow: array<u32, TM>;                // w offset of each output channel (clamped in bounds)
  for (var i = 0u; i < TM; i++) {
    let co = min(co0 + i, p.Cout - 1u);
    wrow[i] = co * p.Cin * KK;
    let b = select(0.0, bias[co], p.has_bias != 0u);
    for (var j = 0u; j < TN; j++) { acc[i][j] = b; }
  }
  let xbase = n * p.Cin * plane;

  for (var ky = 0u; ky < p.KH; ky++) {
    let iy = i32(oy * p.STRIDE + ky) - i32(p.PAD);
    if (iy < 0 || iy >= Hv) { continue; }  // a padding row: contributes zero
    let xrow = xbase + (u32(iy) >> up_shift) * p.W;
    for (var kx = 0u; kx < p.KW; kx++) {
      // Per pixel: where its tap reads in channel 0, and whether that is inside the image.
      var xoff: array<u32, TN>;
      var ok: array<bool, TN>;
      for (var j = 0u; j < TN; j++) {
        let ix = i32((ox0 + j) * p.STRIDE + kx) - i32(p.PAD);
        ok[j] = ix >= 0 && ix < Wv && ox0 + j < p.Wo;
        xoff[j] = xrow + (u32(clamp(ix, 0, Wv - 1)) >> up_shift);
      }
      var woff = ky * p.KW + kx;
      var xc = 0u;
      for (var ci = 0u; ci < p.Cin; ci++) {
        var xv: array<f32, TN>;
        var wv: array<f32, TM>;
        for (var j = 0u; j < TN; j++) { xv[j] = select(0.0, x[xoff[j] + xc], ok[j]); }
        for (var i = 0u; i < TM; i++) { wv[i] = w[wrow[i] + woff]; }
        for (var i = 0u; i < TM; i++) {
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(wv[i], xv[j], acc[i][j]); }
        }
        xc += plane;
        woff += KK;
      }
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
