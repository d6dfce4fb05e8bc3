// A 4×4 stride-2 convolution (padding 1) written as a 3×3 "same" one over x's 2×2 space-to-depth
// (ops/conv2d-space-to-depth.ts: its forward pass and input gradient run that way on CPU adapters
// with subgroups): input row 2·oy − 1 + ky is row oy − 1 + dy of phase py
// of the half-size grid, with dy = (ky + 1) / 2 and py = (ky + 1) % 2 (the same for columns), so
//   W3[co, c·4 + py·2 + px, dy, dx] = w[co, c, 2·dy + py − 1, 2·dx + px − 1]   (0 where outside 0..3)
// 16 of each 36 taps of W3 are w's. w [Cout, Cin, 4, 4] → W3 [Cout, 4·Cin, 3, 3], one invocation per
// element of W3. (The space-to-depth itself: pixel_shuffle.wgsl.)

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
