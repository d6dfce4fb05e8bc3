// The 2×2 space-to-depth and back (ops/pixel-shuffle.ts: pixelUnshuffle(x, 2) and pixelShuffle(x, 2),
// and the 4×4 stride-2 convolutions of ops/conv2d-space-to-depth.ts), as their own kernels: the
// strided copy that the general permute makes walks every element's 6-D index (2.7 ms for the
// default tokenizer's [8, 128, 8, 8] on lavapipe).
//   space_to_depth: x [N, C, 2h, 2w] → xs [N, 4·C, h, w] (channel c·4 + py·2 + px = pixel (py, px)
//                   of each 2×2 patch), one invocation per row of x (w even)
//   depth_to_space: the inverse

override WG: u32 = 64u;

struct DParams {
  rows: u32, h: u32, w: u32, _p: u32,   // rows = N·C·2h: rows of x [N, C, 2h, 2w]
}

@group(0) @binding(0) var<uniform> d: DParams;
@group(0) @binding(1) var<storage, read> x_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> xs_out: array<f32>;
@group(0) @binding(1) var<storage, read> xs_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> x_out: array<vec4<f32>>;

// One invocation per row t = nc·2h + Y of x (nc = n·C + c), its w / 2 vec4s in a loop (no integer
// division per element: llvmpipe scalarises them). Vec4 X4 of the row holds pixels 4·X4 .. + 3, at
// x' = 2·X4 + j / 2 and phase px = j % 2: in xs at s0 + 2·X4 (px = 0) and one plane (h·w) further
// (px = 1), with s0 the row's start in its phase plane.
fn row_start(t: u32) -> u32 {
  let Y = t % (2u * d.h);
  let nc = t / (2u * d.h);                        // its 4 phase planes start at plane 4·nc
  return (4u * nc + (Y % 2u) * 2u) * d.h * d.w + (Y / 2u) * d.w;
}

@compute @workgroup_size(WG)
fn space_to_depth(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= d.rows) { return; }
  let s0 = row_start(t);
  let q = d.h * d.w;
  let w2 = d.w / 2u;
  for (var X4 = 0u; X4 < w2; X4++) {
    let v = x_in[t * w2 + X4];
    let s = s0 + 2u * X4;
    xs_out[s] = v.x;
    xs_out[s + q] = v.y;
    xs_out[s + 1u] = v.z;
    xs_out[s + q + 1u] = v.w;
  }
}

@compute @workgroup_size(WG)
fn depth_to_space(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= d.rows) { return; }
  let s0 = row_start(t);
  let q = d.h * d.w;
  let w2 = d.w / 2u;
  for (var X4 = 0u; X4 < w2; X4++) {
    let s = s0 + 2u * X4;
    x_out[t * w2 + X4] = vec4<f32>(xs_in[s], xs_in[s + q], xs_in[s + 1u], xs_in[s + q + 1u]);
  }
}
