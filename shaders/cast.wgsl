// Dtype conversion of a dense tensor, element by element. Both buffers are u32 words so that
// integers never pass through float registers (small i32 values are f32 denormals).
//   TO_INT = true:  f32 → i32, rounding toward zero; out-of-range values saturate (WGSL's float→int
//                   conversion) to [-2^31, 2^31 - 128], the f32 range inside i32; NaN is unspecified.
//   TO_INT = false: i32 → f32, rounding to nearest (exact below 2^24 in magnitude).

struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;

override TO_INT: bool = true;
override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let v = x[i];
  if (TO_INT) {
    y[i] = bitcast<u32>(i32(bitcast<f32>(v)));
  } else {
    y[i] = bitcast<u32>(f32(bitcast<i32>(v)));
  }
}
