// Row gather: out[n, :] = E[index[n], :] (the quantised vectors of a VQ layer).
//   E: [K, D], index: [N] (i32)  →  out: [N, D]. One invocation per output element; an index
// outside [0, K) yields a zero row (its backward, codebook_stats.wgsl, ignores it likewise).

struct Params { N: u32, K: u32, D: u32, _p: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> E: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N * p.D) { return; }
  let n = i / p.D;
  let k = u32(index[n]);   // negative indices wrap to huge values and fail the bound check
  var v = 0.0;
  if (k < p.K) { v = E[k * p.D + i % p.D]; }
  out[i] = v;
}
