// conv2d_window.wgsl's row-window convolution (stride 1, kernel width KW) for rows whose width is a
// multiple of 4: the inputs are read, and the outputs written, as vec4s.
//   y[n, co, oy, ox] = bias[co] + Σ_{ci, ky, kx} wp[(ci·KH + ky)·KW + kx, co] · xv[n, ci, oy - P + ky, ox - P + kx]
// with xv = x, or x upsampled 2× (nearest) when UP = 2 (the decoder's fused upsample + conv).
// Why: on a CPU rasteriser (llvmpipe) a load whose address differs between invocations costs a
// bounds-checked scalar load per SIMD lane, and one vec4 load costs about as much as one float. An
// invocation's TN outputs need the TN + KW - 1 inputs x[ox0 - P ..]: conv2d_window.wgsl loads them
// one float at a time (10 loads for TN = 8); here the aligned vec4s covering xv[ox0 - 4·UP,
// ox0 + TN + 4·UP) are loaded (4 loads; 3 when upsampling, which halves the stored floats) and the
// taps index them at compile-time offsets (PAD and UP are template constants).
// A vec4 is either wholly inside the row or wholly padding, since W is a multiple of 4. Needs
// PAD ≤ 4 and KW - 1 - PAD ≤ 4 (conv2d.ts checks), Wo a multiple of 4, TN a multiple of 4·UP.

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,             // x: [N, Cin, H, W] as stored, W % 4 = 0
  Cout: u32, Ho: u32, Wo: u32, xblocks: u32,    // y: [N, Cout, Ho, Wo], Wo % 4 = 0; xblocks = ceil(Wo / TN)
  blocks: u32, KH: u32, _pad: u32, _up: u32,    // N·Ho·xblocks pixel blocks; kernel height (padding, up: template)
  has_bias: u32, cols4: u32, _p0: u32, _p1: u32,  // cols4 = (columns of wp) / 4
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> wp: array<vec4<f32>>;   // [Cin·KH·KW, cols] (cols = 4·cols4)
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // [Cout] (any buffer when has_bias is 0)
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

const TM: u32 = 8u;    // output channels per invocation (a multiple of 4)
const TN: u32 = 8u;    // output pixels per invocation (a multiple of 4)
const KW: u32 = 3u;    // kernel width
const PAD: u32 = 1u;   // zero padding (template constant: the taps' offsets into the window)
const UP: u32 = 1u;    // 1, or 2 to read x upsampled 2× (template constant)
const NV: u32 = TN / (4u * UP) + 2u;   // stored vec4s of the window: xv[ox0 - 4·UP, ox0 + TN + 4·UP)
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
  let W4 = p.W / 4u;
  let plane4 = p.H * W4;

  var acc: array<array<f32, TN>, TM>;
  for (var i = 0u; i < TM; i++) {
    let b = select(0.0, bias[min(co0 + i, p.Cout - 1u)], p.has_bias != 0u);
    for (var j = 0u; j < TN; j++) { acc[i][j] = b; }
  }
  let xbase = n * p.Cin * plane4;
  let wstep = p.KH * KW * p.cols4;         // vec4s from one input channel's taps to the next
  let v0 = i32(ox0 / (4u * UP)) - 1;       // the window's first stored vec4 column (-1 at the left edge)
  let Hv = i32(p.H * UP);

  for (var ky = 0u; ky < p.KH; ky++) {
    let iy = i32(oy + ky) - i32(PAD);
    let row_ok = iy >= 0 && iy < Hv;
    let xrow = xbase + (u32(clamp(iy, 0, Hv - 1)) / UP) * W4;
    var xoff: array<u32, NV>;
    var ok: array<bool, NV>;
    for (var v = 0u; v < NV; v++) {
      let c = v0 + i32(v);
      ok[v] = row_ok && c >= 0 && c < i32(W4);
      xoff[v] = xrow + u32(clamp(c, 0, i32(W4) - 1));
    }
    var woff = ky * KW * p.cols4 + co0 / 4u;
    var xc = 0u;
    for (var ci = 0u; ci < p.Cin; ci++) {
      // xv[e] = xv(.., ox0 - 4·UP + e): each stored float UP times
      var xv: array<f32, 4u * NV * UP>;
      for (var v = 0u; v < NV; v++) {
        let q = select(vec4<f32>(0.0), x[xoff[v] + xc], ok[v]);
        for (var u = 0u; u < UP; u++) {
          xv[UP * 4u * v + u] = q.x;
          xv[UP * (4u * v + 1u) + u] = q.y;
          xv[UP * (4u * v + 2u) + u] = q.z;
          xv[UP * (4u * v + 3u) + u] = q.w;
        }
      }
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
          for (var j = 0u; j < TN; j++) { acc[i][j] = fma(wv[i], xv[j + kx + 4u * UP - PAD], acc[i][j]); }
        }
      }
      xc += plane4;
      woff += wstep;
    }
  }

  let Wo4 = p.Wo / 4u;
  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    let ybase = ((n * p.Cout + co) * p.Ho + oy) * Wo4 + ox0 / 4u;
    for (var v = 0u; v < TN / 4u; v++) {
      if (ox0 + 4u * v < p.Wo) {
        y[ybase + v] = vec4<f32>(acc[i][4u * v], acc[i][4u * v + 1u], acc[i][4u * v + 2u], acc[i][4u * v + 3u]);
      }
    }
  }
}
