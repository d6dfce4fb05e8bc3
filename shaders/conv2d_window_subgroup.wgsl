// The 3×3 "same" convolution (stride 1, padding 1) on rows of a multiple of 4 pixels, for CPU
// adapters with subgroups: the tokenizer's every 3×3 layer, forward and (kernel flipped, channels
// swapped) stride-1 input gradient.
//   y[n, co, oy, ox] = bias[co] + Σ_{ci, ky, kx} w[base + co·s_o + ci·s_c + ky·s_y + kx·s_x] · x[n, ci, oy - 1 + ky, ox - 1 + kx]
// The strides read the weights where they lie, with no packing pass: w [Cout, Cin, KH, 3] for the
// forward pass (base 0, s_o = Cin·KH·3, s_c = KH·3, s_y = 3, s_x = 1), and for the input gradient
// the original w [Cin, Cout, KH, 3] flipped with its channels swapped (base KH·3 - 1, s_o = KH·3,
// s_c = Cout·KH·3, s_y = -3, s_x = -1: u32 arithmetic wraps, so the sum is the index).
// Why: llvmpipe loads every storage float lane by lane (one bounds-checked scalar load per lane,
// a vec4 costing four), even where the address is the same for the whole subgroup, while a
// subgroup shuffle is one register instruction. conv2d_window_vec4.wgsl loads, per input channel
// and kernel row, 4 vec4s of x and 6 vec4s of weights (40 floats per lane for 192 FMAs). Here a
// subgroup of S lanes covers 4·S consecutive output pixels of the flattened (n, oy, ox) order, lane
// l the 4 pixels of one aligned vec4; per input channel and kernel row a lane loads its own vec4 of
// x, takes the pixels left and right of it from its neighbours by subgroupShuffleUp/Down, and
// loads TM·3/S of the TM·3 weights, which every lane takes by subgroupBroadcast: 4 + TM·3/S floats
// per lane (10 for TM = 16, S = 8) for TM·12 FMAs (192). TM (16, or 8 for thin outputs) and S come
// from ops/conv2d-subgroup.ts.
//
// Neighbours: lane l's left pixel (ox0 - 1) is lane l-1's last one when ox0 > 0 and l > 0; only
// lane 0 of a block that starts inside a row needs a load (and lane S-1 for the right pixel):
// EDGE, false where a row's 4-pixel groups divide S (rows of 4, 8, 16 or 32 pixels for S = 8),
// so that every block starts a row. The shuffles and broadcasts sit in loops whose bounds are
// uniform (the kernel row and the channel loop), as subgroup operations need.

enable subgroups;

struct Params {
  N: u32, Cin: u32, H: u32, W: u32,          // x [N, Cin, H, W] as stored, W % 4 = 0; y [N, Cout, H, W]
  Cout: u32, KH: u32, has_bias: u32, quads: u32,  // quads = N·H·W / 4: groups of 4 output pixels
  w_base: u32, s_o: u32, s_c: u32, s_y: u32, // where weight (co, ci, ky, kx) lies (header)
  s_x: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;       // [Cout] (any buffer when has_bias is 0)
@group(0) @binding(4) var<storage, read_write> y: array<vec4<f32>>;

// Template constants (launch.ts `specialize()`: they size the unrolled blocks).
const TM: u32 = 8u;    // output channels per subgroup (one vec4 accumulator each per lane)
const S: u32 = 8u;     // lanes per subgroup row (the adapter's smallest subgroup size)
const NW: u32 = 3u;    // TM·3/S: weights a lane loads per input channel and kernel row
override WGY: u32 = 1u;     // subgroups per workgroup, each another block of pixels
override EDGE: bool = true; // a block may start or end inside a row (lanes 0 and S-1 load a neighbour)

@compute @workgroup_size(S, WGY, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let quad = (wid.x * WGY + lid.y) * S + lane;
  let co0 = wid.y * TM;
  // Lanes past the last pixel compute a clamped copy (loads in bounds; nothing is stored), so that
  // every lane takes part in the shuffles.
  let q = min(quad, p.quads - 1u);
  let W4 = p.W / 4u;
  let ox4 = q % W4;                  // the lane's vec4 within its row
  let row = q / W4;                  // n·H + oy
  let oy = row % p.H;
  let n = row / p.H;
  let plane4 = p.H * W4;
  let hasLeft = ox4 > 0u;
  let hasRight = ox4 + 1u < W4;

  // The lane's share of a (ci, ky) slab's weights: j = lane + S·m is tap kx = j / TM, channel j % TM.
  var woff: array<u32, NW>;
  for (var m = 0u; m < NW; m++) {
    let j = lane + S * m;
    woff[m] = p.w_base + (j / TM) * p.s_x + min(co0 + j % TM, p.Cout - 1u) * p.s_o;
  }
  var acc: array<vec4<f32>, TM>;
  for (var i = 0u; i < TM; i++) {
    acc[i] = vec4<f32>(select(0.0, bias[min(co0 + i, p.Cout - 1u)], p.has_bias != 0u));
  }

  for (var ky = 0u; ky < p.KH; ky++) {
    let iy = i32(oy + ky) - 1;
    let ok = iy >= 0 && iy < i32(p.H);
    var xi = n * p.Cin * plane4 + u32(clamp(iy, 0, i32(p.H) - 1)) * W4 + ox4;
    var wrow = ky * p.s_y;
    for (var ci = 0u; ci < p.Cin; ci++) {
      let v = select(vec4<f32>(0.0), x[xi], ok);
      var left = subgroupShuffleUp(v.w, 1u);
      var right = subgroupShuffleDown(v.x, 1u);
      if (EDGE) {
        if (lane == 0u && hasLeft) { left = select(0.0, x[xi - 1u].w, ok); }
        if (lane == S - 1u && hasRight) { right = select(0.0, x[xi + 1u].x, ok); }
      }
      let t0 = vec4<f32>(select(0.0, left, hasLeft), v.x, v.y, v.z);    // tap kx = 0: pixels ox - 1
      let t2 = vec4<f32>(v.y, v.z, v.w, select(0.0, right, hasRight));  // tap kx = 2: pixels ox + 1
      var wv: array<f32, NW>;
      //#unroll M NW
      wv[M] = w[wrow + woff[M]];
      //#end M
      //#unroll I TM
      acc[I] = fma(vec4<f32>(subgroupBroadcast(wv[I / S], I % S)), t0, acc[I]);
      acc[I] = fma(vec4<f32>(subgroupBroadcast(wv[(TM + I) / S], (TM + I) % S)), v, acc[I]);
      acc[I] = fma(vec4<f32>(subgroupBroadcast(wv[(2u * TM + I) / S], (2u * TM + I) % S)), t2, acc[I]);
      //#end I
      xi += plane4;
      wrow += p.s_c;
    }
  }

  if (quad >= p.quads) { return; }
  for (var i = 0u; i < TM; i++) {
    let co = co0 + i;
    if (co >= p.Cout) { break; }
    y[((n * p.Cout + co) * p.H + oy) * W4 + ox4] = acc[i];
  }
}
