// Weight gradient of the 3×3 "same" convolution (stride 1, padding 1) on rows of a multiple of 4
// pixels, for CPU adapters with subgroups; deterministic split-K as conv2d_grad_weight_vec4.wgsl:
//   dw[co, ci, ky, kx] = Σ_{n, oy, ox} g[n, co, oy, ox] · x[n, ci, oy - 1 + ky, ox - 1 + kx]
// Why: on llvmpipe every storage load is a bounds-checked scalar load per lane (a vec4 costs four),
// also where all lanes read the same address. In conv2d_grad_weight_vec4.wgsl the lanes of a
// workgroup span input-channel blocks of one output-channel block, so each loads the same 4 vec4s
// of g per 4 pixels: 8 vec4 loads per 192 FMAs. Here a subgroup of S lanes shares TM = S output
// channels: lane l loads the vec4 of g of channel co0 + l (its own 4 pixels of that row) and every
// lane takes channel i's 4 values from lane i by subgroupBroadcast; each lane owns TN input channels
// (all 3 taps of kernel row ky) and slides a vec4 window along their rows: per 4 pixels a lane loads
// 1 + TN vec4s for TM·TN·3·4 FMAs (5 per 384 at S = 8, TN = 4).
// With the bias (p.bias = 1), the subgroups of input-channel group 0 and the centre kernel row
// (which visits every output row) also sum g, lane l for its own channel co0 + l, written after the
// weights, so that the same row reduction sums both.
// Output: part [Cout·Cin·3·3 (+ Cout), splits], summed over splits by conv2d.ts in a fixed order.

enable subgroups;

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,                    // x [N, Cin, H, W], W % 4 = 0; g [N, Cout, H, W]
  Cout: u32, rows_per_split: u32, splits: u32, bias: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dw_part: array<f32>;   // [Cout·Cin·9 (+ Cout), splits]

// Template constants (launch.ts `specialize()`: they size the unrolled blocks).
const S: u32 = 8u;    // lanes per subgroup row = output channels per subgroup (TM)
const TN: u32 = 4u;   // input channels per lane

@compute @workgroup_size(S, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let ky = wid.z % 3u;
  let split = wid.z / 3u;
  let co0 = wid.y * S;
  let ci0 = (wid.x * S + lane) * TN;
  let W4 = p.W / 4u;
  let plane4 = p.H * W4;
  let gco = min(co0 + lane, p.Cout - 1u);   // the output channel whose g this lane loads

  // acc[i][j·3 + kx]: output channel co0 + i, input channel ci0 + j, tap (ky, kx)
  var acc: array<array<f32, TN * 3u>, S>;
  for (var i = 0u; i < S; i++) { for (var j = 0u; j < TN * 3u; j++) { acc[i][j] = 0.0; } }
  var bsum = 0.0;
  let r0 = split * p.rows_per_split;
  let r1 = min(p.N * p.H, r0 + p.rows_per_split);
  for (var r = r0; r < r1; r++) {
    let oy = r % p.H;
    let n = r / p.H;
    let iy = i32(oy + ky) - 1;
    if (iy < 0 || iy >= i32(p.H)) { continue; }   // the same for every lane
    let grow = (n * p.Cout + gco) * plane4 + oy * W4;
    var xrow: array<u32, TN>;
    for (var j = 0u; j < TN; j++) { xrow[j] = (n * p.Cin + min(ci0 + j, p.Cin - 1u)) * plane4 + u32(iy) * W4; }
    // The window of each input channel: prev = x[ox - 4, ox), cur = x[ox, ox + 4) (zero left of the row).
    var prev: array<vec4<f32>, TN>;
    var cur: array<vec4<f32>, TN>;
    for (var j = 0u; j < TN; j++) { prev[j] = vec4<f32>(0.0); cur[j] = x[xrow[j]]; }
    for (var o4 = 0u; o4 < W4; o4++) {
      let gv = g[grow + o4];
      bsum += dot(gv, vec4<f32>(1.0));
      let more = o4 + 1u < W4;
      // xs[j][e] = x[ci0 + j][ox - 4 + e], e in [3, 9): output pixel ox + t under tap kx reads xs[t + kx + 3]
      var xs: array<array<f32, 12>, TN>;
      for (var j = 0u; j < TN; j++) {
        let next = select(vec4<f32>(0.0), x[xrow[j] + min(o4 + 1u, W4 - 1u)], more);
        xs[j] = array<f32, 12>(prev[j].x, prev[j].y, prev[j].z, prev[j].w, cur[j].x, cur[j].y, cur[j].z, cur[j].w,
                               next.x, next.y, next.z, next.w);
        prev[j] = cur[j];
        cur[j] = next;
      }
      //#unroll I S
      {
        let gi = array<f32, 4>(subgroupBroadcast(gv.x, I), subgroupBroadcast(gv.y, I), subgroupBroadcast(gv.z, I), subgroupBroadcast(gv.w, I));
        for (var j = 0u; j < TN; j++) {
          for (var kx = 0u; kx < 3u; kx++) {
            var a = acc[I][j * 3u + kx];
            for (var t = 0u; t < 4u; t++) { a = fma(gi[t], xs[j][t + kx + 3u], a); }
            acc[I][j * 3u + kx] = a;
          }
        }
      }
      //#end I
    }
  }

  let weights = p.Cout * p.Cin * 9u;
  if (p.bias == 1u && wid.x == 0u && ky == 1u && co0 + lane < p.Cout) {
    dw_part[(weights + co0 + lane) * p.splits + split] = bsum;
  }
  for (var i = 0u; i < S; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    for (var j = 0u; j < TN; j++) {
      let ci = ci0 + j;
      if (ci >= p.Cin) { break; }
      for (var kx = 0u; kx < 3u; kx++) {
        dw_part[(((co * p.Cin + ci) * 3u + ky) * 3u + kx) * p.splits + split] = acc[i][j * 3u + kx];
      }
    }
  }
}
