// Weight gradient of a "same" 3-wide convolution (stride 1, padding 1, no upsampling) on rows of a
// multiple of 4 floats, read as vec4s; deterministic split-K exactly as conv2d_grad_weight.wgsl:
//   dw[co, ci, ky, kx] = Σ_{n, oy, ox} g[n, co, oy, ox] · x[n, ci, oy - 1 + ky, ox - 1 + kx]
// Why a second kernel: on a CPU rasteriser (llvmpipe) every load whose address differs between
// invocations is a bounds-checked scalar load per SIMD lane, and a vec4 load costs about as much as a
// float. conv2d_grad_weight.wgsl owns one tap and loads TM + TN floats per TM·TN FMAs. Here an
// invocation owns all KW taps of one kernel row ky: per 4 output pixels it loads TM vec4s of g and
// TN new vec4s of x (the window x[ox - 4, ox + 8) slides: the previous two vec4s are kept) for
// TM·TN·KW·4 FMAs, 6× fewer loads per FMA at TM = TN = 4. A vec4 is wholly inside the row or wholly
// padding, since W is a multiple of 4.
// With the bias (p.bias = 1) the invocations of input-channel block 0 and the centre kernel row
// (which visits every output row) also sum g: db[co] = Σ_{n, oy, ox} g[n, co, oy, ox], written after
// the weights, so the same row reduction sums both and the op needs no separate bias pass.
// Output: part [Cout·Cin·KH·KW (+ Cout), splits], summed over splits by conv2d.ts in a fixed order.

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,                  // x: [N, Cin, H, W], W % 4 = 0
  Cout: u32, Ho: u32, Wo: u32, rows_per_split: u32,  // g: [N, Cout, Ho, Wo] with Ho = H, Wo = W
  KH: u32, ci_blocks: u32, splits: u32, bias: u32,   // kernel height (padding (KH - 1) / 2 … see conv2d.ts); ceil(Cin / TN); 1: also db
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dw_part: array<f32>;   // [Cout·Cin·KH·KW (+ Cout), splits]

const TM: u32 = 4u;   // output channels per invocation
const TN: u32 = 4u;   // input channels per invocation
const KW: u32 = 3u;   // kernel width (padding 1)
override WG: u32 = 8u;     // invocations along channel-block pairs

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let ky = wid.z % p.KH;
  let split = wid.z / p.KH;
  let ci0 = (gid.x % p.ci_blocks) * TN;
  let co0 = (gid.x / p.ci_blocks) * TM;
  if (co0 >= p.Cout) { return; }
  let W4 = p.W / 4u;
  let pad_y = (p.KH - 1u) / 2u;

  // acc[i][j·KW + kx]: output channel co0 + i, input channel ci0 + j, tap (ky, kx)
  var acc: array<array<f32, TN * KW>, TM>;
  for (var i = 0u; i < TM; i++) { for (var j = 0u; j < TN * KW; j++) { acc[i][j] = 0.0; } }
  let sums_bias = p.bias == 1u && ci0 == 0u && ky == pad_y;
  var bsum: array<f32, TM>;
  for (var i = 0u; i < TM; i++) { bsum[i] = 0.0; }
  let r0 = split * p.rows_per_split;
  let r1 = min(p.N * p.Ho, r0 + p.rows_per_split);
  for (var r = r0; r < r1; r++) {
    let oy = r % p.Ho;
    let n = r / p.Ho;
    let iy = i32(oy + ky) - i32(pad_y);
    if (iy < 0 || iy >= i32(p.H)) { continue; }   // the same for every lane: no divergence
    var grow: array<u32, TM>;
    var xrow: array<u32, TN>;
    for (var i = 0u; i < TM; i++) { grow[i] = ((n * p.Cout + min(co0 + i, p.Cout - 1u)) * p.Ho + oy) * W4; }
    for (var j = 0u; j < TN; j++) { xrow[j] = ((n * p.Cin + min(ci0 + j, p.Cin - 1u)) * p.H + u32(iy)) * W4; }
    // The window of each input channel: prev = x[ox - 4, ox), cur = x[ox, ox + 4) (zero left of the row).
    var prev: array<vec4<f32>, TN>;
    var cur: array<vec4<f32>, TN>;
    for (var j = 0u; j < TN; j++) { prev[j] = vec4<f32>(0.0); cur[j] = x[xrow[j]]; }
    for (var o4 = 0u; o4 < W4; o4++) {
      var gv: array<vec4<f32>, TM>;
      for (var i = 0u; i < TM; i++) { gv[i] = g[grow[i] + o4]; }
      if (sums_bias) { for (var i = 0u; i < TM; i++) { bsum[i] += dot(gv[i], vec4<f32>(1.0)); } }
      let more = o4 + 1u < W4;
      for (var j = 0u; j < TN; j++) {
        let next = select(vec4<f32>(0.0), x[xrow[j] + min(o4 + 1u, W4 - 1u)], more);
        // xs[e] = x[ox - 4 + e], e in [0, 12); output pixel ox + t under tap kx reads xs[t + kx + 3]
        let xs = array<f32, 12>(prev[j].x, prev[j].y, prev[j].z, prev[j].w, cur[j].x, cur[j].y, cur[j].z, cur[j].w,
                                next.x, next.y, next.z, next.w);
        for (var i = 0u; i < TM; i++) {
          let gi = array<f32, 4>(gv[i].x, gv[i].y, gv[i].z, gv[i].w);
          for (var kx = 0u; kx < KW; kx++) {
            var a = acc[i][j * KW + kx];
            for (var t = 0u; t < 4u; t++) { a = fma(gi[t], xs[t + kx + 3u], a); }
            acc[i][j * KW + kx] = a;
          }
        }
        prev[j] = cur[j];
        cur[j] = next;
      }
    }
  }

  let weights = p.Cout * p.Cin * p.KH * KW;
  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    if (sums_bias) { dw_part[(weights + co) * p.splits + split] = bsum[i]; }
    for (var j = 0u; j < TN; j++) {
      let ci = ci0 + j;
      if (ci >= p.Cin) { break; }
      for (var kx = 0u; kx < KW; kx++) {
        dw_part[(((co * p.Cin + ci) * p.KH + ky) * KW + kx) * p.splits + split] = acc[i][j * KW + kx];
      }
    }
  }
}
