// out = cond != 0 ? a : b, all three broadcast to the output shape (rank ≤ 8) through strides.

struct Params {
  n: u32, rank: u32, off_c: u32, off_a: u32,
  off_b: u32, _p0: u32, _p1: u32, _p2: u32,
  shape: array<vec4<u32>, 2>,
  sc: array<vec4<u32>, 2>,
  sa: array<vec4<u32>, 2>,
  sb: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> c: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

override WG: u32 = 64u;

fn dim(v: array<vec4<u32>, 2>, i: u32) -> u32 { return v[i / 4u][i % 4u]; }

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  var rem = i;
  var ic = p.off_c;
  var ia = p.off_a;
  var ib = p.off_b;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let k = u32(d);
    let size = dim(p.shape, k);
    let co = rem % size;
    rem = rem / size;
    ic += co * dim(p.sc, k);
    ia += co * dim(p.sa, k);
    ib += co * dim(p.sb, k);
  }
  out[i] = select(b[ib], a[ia], c[ic] != 0.0);
}
