// Stages a matmul's B [batch, K, N] (any strides, a batch of two levels as matmul_params.wgsl reads
// it) in an rgba32float texture array for matmul_subgroup.wgsl's matmul_b4_texture.wgsl: texel
// (x4, k) of layer b = columns 4·x4 .. 4·x4 + 3 of item b's k row, 0 past N. One invocation per texel.

struct Params {
  K: u32, N: u32, width: u32, b_off: u32,   // width = ⌈N / 4⌉ texels per row
  b_bs: u32, b_rs: u32, b_cs: u32, b_inner: u32,
  b_bs2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var BT: texture_storage_2d_array<rgba32float, write>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let x4 = g.x;
  let k = g.y;
  let b = g.z;
  if (x4 >= p.width || k >= p.K) { return; }
  let row = p.b_off + (b / p.b_inner) * p.b_bs + (b % p.b_inner) * p.b_bs2 + k * p.b_rs;
  var v = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) {
    let j = 4u * x4 + c;
    if (j < p.N) { v[c] = B[row + j * p.b_cs]; }
  }
  textureStore(BT, vec2<u32>(x4, k), b, v);
}
