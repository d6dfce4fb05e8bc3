// A 4×4 stride-2 convolution (padding 1) written as a 3×3 "same" one over x's 2×2 space-to-depth
// (ops/conv2d-space-to-depth.ts: its forward pass and input gradient run that way on CPU adapters
// with subgroups): input row 2·oy − 1 + ky is row oy − 1 + dy of phase py
// of the half-size grid, with dy = (ky + 1) / 2 and py = (ky + 1) % 2 (the same for columns), so
//   W3[co, c·4 + py·2 + px, dy, dx] = w[co, c, 2·dy + py − 1, 2·dx + px − 1]   (0 where outside 0..3)
// 16 of each 36 taps of W3 are w's.
//   main:           w [Cout, Cin, 4, 4] → W3 [Cout, 4·Cin, 3, 3], one invocation per element of W3
//   space_to_depth: x [N, C, 2h, 2w] → xs [N, 4·C, h, w] (channel c·4 + py·2 + px = pixel (py, px)
//                   of each 2×2 patch), one invocation per vec4 of x (w even)
//   depth_to_space: the inverse (the 3×3 layer's input gradient back to x's layout)

struct Params {
  Cout: u32, Cin: u32, total: u32, _p: u32,   // total = Cout·4Cin·9
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> w3: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.total) { return; }
  // t = ((co·4Cin + c·4 + py·2 + px)·3 + dy)·3 + dx
  let dx = t % 3u;
  let dy = (t / 3u) % 3u;
  let ch = t / 9u;
  let px = ch % 2u;
  let py = (ch / 2u) % 2u;
  let ky = i32(2u * dy + py) - 1;
  let kx = i32(2u * dx + px) - 1;
  var v = 0.0;
  if (ky >= 0 && ky < 4 && kx >= 0 && kx < 4) {
    v = w[((ch / 4u) * 4u + u32(ky)) * 4u + u32(kx)];   // ch / 4 = co·Cin + c
  }
  w3[t] = v;
}

struct DParams {
  total4: u32, h: u32, w: u32, _p: u32,   // total4 = N·C·2h·2w / 4: vec4s of x
}

@group(0) @binding(0) var<uniform> d: DParams;
@group(0) @binding(1) var<storage, read> x_in: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> xs_out: array<f32>;
@group(0) @binding(1) var<storage, read> xs_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> x_out: array<vec4<f32>>;

// Where vec4 t of x [N, C, 2h, 2w] lies in xs: t = (nc·2h + Y)·(w / 2) + X4 holds pixels 4·X4 .. + 3
// of row Y, at x' = 2·X4 + j / 2 and phase px = j % 2; returns the offset of (px 0, x' = 2·X4) in xs,
// its phase px = 1 one plane (h·w) further.
fn phase_offset(t: u32) -> u32 {
  let X4 = t % (d.w / 2u);
  let Y = (t / (d.w / 2u)) % (2u * d.h);
  let nc = t / ((d.w / 2u) * 2u * d.h);          // n·C + c: its 4 phase planes start at plane 4·nc
  return (4u * nc + (Y % 2u) * 2u) * d.h * d.w + (Y / 2u) * d.w + 2u * X4;
}

@compute @workgroup_size(WG)
fn space_to_depth(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= d.total4) { return; }
  let s0 = phase_offset(t);
  let s1 = s0 + d.h * d.w;
  let v = x_in[t];
  xs_out[s0] = v.x;
  xs_out[s1] = v.y;
  xs_out[s0 + 1u] = v.z;
  xs_out[s1 + 1u] = v.w;
}

@compute @workgroup_size(WG)
fn depth_to_space(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= d.total4) { return; }
  let s0 = phase_offset(t);
  let s1 = s0 + d.h * d.w;
  x_out[t] = vec4<f32>(xs_in[s0], xs_in[s1], xs_in[s0 + 1u], xs_in[s1 + 1u]);
}
