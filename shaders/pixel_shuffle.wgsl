// The 2×2 space-to-depth and back (ops/pixel-shuffle.ts: pixelUnshuffle(x, 2) and pixelShuffle(x, 2),
// and the 4×4 stride-2 convolutions of ops/conv2d-space-to-depth.ts), as their own kernels: the
// strided copy that the general permute makes walks every element's 6-D index (2.7 ms for the
// default tokenizer's [8, 128, 8, 8] on lavapipe).
//   TO_DEPTH true:  x [N, C, 2h, 2w] → xs [N, 4·C, h, w] (channel c·4 + py·2 + px = pixel (py, px)
//                   of each 2×2 patch), one invocation per row of x (w even)
//   TO_DEPTH false: the inverse

override WG: u32 = 64u;

struct Params {
  rows: u32, h: u32, w: u32, _p: u32,   // rows = N·C·2h: rows of x [N, C, 2h, 2w]
}

// Both read_write: which one is written depends on TO_DEPTH (one entry point, so one binding each).
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<vec4<f32>>;   // [N, C, 2h, 2w]
@group(0) @binding(2) var<storage, read_write> xs: array<f32>;        // [N, 4·C, h, w]

override TO_DEPTH: bool = true;   // true: space_to_depth (x → xs); false: depth_to_space (xs → x)

// One invocation per row t = nc·2h + Y of x (nc = n·C + c), its w / 2 vec4s in a loop (no integer
// division per element: llvmpipe scalarises them). Vec4 X4 of the row holds pixels 4·X4 .. + 3, at
// x' = 2·X4 + j / 2 and phase px = j % 2: in xs at s0 + 2·X4 (px = 0) and one plane (h·w) further
// (px = 1), with s0 the row's start in its phase plane.
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.rows) { return; }
  let Y = t % (2u * p.h);
  let nc = t / (2u * p.h);                        // its 4 phase planes start at plane 4·nc
  let q = p.h * p.w;
  let s0 = (4u * nc + (Y % 2u) * 2u) * q + (Y / 2u) * p.w;
  let w2 = p.w / 2u;
  for (var X4 = 0u; X4 < w2; X4++) {
    let s = s0 + 2u * X4;
    if (TO_DEPTH) {
      let v = x[t * w2 + X4];
      xs[s] = v.x;
      xs[s + q] = v.y;
      xs[s + 1u] = v.z;
      xs[s + q + 1u] = v.w;
    } else {
      x[t * w2 + X4] = vec4<f32>(xs[s], xs[s + q], xs[s + 1u], xs[s + q + 1u]);
    }
  }
}
