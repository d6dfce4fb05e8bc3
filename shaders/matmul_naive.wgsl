// The naive peer of matmul.wgsl (bench only): one invocation per output element, dense row-major
// A: [M, K], B: [K, N] → C: [M, N], no blocking, no shared memory. What a first attempt looks like.

struct Params { M: u32, N: u32, K: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y;
  let j = gid.x;
  if (i >= p.M || j >= p.N) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) { s = fma(A[i * p.K + k], B[k * p.N + j], s); }
  C[i * p.N + j] = s;
}
