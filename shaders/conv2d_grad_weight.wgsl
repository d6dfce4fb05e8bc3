// 2-D convolution, gradient with respect to the weight (NCHW): a reduction over N·Ho·Wo, done as an
// implicit GEMM without atomics (deterministic):
//   dw[co, ci, ky, kx] = Σ_{n, oy, ox} g[n, co, oy, ox] · xv[n, ci, oy·S - P + ky, ox·S - P + kx]
// Each invocation owns TM output channels × TN input channels of one tap (ky, kx). A workgroup
// shares the tap (grid z), so the range of pixels whose tap lands inside the image is computed once
// and the inner loop over ox needs no padding masks at all.
// Split-K (to fill the device when Cout·Cin·KH·KW alone does not): split s of `splits` sums rows
// (n, oy) in [s·rows_per_split, (s+1)·rows_per_split) into dw_part [Cout, Cin, KH, KW, splits], whose
// rows conv2d.ts sums in a fixed order (a row reduction: the split index is innermost). xv: as in conv2d.wgsl (up = 2 reads x upsampled 2×).

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,                  // x: [N, Cin, H, W] as stored
  Cout: u32, Ho: u32, Wo: u32, rows_per_split: u32,  // g: [N, Cout, Ho, Wo]
  KH: u32, KW: u32, STRIDE: u32, PAD: u32,           // the kernel's size, stride, zero padding
  up: u32, ci_blocks: u32, splits: u32, _p0: u32,    // 1, or 2 to read x upsampled 2×; ceil(Cin / TN)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> dw_part: array<f32>;   // [Cout, Cin, KH, KW, splits]

const TM: u32 = 4u;   // output channels per invocation
const TN: u32 = 4u;   // input channels per invocation
override WG: u32 = 64u;    // invocations along channel-block pairs

/** The range [lo, hi) of output positions o with 0 ≤ o·S - P + k < size_v, within [0, n_out). */
fn valid_range(k: u32, size_v: u32, n_out: u32) -> vec2<i32> {
  let S = i32(p.STRIDE);
  let a = i32(p.PAD) - i32(k);                      // need o·S ≥ a
  let lo = select(0, (a + S - 1) / S, a > 0);
  let b = i32(size_v) - 1 + i32(p.PAD) - i32(k);    // need o·S ≤ b
  let hi = select(0, min(b / S + 1, i32(n_out)), b >= 0);
  return vec2<i32>(lo, max(hi, lo));
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let KK = p.KH * p.KW;
  let tap = wid.z % KK;
  let split = wid.z / KK;
  let ky = tap / p.KW;
  let kx = tap % p.KW;
  // Lanes span (output, input) channel-block pairs: small layers (Cin = 3 or 32 is 1 or 4 blocks)
  // still fill a SIMD vector.
  let ci0 = (gid.x % p.ci_blocks) * TN;
  let co0 = (gid.x / p.ci_blocks) * TM;
  if (co0 >= p.Cout) { return; }
  let plane = p.H * p.W;
  let gplane = p.Ho * p.Wo;
  let up_shift = p.up - 1u;                // virtual → stored coordinate
  let oxr = valid_range(kx, p.W * p.up, p.Wo);
  let oyr = valid_range(ky, p.H * p.up, p.Ho);

  var acc: array<array<f32, TN>, TM>;
  for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN; j++) { acc[i][j] = 0.0; } }
  let r0 = split * p.rows_per_split;
  let r1 = min(p.N * p.Ho, r0 + p.rows_per_split);
  for (var r = r0; r < r1; r++) {
    let oy = r % p.Ho;
    let n = r / p.Ho;
    if (i32(oy) < oyr.x || i32(oy) >= oyr.y) { continue; }
    let xr = ((oy * p.STRIDE + ky - p.PAD) >> up_shift) * p.W;
    var grow: array<u32, TM>;
    var xrow: array<u32, TN>;
    for (var i = 0u; i < TM; i++) { grow[i] = (n * p.Cout + min(co0 + i, p.Cout - 1u)) * gplane + oy * p.Wo; }
    for (var j = 0u; j < TN; j++) { xrow[j] = (n * p.Cin + min(ci0 + j, p.Cin - 1u)) * plane + xr; }
    for (var ox = u32(oxr.x); ox < u32(oxr.y); ox++) {
      let xi = (ox * p.STRIDE + kx - p.PAD) >> up_shift;
      var gv: array<f32, TM>;
      var xv: array<f32, TN>;
      for (var i = 0u; i < TM; i++) { gv[i] = g[grow[i] + ox]; }
      for (var j = 0u; j < TN; j++) { xv[j] = x[xrow[j] + xi]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i][j] = fma(gv[i], xv[j], acc[i][j]); }
      }
    }
  }

  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    for (var j = 0u; j < TN; j++) {
      let ci = ci0 + j;
      if (ci < p.Cin) { dw_part[(((co * p.Cin + ci) * KK + tap) * p.splits) + split] = acc[i][j]; }
    }
  }
}
