// Nearest-neighbour 2× upsampling of NCHW planes and its gradient, one invocation per output element.
//   forward:  y[plane, oy, ox] = x[plane, oy / 2, ox / 2]            y: [planes, 2H, 2W]
//   backward: dx[plane, iy, ix] = Σ_{dy, dx < 2} g[plane, 2iy + dy, 2ix + dx]

struct Params {
  total: u32, H: u32, W: u32, _p0: u32,   // total = elements written; H, W: the small (input) size
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  let W2 = 2u * p.W;
  let ox = idx % W2;
  let oy = (idx / W2) % (2u * p.H);
  let plane = idx / (W2 * 2u * p.H);
  dst[idx] = src[(plane * p.H + oy / 2u) * p.W + ox / 2u];
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  let ix = idx % p.W;
  let iy = (idx / p.W) % p.H;
  let plane = idx / (p.W * p.H);
  let W2 = 2u * p.W;
  let top = (plane * 2u * p.H + 2u * iy) * W2 + 2u * ix;
  dst[idx] = (src[top] + src[top + 1u]) + (src[top + W2] + src[top + W2 + 1u]);
}
